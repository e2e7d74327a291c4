"""Large datasets: the chunked COCO encoding and the one-scan folder open stay identical
to the plain ways (json.dumps, list_images + a stat per image), also at 100,000 images."""

from __future__ import annotations

import json
import shutil

import numpy as np
from PIL import Image


def write_png(path) -> None:
    Image.fromarray(np.zeros((3, 4, 3), np.uint8)).save(path)


def big_doc(images: int, boxes: int) -> dict:
    return {
        "info": {"description": "sätze ✓", "year": 2026},
        "images": [
            {"id": i, "file_name": f"img_{i:06d}.jpg", "width": 64, "height": 48}
            for i in range(1, images + 1)
        ],
        "annotations": [
            {
                "id": a + 1,
                "image_id": a % images + 1,
                "category_id": 1 + a % 3,
                "bbox": [a % 40 + 0.5, a % 30, 10, 8.25],
                "iscrowd": 0,
                "area": 82.5,
                "segmentation": [],
                "note": "é" if a % 1000 == 0 else None,
            }
            for a in range(boxes)
        ],
        "categories": [{"id": c, "name": f"c{c}"} for c in (1, 2, 3)],
    }


def test_chunked_encoding_is_json_dumps_character_for_character():
    from detector.formats.coco import dumps_in_chunks

    doc = big_doc(50, 150)
    doc["empty"], doc["nan"] = [], float("nan")
    for chunk in (1, 2, 7, 149, 150, 151, 10_000):
        assert dumps_in_chunks(doc, chunk) == json.dumps(doc, ensure_ascii=False)
    assert dumps_in_chunks({1: [1, 2, 3]}, 1) == json.dumps({1: [1, 2, 3]})


def test_a_100k_image_dataset_saves_the_same_bytes_as_json_dumps():
    from detector.formats.coco import coco_bytes, from_coco_dict, to_coco_dict

    dataset = from_coco_dict(big_doc(100_000, 20_000))
    assert len(dataset.images) == 100_000 and len(dataset.objects) == 20_000
    expected = json.dumps(to_coco_dict(dataset), ensure_ascii=False).encode("utf-8")
    assert coco_bytes(dataset) == expected
    assert coco_bytes(dataset) == expected  # the lists it freed as it went were its own


def test_open_from_one_scan_matches_list_images_and_a_stat_per_image(tmp_path):
    """Named-but-missing files, a named file with another extension, a subfolder file,
    images the JSON does not name (natural order), a folder named like an image."""
    from detector.data.issues import missing_file_issues
    from detector.io.images import list_images
    from detector.store import open_dataset

    write_png(tmp_path / "a.png")
    (tmp_path / "sub").mkdir()
    shutil.copy(tmp_path / "a.png", tmp_path / "sub" / "b.png")
    shutil.copy(tmp_path / "a.png", tmp_path / "notes.gif")  # named, exists, not listed
    for name in ("x10.png", "x9.png", "X2.PNG"):
        shutil.copy(tmp_path / "a.png", tmp_path / name)
    (tmp_path / "dir.png").mkdir()
    named = ["a.png", "sub/b.png", "notes.gif", "gone.png", "sub/gone.png"]
    doc = {
        "images": [
            {"id": i + 1, "file_name": n, "width": 4, "height": 3} for i, n in enumerate(named)
        ],
        "categories": [],
    }
    (tmp_path / "annotations.json").write_text(json.dumps(doc))
    dataset = open_dataset(tmp_path)
    names = [r.file_name for r in dataset.images.values()]
    unlisted = [p.name for p in list_images(tmp_path) if p.name not in named]
    assert names == named + unlisted and unlisted == ["X2.PNG", "x9.png", "x10.png"]
    missing = [i for i in dataset.issues if i.kind == "missing_file"]
    expected = missing_file_issues(dataset, str(tmp_path / "annotations.json"))
    assert missing == expected
    assert [i.location for i in missing] == ["gone.png", "sub/gone.png"]
