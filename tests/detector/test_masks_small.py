"""Masks kept as the head's probabilities and pasted one at a time equal torchvision's paste."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pycocotools import mask as mask_utils
from torchvision.models.detection.roi_heads import paste_masks_in_image

from detector.formats.coco_write import detection_dicts
from detector.inference.detections import Detections
from detector.inference.masks import crop_rle, full_mask, paste_mask_crop


def _random_detections(seed: int, height: int, width: int, n: int = 40) -> Detections:
    rng = np.random.default_rng(seed)
    x1 = rng.uniform(-20, width, n)
    y1 = rng.uniform(-20, height, n)
    boxes = np.stack(
        [x1, y1, x1 + rng.uniform(0.2, width / 2, n), y1 + rng.uniform(0.2, height / 2, n)], 1
    )
    boxes[:3] = [[0, 0, width, height], [width - 1, height - 1, width, height], [3, 4, 3.4, 4.2]]
    return Detections(
        boxes=np.clip(boxes, 0, [width, height, width, height]).astype(np.float32),
        labels=np.ones(n, np.int64),
        scores=np.linspace(1, 0, n, dtype=np.float32),
        mask_probs=rng.random((n, 28, 28), dtype=np.float32),
        image_size=(height, width),
    )


def _torchvision(detections: Detections) -> np.ndarray:
    probs = torch.from_numpy(detections.mask_probs)[:, None]
    boxes = torch.from_numpy(detections.boxes)
    return paste_masks_in_image(probs, boxes, detections.image_size)[:, 0].numpy()


@pytest.mark.parametrize(("height", "width"), [(97, 131), (480, 640), (31, 400)])
def test_pasting_one_at_a_time_equals_torchvision(height, width):
    detections = _random_detections(height * width, height, width)
    expected = _torchvision(detections)
    for index in range(len(detections)):
        np.testing.assert_array_equal(detections.mask_values(index), expected[index])
        np.testing.assert_array_equal(detections.mask(index), expected[index] > 0.5)
        assert detections.mask_area(index) == int((expected[index] > 0.5).sum())


def test_rle_from_the_crop_equals_encoding_the_whole_mask():
    detections = _random_detections(7, 120, 90)
    expected = _torchvision(detections) > 0.5
    for index in range(len(detections)):
        whole = mask_utils.encode(np.asfortranarray(expected[index].astype(np.uint8)))
        assert detections.mask_rle(index)["counts"] == whole["counts"].decode("ascii")
    rows = detection_dicts(detections, 3, first_id=10, rounded=True)
    decoded = mask_utils.decode([row["segmentation"] for row in rows])
    np.testing.assert_array_equal(decoded.transpose(2, 0, 1), expected)
    assert [row["area"] for row in rows] == [int(m.sum()) for m in expected]


def test_crop_outside_the_image_is_empty_and_encodes_to_zeros():
    crop = paste_mask_crop(np.ones((28, 28), np.float32), np.array([50, 50, 60, 60]), 20, 30)
    assert crop.values.size == 0 and not full_mask(crop, 20, 30).any()
    decoded = mask_utils.decode(crop_rle(crop, 20, 30))
    assert decoded.shape == (20, 30) and decoded.sum() == 0


def test_selected_and_scaled_detections_keep_their_masks():
    detections = _random_detections(3, 60, 80, n=5)
    picked = detections.select(np.array([4, 1]))
    np.testing.assert_array_equal(picked.mask(0), detections.mask(4))
    big = detections.scaled(4.0, 4.0, (240, 320))
    assert big.mask(1).shape == (240, 320)
    np.testing.assert_allclose(big.boxes, detections.boxes * 4)


@pytest.mark.parametrize("box", [[0, 0, 40, 30], [0, 0, 12, 30], [10, 0, 40, 30], [5, 3, 40, 30]])
def test_rle_of_full_masks_touching_the_image_edges(box):
    detections = Detections(
        boxes=np.array([box], np.float32),
        labels=np.ones(1, np.int64),
        scores=np.ones(1, np.float32),
        mask_probs=np.ones((1, 28, 28), np.float32),
        image_size=(30, 40),
    )
    expected = _torchvision(detections)[0] > 0.5
    whole = mask_utils.encode(np.asfortranarray(expected.astype(np.uint8)))
    assert detections.mask_rle(0)["counts"] == whole["counts"].decode("ascii")


def test_masks_attribute_is_a_lazy_sequence_of_pasted_masks():
    detections = _random_detections(11, 50, 70, n=4)
    masks = detections.masks
    assert masks.shape == (4, 50, 70) and len(masks) == 4
    expected = _torchvision(detections)
    np.testing.assert_array_equal(np.stack(list(masks)), expected)
    np.testing.assert_array_equal(masks[-1], expected[3])
    with pytest.raises(IndexError):
        masks[4]
    bare = Detections(boxes=detections.boxes, labels=detections.labels, scores=detections.scores)
    assert bare.masks is None


@pytest.mark.parametrize(
    ("small", "big"),
    [((97, 131), (776, 1048)), ((61, 80), (489, 641)), ((40, 50), (40 * 7, 50 * 3))],
)
def test_scaled_detections_sample_the_small_frame_and_encode_without_the_big_mask(small, big):
    """A reduced decode's masks: pasted where the model saw them, sampled up (nearest);
    RLE and area come from the small crop and equal pycocotools on the big mask."""
    found = _random_detections(7, *small, n=12)
    (height, width), (sh, sw) = big, small
    scaled = found.scaled(width / sw, height / sh, big)
    assert scaled.select(np.arange(12) % 2 == 0).mask_source.boxes.shape == (6, 4)
    ys = np.minimum(((np.arange(height) + 0.5) * sh / height).astype(int), sh - 1)
    xs = np.minimum(((np.arange(width) + 0.5) * sw / width).astype(int), sw - 1)
    for index in range(len(found)):
        expected = found.mask(index)[np.ix_(ys, xs)]  # nearest sampling at pixel centres
        np.testing.assert_array_equal(scaled.mask(index), expected)
        rle = scaled.mask_rle(index)
        np.testing.assert_array_equal(mask_utils.decode(rle).astype(bool), expected)
        assert rle == _encoded(expected)
        assert scaled.mask_area(index) == int(expected.sum())


def _encoded(mask: np.ndarray) -> dict:
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": rle["size"], "counts": rle["counts"].decode("ascii")}
