"""Training-time labels of anchors and proposals against ground truth: one implementation.

Every IoU-threshold labelling in DetScope goes through torchvision's own ``Matcher``:

- the RPN rule (``Matcher(0.7, 0.3, allow_low_quality_matches=True)``): an anchor is
  positive with IoU >= 0.7 with some ground-truth box, negative below 0.3, neutral (ignored)
  between; every ground-truth box also gets the anchors of its highest IoU as positives (the
  low-quality matches), so no object is left without one;
- the box head's rule: one 0.5 threshold, no low-quality matches;
- the lecture's R-CNN rule (``rcnn_labels``): positive above 0.5, negative below 0.3.

Label values are torchvision's (``RegionProposalNetwork.assign_targets_to_anchors``):
1 positive, 0 negative, -1 neutral. Importing this module loads no torch (the GUI reads the
constants); ``label_boxes`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.geometry.boxes import box_iou

POSITIVE, NEGATIVE, NEUTRAL = 1, 0, -1
RPN_FG_IOU, RPN_BG_IOU = 0.7, 0.3
BOX_FG_IOU = 0.5


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
    """Label ``boxes`` (float32[N, 4]) against ``gt_boxes`` (float32[G, 4]), same frame, xyxy.

    torchvision's ``Matcher(fg_iou, bg_iou, low_quality)`` on the IoU matrix; no
    ground truth (or no boxes) labels everything negative.
    """
    import torch
    from torchvision.models.detection._utils import Matcher

    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    gt_boxes = np.asarray(gt_boxes, np.float32).reshape(-1, 4)
    count = len(boxes)
    if len(gt_boxes) == 0 or count == 0:
        return BoxLabels(
            np.full(count, NEGATIVE, np.int8),
            np.zeros(count, np.float32),
            np.full(count, -1, np.int64),
            np.zeros(count, bool),
        )
    # [G, N], as ops.box_iou; a zero union (nan) overlaps nothing
    quality = torch.from_numpy(np.nan_to_num(box_iou(gt_boxes, boxes)))
    best_iou, matched_gt = quality.max(dim=0)
    matches = Matcher(fg_iou, bg_iou, allow_low_quality_matches=low_quality)(quality)
    labels = np.full(count, NEUTRAL, np.int8)
    matches_np = matches.numpy()
    labels[matches_np == Matcher.BELOW_LOW_THRESHOLD] = NEGATIVE
    labels[matches_np >= 0] = POSITIVE
    best = best_iou.numpy()
    extra = (labels == POSITIVE) & (best < np.float32(fg_iou)) if low_quality else None
    return BoxLabels(
        labels,
        best,
        matched_gt.numpy().astype(np.int64),
        np.zeros(count, bool) if extra is None else extra,
    )


def rcnn_labels(
    boxes: np.ndarray, gt_boxes: np.ndarray, positive: float = 0.5, negative: float = 0.3
) -> np.ndarray:
    """int8[N]: the lecture's R-CNN rule: 1 if IoU > ``positive`` with some GT box, 0 if
    IoU < ``negative`` with all GT boxes, -1 (neutral) in between. No GT: all negative.

    ``label_boxes`` with the next float32 above ``positive`` as the Matcher's high threshold
    (the Matcher's test is >=; IoU is float32), no low-quality matches.
    """
    above = float(np.nextafter(np.float32(positive), np.float32(np.inf)))
    return label_boxes(boxes, gt_boxes, above, negative, low_quality=False).labels
