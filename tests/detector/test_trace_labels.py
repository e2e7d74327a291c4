"""Anchor labelling: one implementation (torchvision's Matcher) equal to the RPN's own."""

from __future__ import annotations

import numpy as np
import torch

from detector.models import load_model
from detector.trace.labels import NEGATIVE, NEUTRAL, POSITIVE, label_boxes


def _boxes(rng: np.random.Generator, count: int) -> np.ndarray:
    corner = rng.uniform(0, 120, (count, 2))
    size = rng.uniform(2, 60, (count, 2))
    return np.concatenate([corner, corner + size], axis=1).astype(np.float32)


def test_label_boxes_equals_the_rpns_anchor_assignment():
    rpn = load_model(
        "fasterrcnn_resnet50_fpn", weights=None, num_classes=3, device="cpu"
    ).module.rpn
    rng = np.random.default_rng(4)
    for _ in range(5):
        anchors, gt = _boxes(rng, 500), _boxes(rng, 4)
        labels, _ = rpn.assign_targets_to_anchors(
            [torch.from_numpy(anchors)], [{"boxes": torch.from_numpy(gt)}]
        )
        ours = label_boxes(anchors, gt)
        np.testing.assert_array_equal(ours.labels, labels[0].numpy().astype(np.int8))
        assert ours.count(POSITIVE) >= len(gt)  # every object gets an anchor


def test_low_quality_positives_and_no_ground_truth():
    anchors = np.array([[0, 0, 10, 10], [0, 0, 30, 30], [50, 50, 60, 60]], np.float32)
    gt = np.array([[0, 0, 20, 20]], np.float32)  # IoU 0.25 and 0.44: no anchor reaches 0.7
    labels = label_boxes(anchors, gt)
    np.testing.assert_array_equal(labels.labels, [NEGATIVE, POSITIVE, NEGATIVE])
    np.testing.assert_array_equal(labels.low_quality, [False, True, False])
    strict = label_boxes(anchors, gt, fg_iou=0.5, bg_iou=0.3, low_quality=False)
    np.testing.assert_array_equal(strict.labels, [NEGATIVE, NEUTRAL, NEGATIVE])
    empty = label_boxes(anchors, np.zeros((0, 4)))
    np.testing.assert_array_equal(empty.labels, [NEGATIVE] * 3)
    np.testing.assert_array_equal(empty.matched_gt, [-1] * 3)
