"""TP green, FP red, FN orange on the canvas for the image shown, plus the picked detection."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtGui import QColor

from app.overlays import BoxSet

KIND_COLORS = {"TP": QColor("#2ca02c"), "FP": QColor("#d62728"), "FN": QColor("#ff8c00")}
FOCUS_COLOR = QColor("#00e5ff")


@dataclass
class ImageMarks:
    """Boxes (float[N, 4] xyxy) with their verdict and a label each."""

    boxes: np.ndarray
    kinds: list[str]
    labels: list[str]

    def count(self, kind: str) -> int:
        return self.kinds.count(kind)


def xywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    return np.concatenate([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]], axis=1)


def image_marks(result, image_id: int, iou: float, score_threshold: float) -> ImageMarks:
    """Detections at or above the threshold (TP / FP) and the ground truths they miss (FN)."""
    if image_id not in result.data.gt:
        return ImageMarks(np.zeros((0, 4)), [], [])
    t = result.params.iou_index(iou)
    gt, dt = result.data.gt[image_id], result.data.detections(image_id)
    names = result.data.categories
    matches = result.image_matches(image_id)
    status = matches.dt_status[:, t]
    shown = (status >= 0) & (dt.scores >= score_threshold)
    boxes, kinds, labels = [], [], []
    for d in np.flatnonzero(shown):
        kind = "TP" if status[d] == 1 else "FP"
        boxes.append(dt.boxes[d])
        kinds.append(kind)
        labels.append(f"{kind} {names.get(int(dt.labels[d]), dt.labels[d])} {dt.scores[d]:.2f}")
    matched_by = matches.gt_dt_index[:, t]
    found = (matched_by >= 0) & shown[np.maximum(matched_by, 0)] if len(dt) else matched_by >= 0
    known = np.isin(gt.labels, result.category_ids)
    for g in np.flatnonzero(~found & ~gt.effective_ignore & known):
        boxes.append(gt.boxes[g])
        kinds.append("FN")
        labels.append("")  # the ground-truth layer already names it; orange says "missed"
    return ImageMarks(xywh_to_xyxy(np.array(boxes).reshape(-1, 4)), kinds, labels)


def marks_box_set(marks: ImageMarks) -> BoxSet:
    colors = [KIND_COLORS[kind] for kind in marks.kinds]
    return BoxSet(marks.boxes, colors, marks.labels, dashed=False, width=2.0, labels_below=True)


def focus_box_set(box_xyxy: np.ndarray | None) -> BoxSet:
    if box_xyxy is None:
        return BoxSet(np.zeros((0, 4)), [])
    return BoxSet(np.asarray(box_xyxy, np.float64).reshape(1, 4), [FOCUS_COLOR], [], width=5.0)


def detection_box(result, image_id: int, detection_index: int) -> np.ndarray | None:
    """xyxy box of one evaluated detection (its index in that image's detections)."""
    if image_id not in result.data.gt:
        return None
    dt = result.data.detections(image_id)
    if not 0 <= detection_index < len(dt):
        return None
    return xywh_to_xyxy(dt.boxes[detection_index])[0]
