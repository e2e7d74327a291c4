"""Confusion matrix at one IoU: rows are ground-truth classes, columns predicted classes.

The last row and column are background. Each detection (score >= threshold, within
maxDets) is counted once: a COCO match to its own class lands on the diagonal; an
unmatched detection that overlaps a still-unmatched ground truth of another class
(IoU >= threshold, greedy by score, best IoU) is a confusion; anything else is a false
positive in the background row. Ground truths left unmatched are misses in the
background column. Detections matched to crowd / ignored regions are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.evaluation.curves import image_matches


@dataclass
class ConfusionMatrix:
    matrix: np.ndarray  # int64[K + 1, K + 1]
    labels: list[str]  # category names + "background"
    iou: float
    score_threshold: float
    ignored_detections: int

    def to_json(self) -> dict:
        return {
            "labels": self.labels,
            "matrix": self.matrix.tolist(),
            "iou": self.iou,
            "score_threshold": self.score_threshold,
            "ignored_detections": self.ignored_detections,
        }


def confusion_matrix(result, iou: float = 0.5, score_threshold: float = 0.0) -> ConfusionMatrix:
    t = result.params.iou_index(iou)
    ids = np.asarray(result.category_ids, np.int64)
    size = len(ids) + 1
    matrix = np.zeros((size, size), np.int64)
    ignored_total = 0
    for image_id in result.image_ids:
        ignored_total += _add_image(result, image_id, t, ids, score_threshold, matrix)
    labels = [result.data.categories[c] for c in result.category_ids] + ["background"]
    return ConfusionMatrix(
        matrix, labels, float(result.params.iou_thresholds[t]), score_threshold, ignored_total
    )


def _add_image(result, image_id, t, ids, threshold, matrix) -> int:
    gt, dt = result.data.gt[image_id], result.data.detections(image_id)
    background = len(ids)
    gt_cls = _class_index(gt.labels, ids)
    dt_cls = _class_index(dt.labels, ids)
    if len(gt) == 0 and len(dt) == 0:
        return 0
    matches = image_matches(result, image_id)
    status, gt_dt = matches.dt_status[:, t], matches.gt_dt_index[:, t]
    counted = (status >= 0) & (dt.scores >= threshold) & (dt_cls >= 0)
    ignored = int(np.sum((status == -1) & (matches.dt_gt_id[:, t] >= 0) & (dt.scores >= threshold)))
    tp = counted & (status == 1)
    np.add.at(matrix, (dt_cls[tp], dt_cls[tp]), 1)
    gt_free = (~gt.effective_ignore) & (gt_cls >= 0)
    matched_gt = np.flatnonzero(gt_dt >= 0)
    gt_free[matched_gt[counted[gt_dt[matched_gt]]]] = False
    for d in np.flatnonzero(counted & (status == 0))[
        np.argsort(-dt.scores[counted & (status == 0)], kind="mergesort")
    ]:
        g = _best_free_gt(result, gt, dt, d, gt_free, gt_cls, dt_cls[d], t)
        matrix[gt_cls[g] if g >= 0 else background, dt_cls[d]] += 1
        if g >= 0:
            gt_free[g] = False
    missed = gt_free & (gt_cls >= 0)
    np.add.at(matrix, (gt_cls[missed], np.full(int(missed.sum()), background)), 1)
    return ignored


def _best_free_gt(result, gt, dt, d, gt_free, gt_cls, own_cls, t) -> int:
    candidates = np.flatnonzero(gt_free & (gt_cls != own_cls))
    if candidates.size == 0:
        return -1
    from detector.evaluation.curves import _pair_ious

    ious = _pair_ious(result, gt, dt, np.full(candidates.size, d), candidates)
    best = int(np.argmax(ious))
    return int(candidates[best]) if ious[best] >= result.params.matching_thresholds[t] else -1


def _class_index(labels: np.ndarray, ids: np.ndarray) -> np.ndarray:
    index = np.searchsorted(ids, labels)
    index = np.minimum(index, max(len(ids) - 1, 0))
    return np.where((len(ids) > 0) & (ids[index] == labels), index, -1) if len(labels) else index
