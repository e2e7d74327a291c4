"""Masks and per-object flags through LabelMe, YOLO-seg, VOC PNGs and COCO; pycocotools judges."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils

from detector.data.dataset import Annotation, Category, Dataset, ImageRecord
from detector.data.flags import object_flags, with_flags
from detector.data.masks import binary_mask, encode_mask_rle
from detector.formats.coco import load_coco, save_coco
from detector.formats.labelme import load_labelme
from detector.formats.labelme_write import save_labelme
from detector.formats.voc import load_voc, save_voc
from detector.formats.voc_masks import read_palette_png
from detector.formats.yolo import load_yolo, save_yolo

W, H = 120, 90


def _rle_blob() -> dict:
    mask = np.zeros((H, W), np.uint8)
    cv2.ellipse(mask, (90, 60), (18, 12), 30, 0, 360, 1, -1)
    return encode_mask_rle(mask.astype(bool))


def masked_dataset(root: Path) -> Dataset:
    root.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(root / "scene.png"), np.zeros((H, W, 3), np.uint8))
    cv2.imwrite(str(root / "empty.png"), np.zeros((H, W, 3), np.uint8))
    dataset = Dataset(root=root)
    dataset.add_image_record(ImageRecord(id=1, file_name="scene.png", width=W, height=H))
    dataset.add_image_record(ImageRecord(id=2, file_name="empty.png", width=W, height=H))
    dataset.add_category_record(Category(1, "cat"))
    dataset.add_category_record(Category(2, "dog"))
    two_parts = [[5, 5, 30, 5, 30, 25, 5, 25], [40, 8, 55, 8, 48, 30]]
    objects = [
        Annotation(1, 1, 1, (5.0, 5.0, 55.0, 30.0), two_parts),
        with_flags(
            Annotation(2, 1, 2, (10, 40, 40, 80), [[10, 40, 40, 45, 35, 80, 12, 70]]),
            truncated=True,
            occluded=True,
        ),
        Annotation(3, 1, 2, (72.0, 48.0, 108.0, 72.0), _rle_blob(), iscrowd=True),
        with_flags(Annotation(4, 1, 1, (60.0, 5.0, 80.0, 20.0)), difficult=True),
    ]
    for obj in objects:
        dataset.add_object_record(obj)
    return dataset


def _iou(a: Annotation, b: Annotation) -> float:
    rles = [mask_utils.encode(np.asfortranarray(binary_mask(o.mask, H, W))) for o in (a, b)]
    return float(mask_utils.iou([rles[0]], [rles[1]], [0])[0][0])


def _objects(dataset: Dataset, name: str = "scene.png") -> list[Annotation]:
    return dataset.objects_in(dataset.image_by_name(name).id)


def _check_masks(original: Dataset, back: Dataset, *, exact_rle: bool) -> None:
    before, after = _objects(original), _objects(back)
    assert len(after) == len(before)
    assert len(_objects(back, "empty.png")) == 0
    for a, b in zip(before, after, strict=True):
        assert original.categories[a.category_id].name == back.categories[b.category_id].name
        if a.mask is None:
            continue
        assert b.mask is not None
        assert _iou(a, b) >= 0.9
        if exact_rle and isinstance(a.mask, dict):
            np.testing.assert_array_equal(binary_mask(a.mask, H, W), binary_mask(b.mask, H, W))


def test_labelme_write_read_keeps_parts_rle_and_flags(tmp_path):
    dataset = masked_dataset(tmp_path / "images")
    assert save_labelme(dataset, tmp_path / "labelme") == []
    doc = json.loads((tmp_path / "labelme" / "scene.json").read_text())
    kinds = [s["shape_type"] for s in doc["shapes"]]
    assert kinds == ["polygon", "polygon", "polygon", "mask", "rectangle"]
    assert doc["shapes"][0]["group_id"] == doc["shapes"][1]["group_id"] is not None
    back = load_labelme(tmp_path / "labelme", image_root=tmp_path / "images")
    _check_masks(dataset, back, exact_rle=True)
    assert [object_flags(o) for o in _objects(back)] == [
        object_flags(o) for o in dataset.objects_in(1)
    ]
    assert len(_objects(back)[0].mask) == 2  # two parts stay one object
    with pytest.raises(Exception, match="refusing to overwrite"):
        save_labelme(dataset, tmp_path / "labelme")


def test_yolo_segmentation_write_read(tmp_path):
    dataset = masked_dataset(tmp_path / "images")
    warnings = save_yolo(dataset, tmp_path / "labels")
    assert warnings == ["1 crowd objects written as plain objects (YOLO has no crowd flag)"]
    lines = (tmp_path / "labels" / "scene.txt").read_text().splitlines()
    assert len(lines) == 4 and all(len(line.split()) >= 7 for line in lines)
    values = [float(v) for line in lines for v in line.split()[1:]]
    assert 0.0 <= min(values) and max(values) <= 1.0  # normalised
    back = load_yolo(tmp_path / "labels", image_root=tmp_path / "images")
    _check_masks(dataset, back, exact_rle=False)
    boxes_only = save_yolo(dataset, tmp_path / "boxes", segments=False)
    assert "3 masks were written as boxes only" in boxes_only
    assert all(
        len(x.split()) == 5 for x in (tmp_path / "boxes" / "scene.txt").read_text().splitlines()
    )


def test_voc_segmentation_pngs_write_read(tmp_path):
    dataset = masked_dataset(tmp_path / "images")
    save_voc(dataset, tmp_path / "VOC" / "Annotations")
    instances = read_palette_png(tmp_path / "VOC" / "SegmentationObject" / "scene.png")
    classes = read_palette_png(tmp_path / "VOC" / "SegmentationClass" / "scene.png")
    assert set(np.unique(instances)) == {0, 1, 2, 3}
    assert set(np.unique(classes)) == {0, 1, 2}
    assert not (tmp_path / "VOC" / "SegmentationObject" / "empty.png").exists()
    back = load_voc(tmp_path / "VOC" / "Annotations", image_root=tmp_path / "images")
    _check_masks(dataset, back, exact_rle=True)
    flags = [object_flags(o) for o in _objects(back)]
    assert flags[1]["truncated"] and flags[1]["occluded"] and flags[3]["difficult"]
    assert (
        "<segmented>1</segmented>" in (tmp_path / "VOC" / "Annotations" / "scene.xml").read_text()
    )


def test_voc_class_png_alone_gives_class_pixels_inside_each_box(tmp_path):
    dataset = masked_dataset(tmp_path / "images")
    save_voc(dataset, tmp_path / "VOC" / "Annotations")
    for png in (tmp_path / "VOC" / "SegmentationObject").iterdir():
        png.unlink()
    back = load_voc(tmp_path / "VOC" / "Annotations", image_root=tmp_path / "images")
    assert any(issue.kind == "class_mask_only" for issue in back.issues)
    assert _iou(dataset.objects_in(1)[0], _objects(back)[0]) >= 0.9


def test_coco_keeps_every_flag(tmp_path):
    dataset = masked_dataset(tmp_path / "images")
    save_coco(dataset, tmp_path / "annotations.json", backup=False)
    back = load_coco(tmp_path / "annotations.json", image_root=tmp_path / "images")
    assert [object_flags(o) for o in _objects(back)] == [
        object_flags(o) for o in dataset.objects_in(1)
    ]
    _check_masks(dataset, back, exact_rle=True)


def test_convert_cli_writes_labelme_with_masks(tmp_path):
    from main import main

    dataset = masked_dataset(tmp_path / "images")
    save_coco(dataset, tmp_path / "annotations.json", backup=False)
    out = tmp_path / "out_labelme"
    argv = ["convert", str(tmp_path / "annotations.json"), str(out), "--to", "labelme"]
    assert main([*argv, "--images", str(tmp_path / "images")]) == 0
    back = load_labelme(out, image_root=tmp_path / "images")
    _check_masks(dataset, back, exact_rle=True)


def test_voc_pngs_are_not_attached_to_the_wrong_objects_when_an_object_was_skipped(tmp_path):
    dataset = masked_dataset(tmp_path / "images")
    xml_dir = tmp_path / "VOC" / "Annotations"
    save_voc(dataset, xml_dir)
    xml = (xml_dir / "scene.xml").read_text()
    first = xml.index("<name>cat</name>")
    (xml_dir / "scene.xml").write_text(xml[:first] + "<name></name>" + xml[first + 15 :])
    back = load_voc(xml_dir, image_root=tmp_path / "images")
    assert len(_objects(back)) == 3
    assert all(o.mask is None for o in _objects(back))
    assert any("cannot be matched" in issue.message for issue in back.issues)
