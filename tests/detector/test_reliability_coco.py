"""Issue 18: no COCO file a user opens can crash, hang or silently change data.

Every case the fuzzer found has a test here: each loads into a flagged dataset or is refused
with AnnotationError naming the file and the location, and a loaded dataset saves again.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from detector.data.masks import decode_rle_counts, polygons_fit, rle_counts_array
from detector.errors import AnnotationError
from detector.formats.coco import load_coco, save_coco
from detector.io.limits import MAX_RLE_CHARS


def base_doc() -> dict:
    return {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 80}],
        "categories": [{"id": 1, "name": "cat"}],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "bbox": [10, 10, 20, 20],
                "segmentation": [[10, 10, 30, 10, 30, 30, 10, 30]],
                "iscrowd": 0,
            }
        ],
    }


def write(tmp_path, text: str | bytes):
    path = tmp_path / "annotations.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def load_and_save(tmp_path, doc: dict):
    """Load ``doc`` from a file, then save it again: both must work."""
    dataset = load_coco(write(tmp_path, json.dumps(doc)))
    out = save_coco(dataset, tmp_path / "saved.json", backup=False)
    json.loads(out.read_text(encoding="utf-8"))
    return dataset


def kinds(dataset) -> set[str]:
    return {issue.kind for issue in dataset.issues}


def test_integer_past_the_digit_limit_is_refused_with_line_and_column(tmp_path):
    text = '{"images": [],\n "annotations": [{"id": ' + "7" * 5000 + "}]}"
    with pytest.raises(AnnotationError) as info:
        load_coco(write(tmp_path, text))
    assert info.value.location == "line 2, column 25"
    assert "too long" in info.value.message
    assert info.value.file.endswith("annotations.json")


@pytest.mark.parametrize("field", ["bbox", "score"])
def test_integers_beyond_float_range_do_not_overflow(tmp_path, field):
    doc = base_doc()
    huge = 10**400  # >= 1e309: float() of it raises OverflowError
    if field == "bbox":
        doc["annotations"][0]["bbox"] = [huge, 1, 2, 3]
    else:
        doc["annotations"][0]["score"] = huge
    dataset = load_and_save(tmp_path, doc)
    if field == "bbox":  # the polygon gives the box
        assert "box_from_mask" in kinds(dataset)
        assert dataset.objects[1].box == (10.0, 10.0, 30.0, 30.0)
    else:
        assert dataset.objects[1].score is None


def test_huge_integer_in_a_polygon_makes_the_mask_unusable_not_a_crash(tmp_path):
    doc = base_doc()
    doc["annotations"][0]["segmentation"] = [[10**400, 10, 30, 10, 30, 30]]
    dataset = load_and_save(tmp_path, doc)
    assert dataset.objects[1].mask is None
    assert "bad_mask" in kinds(dataset)


def test_float_literal_1e309_is_a_bad_box_not_an_error(tmp_path):
    text = json.dumps(base_doc()).replace('"bbox": [10, 10, 20, 20]', '"bbox": [1e309, 0, 1, 1]')
    text = text.replace('"segmentation": [[10, 10, 30, 10, 30, 30, 10, 30]]', '"segmentation": []')
    dataset = load_coco(write(tmp_path, text))
    assert "bad_box" in kinds(dataset)
    assert not dataset.objects


@pytest.mark.parametrize("what", ["image id", "category id"])
def test_ids_beyond_int64_are_refused_with_the_location(tmp_path, what):
    doc = base_doc()
    if what == "image id":
        doc["images"][0]["id"] = 2**70
    else:
        doc["categories"][0]["id"] = -(2**70)
    with pytest.raises(AnnotationError, match="64-bit integer") as info:
        load_coco(write(tmp_path, json.dumps(doc)))
    assert info.value.location in ("images[0]", "categories[0]")


def test_annotation_category_id_beyond_int64_becomes_unknown_category(tmp_path):
    doc = base_doc()
    doc["annotations"][0]["category_id"] = 10**30
    dataset = load_and_save(tmp_path, doc)
    assert dataset.objects[1].category_id == -1
    assert "unknown_category" in kinds(dataset)


def test_uncompressed_rle_counts_past_2_32_are_flagged(tmp_path):
    doc = base_doc()
    doc["annotations"][0]["segmentation"] = {"size": [80, 100], "counts": [2**32, 8000 - 2**32]}
    doc["annotations"][0]["iscrowd"] = 1
    dataset = load_and_save(tmp_path, doc)
    assert dataset.objects[1].mask is None
    assert "bad_mask" in kinds(dataset)


def test_declared_size_beyond_the_pixel_budget_is_flagged_and_polygons_stay_safe(tmp_path):
    doc = base_doc()
    doc["images"][0].update(width=1e300, height=80)
    dataset = load_and_save(tmp_path, doc)
    assert "bad_size" in kinds(dataset)
    assert dataset.images[1].width == 0  # unknown: the file a.jpg is not there


def test_multi_part_polygon_on_a_100000_square_image_never_reaches_pycocotools(tmp_path):
    doc = base_doc()
    doc["images"][0].update(width=100000, height=100000)
    doc["annotations"][0]["segmentation"] = [
        [0, 0, 99999, 0, 99999, 99999, 0, 99999],
        [10, 10, 50000, 10, 50000, 50000],
    ]
    dataset = load_and_save(tmp_path, doc)  # before the fix: a segfault in the save
    assert "bad_size" in kinds(dataset)


def test_polygon_far_outside_the_image_is_kept_but_unused(tmp_path):
    doc = base_doc()
    doc["annotations"][0]["segmentation"] = [[0, 0, 1e12, 0, 1e12, 1e12, 0, 50]]
    dataset = load_and_save(tmp_path, doc)
    assert dataset.objects[1].mask is None
    assert dataset.objects[1].extra["segmentation"] == doc["annotations"][0]["segmentation"]
    saved = json.loads((tmp_path / "saved.json").read_text())
    assert saved["annotations"][0]["segmentation"] == doc["annotations"][0]["segmentation"]


def test_polygon_with_a_huge_perimeter_is_refused_by_the_budget():
    zigzag = [v for i in range(200) for v in (0.0, 0.0) if i % 2 == 0] + [0.0] * 4
    assert polygons_fit([[0, 0, 10, 0, 10, 10]], 20, 20)
    big = [c for i in range(400) for c in ((0, 0) if i % 2 else (60000, 60000))]
    assert not polygons_fit([big], 60000, 60000)  # 200 edges of 60000 px: 12 M > 4 M
    assert polygons_fit([zigzag], 10, 10)


def test_box_far_outside_the_image_is_clipped_to_the_margin_and_flagged(tmp_path):
    doc = base_doc()
    doc["annotations"][0]["bbox"] = [-1e12, 10, 2e12, 20]
    dataset = load_and_save(tmp_path, doc)
    assert dataset.objects[1].box == (-100.0, 10.0, 200.0, 30.0)
    assert {"box_clipped", "box_outside"} <= kinds(dataset)


def test_lone_surrogate_is_refused_at_load_with_the_location(tmp_path):
    text = json.dumps(base_doc()).replace('"cat"', '"c\\ud800t"')
    with pytest.raises(AnnotationError, match="surrogate") as info:
        load_coco(write(tmp_path, text))
    assert info.value.location.startswith("line 1, column ")


def test_surrogate_pairs_and_escaped_backslashes_still_load(tmp_path):
    text = json.dumps(base_doc()).replace('"cat"', '"\\ud83d\\ude00 \\\\ud800"')
    dataset = load_and_save(tmp_path, json.loads(text))
    assert dataset.categories[1].name == "\U0001f600 \\ud800"


def test_file_name_longer_than_255_bytes_is_refused_clearly(tmp_path):
    doc = base_doc()
    doc["images"][0]["file_name"] = "é" * 200 + ".jpg"  # 404 bytes
    with pytest.raises(AnnotationError, match="255") as info:
        load_coco(write(tmp_path, json.dumps(doc)))
    assert info.value.location == "images[0]"


def test_file_name_with_nul_is_refused(tmp_path):
    doc = base_doc()
    doc["images"][0]["file_name"] = "a\x00.jpg"
    with pytest.raises(AnnotationError, match="NUL"):
        load_coco(write(tmp_path, json.dumps(doc)))


def test_deep_nesting_is_refused_with_a_location(tmp_path):
    text = '{"images": [], "x": ' + "[" * 100000 + "]" * 100000 + "}"
    with pytest.raises(AnnotationError, match="nested too deeply") as info:
        load_coco(write(tmp_path, text))
    assert info.value.location.startswith("line 1, column ")


def test_kept_value_nested_past_the_limit_is_refused(tmp_path):
    doc = base_doc()
    nested: list = []
    for _ in range(200):
        nested = [nested]
    doc["annotations"][0]["attributes"] = nested
    with pytest.raises(AnnotationError, match="levels deep") as info:
        load_coco(write(tmp_path, json.dumps(doc)))
    assert info.value.location == "annotations[0]"


def test_not_utf8_is_refused(tmp_path):
    with pytest.raises(AnnotationError, match="UTF-8"):
        load_coco(write(tmp_path, b'{"images": ["\xff\xfe"]}'))


def test_oversized_rle_string_is_refused_before_decoding(tmp_path):
    doc = base_doc()
    counts = "0" * (MAX_RLE_CHARS + 1)
    doc["annotations"][0]["segmentation"] = {"size": [80, 100], "counts": counts}
    dataset = load_and_save(tmp_path, doc)
    assert dataset.objects[1].mask is None
    assert "bad_mask" in kinds(dataset)


@pytest.mark.parametrize("counts", ["0a", "\x7f1", "1P", "PPPPPPP0", "38"])
def test_malformed_rle_strings_never_reach_pycocotools(tmp_path, counts):
    doc = base_doc()
    doc["annotations"][0]["segmentation"] = {"size": [80, 100], "counts": counts}
    dataset = load_and_save(tmp_path, doc)
    assert dataset.objects[1].mask is None


def test_rle_decoding_matches_pycocotools():
    rng = np.random.default_rng(3)
    for _ in range(100):
        mask = (rng.random(tuple(rng.integers(1, 40, 2))) > rng.random()).astype(np.uint8)
        rle = mask_utils.encode(np.asfortranarray(mask))
        runs = rle_counts_array(rle["counts"].decode("ascii"))
        assert int(runs.sum()) == mask.size
        assert int(runs[1::2].sum()) == int(mask_utils.area(rle))
        flat = np.repeat(np.arange(len(runs)) % 2, runs).astype(np.uint8)
        assert np.array_equal(flat.reshape(mask.shape[::-1]).T, mask)
    assert decode_rle_counts("x") is None


def test_float_next_to_a_huge_integer_does_not_overflow_the_sum(tmp_path):
    """Found by the fuzzer: ``sum([1.5, 10**400])`` raises OverflowError."""
    doc = base_doc()
    doc["annotations"][0]["bbox"] = [1.5, 10**400, 2, 3]
    doc["annotations"][0]["segmentation"] = [[1.5, 10**400, 30, 10, 30, 30]]
    dataset = load_and_save(tmp_path, doc)
    assert "bad_box" in kinds(dataset) and not dataset.objects


@pytest.mark.parametrize(
    "text",
    [
        '{"images": [{"id": 1, "width": 640.5, "file_name": "caf\\u00e9 \\ud83d\\ude00.jpg"}]}',
        '\ufeff{"a": [1, -0.0, 2.5e3, 1e-7, 0.1, 5e-324, true, false, null], "a": "last"}',
        '{"id": 123456789012345678901234567890}',  # past 64 bits: exact int, not a float
        '{"id": 18446744073709551615, "other": -9223372036854775808}',  # the 64-bit edges
        "[NaN, Infinity, -Infinity, 1e400]",  # Python's json accepts these; kept
        "[" * 900 + "]" * 900,
    ],
)
def test_the_fast_parser_gives_what_json_gives(text):
    """COCO files go through orjson (faster) only when it equals json.loads: same values,
    same types (a 30-digit id stays an int), and json's own handling of the rest."""
    from detector.io.documents import parse_json

    data = text.encode("utf-8")
    expected = json.loads(text.lstrip("\ufeff"))
    found = parse_json(data)
    assert repr(found) == repr(expected)  # repr: types, -0.0 and NaN compared too


def test_the_fast_parser_is_used_for_ordinary_files(monkeypatch):
    from detector.io import documents

    monkeypatch.setattr(documents.json, "loads", lambda *_a, **_k: pytest.fail("json.loads"))
    assert documents.parse_json(b'{"images": [{"id": 1}], "annotations": []}') == {
        "images": [{"id": 1}],
        "annotations": [],
    }
