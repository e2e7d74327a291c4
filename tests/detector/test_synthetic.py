"""The synthetic shapes generator: determinism, exact masks and boxes, COCO output."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from detector.training.synthetic import (
    SHAPE_NAMES,
    SynthConfig,
    boxes_from_masks,
    make_sample,
    to_coco,
    write_dataset,
)
from main import main

SMALL = SynthConfig(height=160, width=192)


def test_same_seed_and_index_give_the_same_bytes():
    first, again = make_sample(3, 7, SMALL), make_sample(3, 7, SMALL)
    assert first.image.tobytes() == again.image.tobytes()
    assert first.masks.tobytes() == again.masks.tobytes()
    assert np.array_equal(first.labels, again.labels)
    assert make_sample(4, 7, SMALL).image.tobytes() != first.image.tobytes()
    assert make_sample(3, 8, SMALL).image.tobytes() != first.image.tobytes()


def test_image_and_masks_have_the_contract_shapes():
    sample = make_sample(0, 0, SMALL)
    assert sample.image.shape == (160, 192, 3) and sample.image.dtype == np.uint8
    assert sample.masks.shape == (len(sample.labels), 160, 192) and sample.masks.dtype == bool
    assert sample.boxes.shape == (len(sample.labels), 4)
    assert set(sample.labels.tolist()) <= set(range(1, len(SHAPE_NAMES) + 1))


@pytest.mark.parametrize("index", range(6))
def test_boxes_are_the_extents_of_disjoint_visible_masks(index):
    sample = make_sample(11, index)
    assert len(sample.labels) >= 1
    assert np.array_equal(sample.boxes, boxes_from_masks(sample.masks))
    assert sample.masks.sum(axis=0).max() <= 1  # an occluded pixel belongs to the top shape only
    for mask, (x1, y1, x2, y2) in zip(sample.masks, sample.boxes, strict=True):
        ys, xs = np.nonzero(mask)
        assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (x1, y1, x2, y2)
        assert mask.sum() >= 20


def test_coco_boxes_and_areas_agree_with_the_rle_masks():
    samples = [make_sample(5, i) for i in range(3)]
    coco = to_coco(samples, ["a.png", "b.png", "c.png"])
    assert [c["name"] for c in coco["categories"]] == list(SHAPE_NAMES)
    flat_masks = [m for s in samples for m in s.masks]
    assert len(coco["annotations"]) == len(flat_masks)
    for ann, mask in zip(coco["annotations"], flat_masks, strict=True):
        rle = {**ann["segmentation"], "counts": ann["segmentation"]["counts"].encode()}
        assert np.array_equal(mask_utils.decode(rle).astype(bool), mask)
        assert np.allclose(mask_utils.toBbox(rle), ann["bbox"])
        assert ann["area"] == float(mask_utils.area(rle)) == float(mask.sum())


def test_the_data_keeps_the_hard_cases():
    samples = [make_sample(21, i) for i in range(40)]
    labels = np.concatenate([s.labels for s in samples])
    areas = np.concatenate([s.areas for s in samples])
    assert set(labels.tolist()) == set(range(1, 6))
    assert (areas < 32**2).mean() > 0.25  # COCO 'small' objects
    assert (areas > 96**2).sum() > 0  # and large ones
    occluded = sum(_box_overlaps(s.boxes) for s in samples)
    assert occluded >= 10
    backgrounds = np.array([s.image.std() for s in samples])
    assert backgrounds.min() > 5  # textured and noisy, never flat


def _box_overlaps(boxes: np.ndarray) -> int:
    count = 0
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            a, b = boxes[i], boxes[j]
            if min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1]):
                count += 1
    return count


def test_synth_command_writes_a_loadable_deterministic_coco_folder(tmp_path):
    for name in ("one", "two"):
        code = main(["synth", str(tmp_path / name), "--count", "3", "--seed", "9", "--size", "128"])
        assert code == 0
    first = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert len(first) == 4 and "annotations.json" in first
    for name in first:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    coco = COCO(str(tmp_path / "one" / "annotations.json"))
    assert len(coco.getImgIds()) == 3 and coco.getCatIds() == [1, 2, 3, 4, 5]
    assert coco.loadImgs(1)[0]["width"] == 128


def test_jpg_folder_and_progress(tmp_path):
    calls = []
    path = write_dataset(tmp_path, 2, 1, SMALL, "jpg", lambda d, t: calls.append((d, t)))
    assert calls == [(1, 2), (2, 2)]
    names = [im["file_name"] for im in json.loads(path.read_text())["images"]]
    assert all(name.endswith(".jpg") and (tmp_path / name).is_file() for name in names)


def test_synth_command_refuses_bad_arguments(tmp_path, capsys):
    assert main(["synth", str(tmp_path / "x"), "--count", "0"]) == 1
    assert "--count" in capsys.readouterr().err
