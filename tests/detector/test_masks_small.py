"""Masks kept as the head's probabilities and pasted one at a time equal torchvision's paste."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pycocotools import mask as mask_utils
from torchvision.models.detection.roi_heads import paste_masks_in_image

from detector.inference.detections import Detections, detections_to_coco
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
    rows = detections_to_coco(detections, image_id=3, first_id=10)
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
    assert Detections(detections.boxes, detections.labels, detections.scores).masks is None
