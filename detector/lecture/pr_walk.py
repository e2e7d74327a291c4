"""The PR curve of one class, built one detection at a time (the lecture's walkthrough).

For each detection from highest to lowest score: if it matches a not-yet-matched GT box of
its class in its image (IoU >= t, the best such box; the engine's float64 IoU), it is a true positive and that GT box
is used up; otherwise a false positive. After each step precision = TP / (TP + FP) and
recall = TP / (number of GT boxes), both kept as fractions ("Precision = 3/5 = 0.6"). AP is
the area under the curve: VOC all-point (the monotone envelope's exact area), VOC 11-point
and COCO's 101-point interpolation. Ranking, matching and the 100-per-image limit follow
COCOeval (crowd / ignored GT: a detection matching one is skipped, as COCOeval does), so the
final numbers equal the evaluation engine's for that class (all areas).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.evaluation.matching import bbox_iou_pairs
from detector.evaluation.voc import voc_ap

MAX_DETS = 100
RECALL_GRID = np.linspace(0.0, 1.0, 101)


@dataclass
class WalkStep:
    """One detection of the walk. status: "TP", "FP" or "ignored" (matched a crowd /
    ignored GT; it does not count). gt_index: the matched GT's index in its image (-1).
    tp, fp: running counts after this step; num_gt: the class's GT boxes (recall's
    denominator)."""

    image_id: int
    detection_index: int
    score: float
    box_xyxy: np.ndarray
    status: str
    iou: float
    gt_index: int
    tp: int
    fp: int
    num_gt: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    @property
    def recall(self) -> float:
        return self.tp / self.num_gt if self.num_gt else float("nan")

    def describe(self) -> str:
        """``Precision = 3/5 = 0.60, Recall = 3/3 = 1.00`` for this step."""
        return (
            f"Precision = {self.tp}/{self.tp + self.fp} = {self.precision:.2f}, "
            f"Recall = {self.tp}/{self.num_gt} = {self.recall:.2f}"
        )


@dataclass
class PRWalk:
    """Every step of one class at one IoU, and the areas under the resulting curve."""

    category_id: int
    iou: float
    num_gt: int
    steps: list[WalkStep]

    def counted(self) -> list[WalkStep]:
        return [step for step in self.steps if step.status != "ignored"]

    @property
    def precision(self) -> np.ndarray:
        return np.array([s.precision for s in self.counted()], np.float64)

    @property
    def recall(self) -> np.ndarray:
        return np.array([s.recall for s in self.counted()], np.float64)

    def envelope(self) -> np.ndarray:
        """float64[K]: precision made monotone, max over all later points (interpolation)."""
        precision = self.precision
        return np.maximum.accumulate(precision[::-1])[::-1] if len(precision) else precision

    def coco_points(self) -> np.ndarray:
        """float64[101]: the envelope's precision at recall 0, 0.01, ..., 1 (0 past the end)."""
        recall, envelope = self.recall, self.envelope()
        index = np.searchsorted(recall, RECALL_GRID, side="left")
        out = np.zeros(len(RECALL_GRID))
        inside = index < len(recall)
        out[inside] = envelope[index[inside]]
        return out

    def ap(self, definition: str = "voc2010") -> float:
        """'voc2010' (all-point area), 'voc2007' (11-point) or 'coco' (101-point); -1 when
        the class has no ground truth (as the engine reports it)."""
        if self.num_gt == 0:
            return -1.0
        if definition == "coco":
            return float(np.mean(self.coco_points()))
        return voc_ap(self.recall, self.precision, eleven_point=definition == "voc2007")


def _image_detections(dt, category_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of this class's detections in one image, COCO's order and 100 cut."""
    index = np.flatnonzero(dt.labels == category_id)
    order = np.argsort(-dt.scores[index], kind="mergesort")
    return index[order][:MAX_DETS], dt.scores[index[order][:MAX_DETS]]


def _match_image(gt, dt, category_id: int, iou: float) -> list[tuple[int, str, float, int]]:
    """(detection index, status, IoU, GT index) per detection of one image, score order,
    matched as COCOeval does: GT sorted non-ignored first, each detection takes the
    best-IoU GT still free (a crowd region can take several), never trading a real GT
    for an ignored one."""
    det_index, _ = _image_detections(dt, category_id)
    gt_index = np.flatnonzero(gt.labels == category_id)
    gt_index = gt_index[np.argsort(gt.effective_ignore[gt_index], kind="mergesort")]
    ignored, crowd = gt.effective_ignore[gt_index], gt.iscrowd[gt_index]
    ious = _ious(dt.boxes[det_index], gt.boxes[gt_index], crowd)
    used = np.zeros(len(gt_index), bool)
    out = []
    for row, d in enumerate(det_index):
        best, best_iou = -1, min(float(iou), 1 - 1e-10)
        for g in range(len(gt_index)):
            if used[g] and not crowd[g]:
                continue
            if best >= 0 and not ignored[best] and ignored[g]:
                break
            if ious[row, g] < best_iou:
                continue
            best, best_iou = g, float(ious[row, g])
        if best < 0:
            closest = float(ious[row].max()) if len(gt_index) else 0.0
            out.append((int(d), "FP", closest, -1))
            continue
        used[best] = True
        out.append((int(d), "ignored" if ignored[best] else "TP", best_iou, int(gt_index[best])))
    return out


def _ious(det_xywh: np.ndarray, gt_xywh: np.ndarray, crowd: np.ndarray) -> np.ndarray:
    """float64[D, G] IoU as the evaluation engine computes it (pycocotools' bbIou in
    float64; a crowd column is intersection over the detection's area)."""
    rows, cols = np.meshgrid(np.arange(len(det_xywh)), np.arange(len(gt_xywh)), indexing="ij")
    rows, cols = rows.ravel(), cols.ravel()
    ious = bbox_iou_pairs(det_xywh[rows], gt_xywh[cols], crowd[cols])
    return ious.reshape(len(det_xywh), len(gt_xywh))


def _xyxy(xywh: np.ndarray) -> np.ndarray:
    boxes = np.asarray(xywh, np.float64).reshape(-1, 4)
    return np.concatenate([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]], axis=1).astype(np.float32)


def pr_walk(data, category_id: int, iou: float = 0.5) -> PRWalk:
    """Walk ``category_id`` of an ``EvaluationInput`` (GT + detections per image) at ``iou``."""
    rows = []
    num_gt = 0
    for image_id in data.image_ids:
        gt, dt = data.gt[image_id], data.detections(image_id)
        num_gt += int(np.sum((gt.labels == category_id) & ~gt.effective_ignore))
        for d, status, match_iou, g in _match_image(gt, dt, category_id, iou):
            rows.append((image_id, d, float(dt.scores[d]), status, match_iou, g, dt.boxes[d]))
    order = np.argsort(-np.array([r[2] for r in rows]), kind="mergesort")
    steps, tp, fp = [], 0, 0
    for k in order:
        image_id, d, score, status, match_iou, g, box = rows[k]
        tp += status == "TP"
        fp += status == "FP"
        steps.append(
            WalkStep(image_id, d, score, _xyxy(box)[0], status, match_iou, g, tp, fp, num_gt)
        )
    return PRWalk(category_id, iou, num_gt, steps)
