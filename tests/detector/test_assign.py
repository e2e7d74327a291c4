"""The training-time view equals torchvision's training forward for the same seed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from detector.inference.run import image_to_tensor
from detector.models import load_model
from detector.trace.labels import rcnn_labels
from detector.trace.training_view import AssignError, _training_flags, training_view

SETTINGS = dict(
    min_size=128,
    max_size=160,
    rpn_pre_nms_top_n_train=300,
    rpn_post_nms_top_n_train=200,
    rpn_batch_size_per_image=64,
    box_batch_size_per_image=32,
)


def ground_truth(height: int, width: int):
    boxes = np.array([[10, 12, 80, 70], [60, 30, 150, 110], [5, 5, 30, 25]], dtype=np.float32)
    labels = np.array([1, 3, 2])
    masks = np.zeros((3, height, width), dtype=np.uint8)
    for mask, (x1, y1, x2, y2) in zip(masks, boxes.astype(int), strict=True):
        mask[y1 + 3 : y2 - 3, x1 + 2 : x2 - 2] = 1
    return boxes, labels, masks


def reference_losses(model, image, target, seed: int) -> dict:
    with torch.random.fork_rng(devices=[]), torch.no_grad(), _training_flags(model.module):
        torch.manual_seed(seed)
        losses = model.module([image_to_tensor(image)], [target])
    return {name: float(value) for name, value in losses.items()}


@pytest.mark.parametrize("name", ["shapes", "fasterrcnn_mobilenet_v3_large_320_fpn"])
def test_losses_equal_torchvision_training_mode(name):
    model = load_model(name, weights=None, device="cpu", num_classes=6, **SETTINGS)
    image = np.random.default_rng(0).integers(0, 256, (120, 170, 3), dtype=np.uint8)
    boxes, labels, masks = ground_truth(120, 170)
    masks = masks if model.kind == "mask" else None
    rng_before = torch.get_rng_state()
    view = training_view(model, image, boxes, labels, masks, seed=5)
    assert torch.equal(rng_before, torch.get_rng_state())
    assert not model.module.training
    target = {"boxes": torch.tensor(boxes), "labels": torch.tensor(labels)}
    if masks is not None:
        target["masks"] = torch.tensor(masks)
    expected = reference_losses(model, image, target, seed=5)
    assert set(view.losses) == set(expected)
    for key, value in expected.items():
        assert view.losses[key] == value, key  # the same ops on the same samples: exact
    assert training_view(model, image, boxes, labels, masks, seed=5).losses == view.losses

    rpn = view.rpn
    assert set(np.unique(rpn.labels)) <= {-1, 0, 1}
    assert (rpn.max_iou[rpn.labels == 0] < 0.3).all()
    assert (rpn.max_iou[(rpn.labels == 1) & ~rpn.low_quality] >= 0.7).all()
    assert rpn.low_quality.any()  # small GT boxes reach 0.7 with no anchor
    assert (rpn.labels[rpn.sampled_positive] == 1).all()
    assert (rpn.labels[rpn.sampled_negative] == 0).all()
    assert len(rpn.sampled_positive) + len(rpn.sampled_negative) <= 64
    roi = view.roi
    assert len(roi.proposals_resized) == len(roi.labels) == len(roi.rcnn_labels)
    np.testing.assert_array_equal(roi.proposals_resized[-3:], view.gt_boxes_resized)
    assert (roi.labels[-3:] == labels).all()  # each GT box matches itself
    assert (roi.labels[roi.max_iou < 0.5] <= 0).all()
    assert len(roi.sampled) <= 32 and roi.regression_targets.shape == (len(roi.sampled), 4)


def test_different_seeds_sample_differently():
    model = load_model("shapes", weights=None, device="cpu", **SETTINGS)
    image = np.random.default_rng(1).integers(0, 256, (120, 170, 3), dtype=np.uint8)
    boxes, labels, _ = ground_truth(120, 170)
    first = training_view(model, image, boxes, labels, seed=1)
    second = training_view(model, image, boxes, labels, seed=2)
    assert not np.array_equal(first.rpn.sampled_negative, second.rpn.sampled_negative)
    np.testing.assert_array_equal(first.rpn.labels, second.rpn.labels)


def test_rcnn_rule_of_the_lecture():
    gt = np.array([[0, 0, 10, 10]], dtype=np.float32)
    boxes = np.array(
        [[0, 0, 10, 10], [0, 0, 10, 16], [0, 0, 10, 30], [50, 50, 60, 60], [0, 0, 10, 20]],
        dtype=np.float32,
    )  # IoU 1, 0.625, 0.33, 0, 0.5
    np.testing.assert_array_equal(rcnn_labels(boxes, gt), [1, 1, -1, 0, -1])
    np.testing.assert_array_equal(rcnn_labels(boxes, np.zeros((0, 4))), [0] * 5)


def test_bad_ground_truth_is_refused():
    model = load_model("shapes", weights=None, device="cpu", **SETTINGS)
    image = np.zeros((50, 50, 3), dtype=np.uint8)
    with pytest.raises(AssignError, match="x2 > x1"):
        training_view(model, image, np.array([[10, 10, 5, 20]]), np.array([1]))
    with pytest.raises(AssignError, match="labels"):
        training_view(model, image, np.array([[1, 1, 5, 20]]), np.array([1, 2]))
    with pytest.raises(AssignError, match="background"):
        training_view(model, image, np.array([[1, 1, 5, 20]]), np.array([0]))
