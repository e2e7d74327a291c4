"""Training-time labels of anchors and proposals against ground truth, in numpy.

The lecture's RPN rule (torchvision's ``Matcher(0.7, 0.3, allow_low_quality_matches=True)``):
an anchor is positive with IoU >= 0.7 with some ground-truth box, negative below 0.3,
neutral (ignored) between; and every ground-truth box also gets the anchors of its highest
IoU as positives (the low-quality matches), so no object is left without one. The box head
labels proposals with a single 0.5 threshold (no low-quality matches).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

POSITIVE, NEUTRAL, NEGATIVE = 1, 0, -1
RPN_FG_IOU, RPN_BG_IOU = 0.7, 0.3
BOX_FG_IOU = 0.5


def box_iou(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """float32[N, M] IoU of xyxy boxes (torchvision's arithmetic)."""
    from detector.geometry.boxes import box_iou as engine_iou

    return engine_iou(np.asarray(boxes_a, np.float32), np.asarray(boxes_b, np.float32))


@dataclass
class BoxLabels:
    """labels (int8[N]): POSITIVE / NEUTRAL / NEGATIVE. best_iou (float32[N]): IoU with the
    best ground-truth box. matched_gt (int64[N]): that box's index (-1 without ground truth).
    low_quality (bool[N]): positive only through the low-quality rule."""

    labels: np.ndarray
    best_iou: np.ndarray
    matched_gt: np.ndarray
    low_quality: np.ndarray

    def count(self, label: int) -> int:
        return int((self.labels == label).sum())


def label_boxes(
    boxes: np.ndarray,
    gt_boxes: np.ndarray,
    fg_iou: float = RPN_FG_IOU,
    bg_iou: float = RPN_BG_IOU,
    low_quality: bool = True,
) -> BoxLabels:
    """Label ``boxes`` (float32[N, 4]) against ``gt_boxes`` (float32[G, 4]), same frame."""
    count = len(boxes)
    if len(gt_boxes) == 0:
        return BoxLabels(
            np.full(count, NEGATIVE, np.int8),
            np.zeros(count, np.float32),
            np.full(count, -1, np.int64),
            np.zeros(count, bool),
        )
    iou = box_iou(gt_boxes, boxes)  # [G, N]
    best_iou = iou.max(axis=0)
    matched = iou.argmax(axis=0).astype(np.int64)
    labels = np.full(count, NEUTRAL, np.int8)
    labels[best_iou < np.float32(bg_iou)] = NEGATIVE
    labels[best_iou >= np.float32(fg_iou)] = POSITIVE
    extra = np.zeros(count, bool)
    if low_quality:
        best_per_gt = iou.max(axis=1, keepdims=True)
        _gt, anchors = np.nonzero(iou == best_per_gt)
        extra[anchors] = labels[anchors] != POSITIVE
        labels[anchors] = POSITIVE
    return BoxLabels(labels, best_iou, matched, extra)


def sample_labels(
    labels: np.ndarray, batch_size: int, positive_fraction: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """torchvision's BalancedPositiveNegativeSampler, seeded: indices of the sampled
    positives and negatives (at most ``batch_size * positive_fraction`` positives, the rest
    negatives). The real sampler draws afresh each iteration; this is one such draw."""
    rng = np.random.default_rng(seed)
    positives = np.nonzero(labels == POSITIVE)[0]
    negatives = np.nonzero(labels == NEGATIVE)[0]
    num_pos = min(len(positives), int(batch_size * positive_fraction))
    num_neg = min(len(negatives), batch_size - num_pos)
    return (
        np.sort(rng.choice(positives, num_pos, replace=False)),
        np.sort(rng.choice(negatives, num_neg, replace=False)),
    )
