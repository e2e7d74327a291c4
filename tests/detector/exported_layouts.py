"""Builders of the folder layouts exporters write (small real JPEGs, one box per image)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

NAMES = ["cat", "dog"]
SIZE = (48, 64)  # height, width


def _image(path: Path, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 255, (*SIZE, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, quality=90)


def _coco(path: Path, names: list[str], prefix: str = "", category_base: int = 1) -> None:
    images = [
        {"id": i + 1, "file_name": prefix + n, "width": SIZE[1], "height": SIZE[0]}
        for i, n in enumerate(names)
    ]
    annotations = [
        {
            "id": i + 1,
            "image_id": i + 1,
            "category_id": category_base + i % 2,
            "bbox": [4.0, 5.0, 20.0, 10.0],
            "area": 200.0,
            "iscrowd": 0,
        }
        for i in range(len(names))
    ]
    categories = [{"id": category_base + k, "name": n} for k, n in enumerate(NAMES)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"images": images, "annotations": annotations, "categories": categories})
    )


def roboflow(root: Path) -> dict[str, int]:
    counts = {"train": 3, "valid": 2, "test": 1}
    for split, count in counts.items():
        names = [f"{split}_{k}.jpg" for k in range(count)]
        for k, name in enumerate(names):
            _image(root / split / name, k)
        _coco(root / split / "_annotations.coco.json", names, category_base=0)
    return counts


def cvat(root: Path) -> dict[str, int]:
    names = ["a.jpg", "b.jpg"]
    for k, name in enumerate(names):
        _image(root / "images" / name, k)
    _coco(root / "annotations" / "instances_default.json", names)
    return {"default": 2}


def official_coco(root: Path) -> dict[str, int]:
    counts = {"val2017": 2, "train2017": 3}
    for split, count in counts.items():
        names = [f"{k:012d}.jpg" for k in range(count)]
        for k, name in enumerate(names):
            _image(root / split / name, k)
        _coco(root / "annotations" / f"instances_{split}.json", names)
    return counts


def label_studio(root: Path) -> dict[str, int]:
    names = ["x1.jpg", "x2.jpg"]
    for k, name in enumerate(names):
        _image(root / "images" / name, k)
    _coco(root / "result.json", names, prefix="images/", category_base=0)
    return {"": 2}


def yolo(root: Path) -> dict[str, int]:
    counts = {"train": 2, "val": 1}
    (root / "data.yaml").parent.mkdir(parents=True, exist_ok=True)
    (root / "data.yaml").write_text(
        "path: .\ntrain: images/train\nval: images/val\nnc: 2\nnames: ['cat', 'dog']\n"
    )
    for split, count in counts.items():
        for k in range(count):
            _image(root / "images" / split / f"{split}{k}.jpg", k)
            label = root / "labels" / split / f"{split}{k}.txt"
            label.parent.mkdir(parents=True, exist_ok=True)
            label.write_text(f"{k % 2} 0.5 0.5 0.25 0.25\n")
    return counts


def voc(root: Path) -> dict[str, int]:
    stems = ["000001", "000002", "000003"]
    for k, stem in enumerate(stems):
        _image(root / "JPEGImages" / f"{stem}.jpg", k)
        xml = (
            f"<annotation><filename>{stem}.jpg</filename><size><width>{SIZE[1]}</width>"
            f"<height>{SIZE[0]}</height><depth>3</depth></size><object><name>{NAMES[k % 2]}</name>"
            "<bndbox><xmin>5</xmin><ymin>6</ymin><xmax>24</xmax><ymax>15</ymax></bndbox>"
            "</object></annotation>"
        )
        (root / "Annotations").mkdir(parents=True, exist_ok=True)
        (root / "Annotations" / f"{stem}.xml").write_text(xml)
    (root / "ImageSets" / "Main").mkdir(parents=True)
    (root / "ImageSets" / "Main" / "train.txt").write_text("000001\n000002\n")
    (root / "ImageSets" / "Main" / "val.txt").write_text("000003\n")
    for name in NAMES:
        (root / "ImageSets" / "Main" / f"{name}_train.txt").write_text("000001  1\n000002 -1\n")
    return {"train": 2, "val": 1}


BUILDERS = {
    "roboflow-coco": roboflow,
    "cvat-coco": cvat,
    "coco": official_coco,
    "label-studio-coco": label_studio,
    "yolo": yolo,
    "pascal-voc": voc,
}
