"""COCO import/export: exporter quirks, round trips, pycocotools, errors never tracebacks."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.data.dataset import Annotation
from detector.errors import AnnotationError
from detector.formats.coco import (
    from_coco_dict,
    load_coco,
    rle_from_binary_mask,
    save_coco,
    to_coco_dict,
)


def exporter_doc() -> dict:
    """Shapes popular exporters write: 0-based sparse unsorted ids, RLE, empty segmentation."""
    return {
        "info": {"description": "from a tool", "year": 2024},
        "licenses": [{"id": 1, "name": "CC-BY"}],
        "images": [
            {"id": 0, "file_name": "a.jpg", "width": 100, "height": 80, "license": 1},
            {"id": 7, "file_name": "sub/b.jpg", "width": 60, "height": 40},
            {"id": 3, "file_name": "empty.jpg", "width": 10, "height": 10},
        ],
        "categories": [
            {"id": 9, "name": "dog", "supercategory": "animal"},
            {"id": 0, "name": "cat", "supercategory": "animal"},
        ],
        "annotations": [
            {
                "id": 0,
                "image_id": 0,
                "category_id": 0,
                "bbox": [10, 10, 20, 30],
                "area": 1,
                "segmentation": [[10, 10, 30, 10, 30, 40, 10, 40]],
                "iscrowd": 0,
                "attributes": {"occluded": True},
            },
            {
                "id": 5,
                "image_id": 0,
                "category_id": 9,
                "bbox": [50.5, 5.25, 10, 10],
                "segmentation": [],
                "iscrowd": 0,
            },
            {
                "id": 6,
                "image_id": 7,
                "category_id": 9,
                "bbox": [0, 0, 30, 20],
                "iscrowd": 1,
                "segmentation": {"size": [40, 60], "counts": [0, 20, 20, 20, 20, 20, 2300]},
            },
            {
                "id": 8,
                "image_id": 7,
                "category_id": 0,
                "bbox": [1, 1, 2, 2],
                "iscrowd": 0,
                "segmentation": rle_from_binary_mask(_square_mask(40, 60, 1, 1, 2)),
            },
        ],
    }


def _square_mask(height: int, width: int, x: int, y: int, size: int) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    mask[y : y + size, x : x + size] = 1
    return mask


def signature(dataset) -> tuple:
    objects = sorted(
        (
            a.id,
            a.image_id,
            a.category_id,
            tuple(round(v, 9) for v in a.box),
            json.dumps(a.mask),
            a.iscrowd,
            a.source,
            a.score,
            json.dumps(a.extra, sort_keys=True),
        )
        for a in dataset.objects.values()
    )
    images = [
        (r.id, r.file_name, r.width, r.height, r.verified, json.dumps(r.extra))
        for r in dataset.images.values()
    ]
    categories = sorted(
        (c.id, c.name, c.color, json.dumps(c.extra)) for c in dataset.categories.values()
    )
    return images, categories, objects, json.dumps(dataset.extra, sort_keys=True)


def test_exporter_shapes_load_with_ids_masks_and_extras_kept():
    dataset = from_coco_dict(exporter_doc())
    assert set(dataset.categories) == {0, 9} and set(dataset.objects) == {0, 5, 6, 8}
    assert dataset.objects[0].box == (10.0, 10.0, 30.0, 40.0)
    assert dataset.objects[5].mask is None and dataset.objects[6].iscrowd
    assert dataset.objects[0].extra == {"attributes": {"occluded": True}}
    assert dataset.objects_in(3) == [] and dataset.images[0].extra == {"license": 1}
    assert dataset.extra["info"]["year"] == 2024 and dataset.issues == []


def test_import_export_import_gives_the_same_dataset():
    first = from_coco_dict(exporter_doc())
    second = from_coco_dict(json.loads(json.dumps(to_coco_dict(first))))
    assert signature(second) == signature(first)


def test_export_areas_ids_and_bbox_convention():
    out = to_coco_dict(from_coco_dict(exporter_doc()))
    by_id = {a["id"]: a for a in out["annotations"]}
    assert by_id[0]["area"] == 600.0  # from the polygon, not the wrong "area": 1 of the source
    assert by_id[5]["area"] == 100.0 and by_id[5]["bbox"] == [50.5, 5.25, 10.0, 10.0]
    assert by_id[6]["area"] == 60.0  # uncompressed crowd RLE: runs of 20 ones, 3 times
    assert by_id[8]["area"] == 4.0
    assert [c["id"] for c in out["categories"]] == [9, 0]
    assert len({a["id"] for a in out["annotations"]}) == len(out["annotations"])


def test_written_file_loads_in_pycocotools_with_the_same_boxes(tmp_path):
    from pycocotools.coco import COCO

    dataset = from_coco_dict(exporter_doc())
    path = save_coco(dataset, tmp_path / "out.json")
    coco = COCO(str(path))
    for object_id, obj in dataset.objects.items():
        x, y, w, h = coco.anns[object_id]["bbox"]
        assert np.allclose((x, y, x + w, y + h), obj.box)
        if obj.mask is None:  # box-only objects are written with "segmentation": []
            continue
        assert coco.annToMask(coco.anns[object_id]).shape == (
            dataset.images[obj.image_id].height,
            dataset.images[obj.image_id].width,
        )
    assert sorted(coco.getCatIds()) == [0, 9] and sorted(coco.getImgIds()) == [0, 3, 7]


def test_written_file_loads_in_faster_coco_eval(tmp_path):
    faster = pytest.importorskip("faster_coco_eval")
    path = save_coco(from_coco_dict(exporter_doc()), tmp_path / "out.json")
    assert len(faster.COCO(str(path)).getAnnIds()) == 4


def test_model_masks_are_rle_and_scores_kept():
    dataset = from_coco_dict(exporter_doc())
    rle = rle_from_binary_mask(_square_mask(80, 100, 5, 5, 4))
    dataset.add_object_record(
        Annotation(
            id=99,
            image_id=0,
            category_id=0,
            box=(5.0, 5.0, 9.0, 9.0),
            mask=rle,
            source="model",
            score=0.75,
        )
    )
    written = {a["id"]: a for a in to_coco_dict(dataset)["annotations"]}[99]
    assert isinstance(written["segmentation"]["counts"], str) and written["area"] == 16.0
    assert (written["source"], written["score"]) == ("model", 0.75)


@pytest.mark.parametrize(
    "mutate, kind",
    [
        (lambda d: d["annotations"][1].update(bbox=[95, 70, 20, 20]), "box_outside"),
        (lambda d: d["annotations"][1].update(bbox=[5, 5, 0, -3]), "box_empty"),
        (lambda d: d["annotations"][1].update(category_id=42), "unknown_category"),
        (lambda d: d["annotations"][1].update(id=0), "duplicate_id"),
        (lambda d: d["annotations"][1].update(image_id=1234), "orphan"),
        (lambda d: d["annotations"][1].update(bbox="oops"), "bad_box"),
        (lambda d: d["annotations"][1].update(segmentation=[[1, 2]]), "bad_mask"),
    ],
)
def test_data_problems_are_flagged_and_kept(mutate, kind):
    doc = exporter_doc()
    mutate(doc)
    dataset = from_coco_dict(doc)
    flagged = [i for i in dataset.issues if i.kind == kind]
    assert flagged and all(i.message for i in flagged)
    written = to_coco_dict(dataset)
    assert len(written["annotations"]) == 4  # nothing dropped: orphans are written back


def test_duplicate_ids_become_unique_and_stable():
    doc = exporter_doc()
    doc["annotations"][1]["id"] = 0
    dataset = from_coco_dict(doc)
    ids = [a["id"] for a in to_coco_dict(dataset)["annotations"]]
    assert len(set(ids)) == 4 and 0 in ids


@pytest.mark.parametrize(
    "content, message",
    [
        (b'{"images": [}', "line 1, column 13"),
        (b"<annotation></annotation>", "XML"),
        (b"", "empty"),
        (b"[1, 2]", "top level is a list"),
        (b'{"shapes": []}', "LabelMe"),
        (
            b'{"images": [{"id": 1, "file_name": "a"}, {"id": 1, "file_name": "b"}]}',
            "duplicate image id",
        ),
        (b"\xff\xfe{}", "UTF-8"),
    ],
)
def test_unusable_files_raise_annotation_error_naming_the_file(tmp_path, content, message):
    path = tmp_path / "annotations.json"
    path.write_bytes(content)
    with pytest.raises(AnnotationError, match=message) as info:
        load_coco(path)
    assert info.value.file == str(path)


def test_missing_width_is_read_from_the_image(tmp_path):
    import cv2

    cv2.imwrite(str(tmp_path / "x.png"), np.zeros((12, 34, 3), np.uint8))
    doc = {"images": [{"id": 1, "file_name": "x.png"}], "annotations": [], "categories": []}
    record = from_coco_dict(doc, image_root=tmp_path).images[1]
    assert (record.width, record.height) == (34, 12)


# --------------------------------------------------------------------------- property-based
_number = st.one_of(st.integers(-5, 200), st.floats(-5, 200, allow_nan=False))
_junk = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=3),
    st.integers(-3, 3),
    st.floats(allow_nan=True),
    st.lists(st.integers(), max_size=3),
    st.just({}),
    st.fixed_dictionaries(
        {
            "size": st.lists(st.integers(-1, 4), max_size=3),
            "counts": st.one_of(st.text(max_size=6), st.lists(st.integers(-2, 9), max_size=4)),
        }
    ),
    st.lists(st.lists(st.floats(-10, 10), min_size=5, max_size=9), max_size=2),
)


@st.composite
def valid_documents(draw):
    n_images = draw(st.integers(0, 4))
    images = [
        {
            "id": i,
            "file_name": f"{i}.jpg",
            "width": draw(st.integers(1, 300)),
            "height": draw(st.integers(1, 300)),
        }
        for i in range(n_images)
    ]
    category_ids = draw(st.lists(st.integers(0, 50), min_size=1, max_size=4, unique=True))
    categories = [{"id": c, "name": f"c{c}"} for c in category_ids]
    annotations = []
    for index in range(draw(st.integers(0, 6)) if images else 0):
        x, y, w, h = (draw(_number) for _ in range(4))
        annotations.append(
            {
                "id": index,
                "image_id": draw(st.sampled_from(images))["id"],
                "category_id": draw(st.sampled_from(category_ids)),
                "bbox": [x, y, w, h],
                "iscrowd": 0,
                "segmentation": [],
            }
        )
    return {"images": images, "categories": categories, "annotations": annotations}


@st.composite
def mutated_documents(draw):
    doc = copy.deepcopy(draw(valid_documents()))
    for _ in range(draw(st.integers(1, 3))):
        section = draw(st.sampled_from(["images", "categories", "annotations", None]))
        items = doc.get(section) if section else None
        if not isinstance(items, list) or not items or not isinstance(items[0], dict):
            doc[draw(st.sampled_from(["images", "categories", "annotations"]))] = draw(_junk)
            continue
        item = draw(st.sampled_from(items))
        key = draw(st.sampled_from(sorted(item) + ["segmentation", "extra"]))
        if draw(st.booleans()):
            item[key] = draw(_junk)
        else:
            item.pop(key, None)
    return doc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_documents())
def test_valid_documents_round_trip(doc):
    first = from_coco_dict(doc)
    second = from_coco_dict(json.loads(json.dumps(to_coco_dict(first))))
    assert signature(second) == signature(first)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_documents())
def test_mutated_documents_load_or_raise_our_error(doc):
    try:
        dataset = from_coco_dict(doc)
    except AnnotationError as error:
        assert str(error)
        return
    json.dumps(to_coco_dict(dataset))  # whatever loaded can be written back


def test_plain_annotations_read_inline_equal_the_checked_path(monkeypatch):
    """Reader.read_annotations builds plain entries itself: the records, issues, orphans
    and ids must be exactly what the full checks (_annotation) make of every entry."""
    from dataclasses import asdict

    from detector.data.dataset import Annotation, make_annotation
    from detector.formats import coco_reader
    from detector.formats.coco import from_coco_dict

    def entry(object_id, image_id=1, category_id=1, bbox=(1, 2, 3, 4), **more):
        box = list(bbox) if bbox is not None else None
        return {"id": object_id, "image_id": image_id, "category_id": category_id,
                "bbox": box, **more}  # fmt: skip

    annotations = [
        entry(1), entry(2), entry(3, iscrowd=1), entry(4, iscrowd=True), entry(5, iscrowd="1"),
        entry(6, score=0.5), entry(7, source="model"), entry(8, source="robot"),
        entry(9, bbox=(-500, 2, 3, 4)), entry(10, bbox=(1.5, 2.25, 3.0, 4.0), area=12),
        entry(11, category_id=9), entry(12, category_id=True), entry(13, image_id=7),
        entry(14, segmentation=[[1, 1, 5, 1, 5, 5]]), entry(15, segmentation=[]),
        entry(16, bbox=(1, 2, float("nan"), 4)), entry(17, bbox=None), entry(2), entry("x"),
        entry(18, flavour="sweet"), entry(19, image_id=2), entry(20, image_id=2, bbox=(0, 0, 1e9, 1)),
        entry(2**63), entry(21, bbox=(1, 2, 3)), entry(22, segmentation=None),
    ]  # fmt: skip
    doc = {
        "images": [
            {"id": 1, "file_name": "a.jpg", "width": 20, "height": 10},
            {"id": 2, "file_name": "b.jpg", "width": 640, "height": 480},
        ],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
        "annotations": annotations,
    }

    checked_entries = []
    check = coco_reader.Reader._annotation

    def read(inline: bool):
        if not inline:  # no entry is plain: every one goes through _annotation
            monkeypatch.setattr(coco_reader, "PLAIN_KEYS", frozenset())

        def spy(reader, index, item):
            checked_entries.append(inline)
            return check(reader, index, item)

        monkeypatch.setattr(coco_reader.Reader, "_annotation", spy)
        dataset = from_coco_dict(doc)
        monkeypatch.undo()
        objects = [(type(o), asdict(o)) for o in dataset.objects.values()]
        return objects, [asdict(i) for i in dataset.issues], dataset.orphans, dataset._next_id

    inline, checked = read(True), read(False)
    assert inline == checked
    assert len(inline[0]) == 21 and inline[0][0][0] is Annotation
    assert 0 < checked_entries.count(True) < checked_entries.count(False) == len(annotations)
    made = make_annotation(1, 2, 3, (0.0, 0.0, 1.0, 1.0), None, True, "model", 0.5, {"a": 1})
    assert made == Annotation(1, 2, 3, (0.0, 0.0, 1.0, 1.0), None, True, "model", 0.5, {"a": 1})
