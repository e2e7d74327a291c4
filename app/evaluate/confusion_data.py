"""The confusion matrix split by image, so a cell can list the images behind it (no Qt).

Same rules as ``detector.evaluation.confusion`` (whose totals the tests compare against):
a detection at or above the score threshold that COCO-matches its own class is on the
diagonal; an unmatched one that overlaps a still-free ground truth of another class
(IoU >= threshold, greedy by score, best IoU) is a confusion; any other is a false
positive in the background row; free ground truths left over are misses (background
column). The engine only returns totals, so the per-image split is computed here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ConfusionData:
    matrix: np.ndarray  # int64[K + 1, K + 1], rows ground truth, columns predicted
    labels: list[str]  # category names + "background"
    iou: float
    score_threshold: float
    cells: dict[tuple[int, int], dict[int, int]] = field(default_factory=dict)

    def images_in(self, row: int, column: int) -> list[tuple[int, int]]:
        """(image id, count) behind one cell, most first."""
        per_image = self.cells.get((row, column), {})
        return sorted(per_image.items(), key=lambda item: (-item[1], item[0]))


def confusion_by_image(result, iou: float = 0.5, score_threshold: float = 0.0) -> ConfusionData:
    t = result.params.iou_index(iou)
    category_ids = np.asarray(result.category_ids, np.int64)
    size = len(category_ids) + 1
    data = ConfusionData(
        np.zeros((size, size), np.int64),
        [result.data.categories[c] for c in result.category_ids] + ["background"],
        float(result.params.iou_thresholds[t]),
        score_threshold,
    )
    for image_id in result.image_ids:
        for (row, column), count in image_cells(result, image_id, t, category_ids, score_threshold):
            data.matrix[row, column] += count
            data.cells.setdefault((row, column), {})[image_id] = count
    return data


def image_cells(result, image_id: int, t: int, category_ids: np.ndarray, threshold: float):
    """[((row, column), count)] of one image at IoU index ``t``."""
    gt, dt = result.data.gt[image_id], result.data.detections(image_id)
    if len(gt) == 0 and len(dt) == 0:
        return []
    background = len(category_ids)
    gt_cls, dt_cls = _index_of(gt.labels, category_ids), _index_of(dt.labels, category_ids)
    matches = result.image_matches(image_id)
    status, gt_dt = matches.dt_status[:, t], matches.gt_dt_index[:, t]
    counted = (status >= 0) & (dt.scores >= threshold) & (dt_cls >= 0)
    cells: dict[tuple[int, int], int] = {}
    for d in np.flatnonzero(counted & (status == 1)):
        _add(cells, (dt_cls[d], dt_cls[d]))
    gt_free = ~gt.effective_ignore & (gt_cls >= 0)
    matched = np.flatnonzero(gt_dt >= 0)
    gt_free[matched[counted[gt_dt[matched]]]] = False
    unmatched = np.flatnonzero(counted & (status == 0))
    threshold_iou = result.params.matching_thresholds[t]
    for d in unmatched[np.argsort(-dt.scores[unmatched], kind="mergesort")]:
        candidates = np.flatnonzero(gt_free & (gt_cls != dt_cls[d]))
        g = _best_overlap(dt.boxes[d], gt.boxes[candidates], threshold_iou)
        if g >= 0:
            gt_free[candidates[g]] = False
            _add(cells, (gt_cls[candidates[g]], dt_cls[d]))
        else:
            _add(cells, (background, dt_cls[d]))
    for g in np.flatnonzero(gt_free):
        _add(cells, (gt_cls[g], background))
    return list(cells.items())


def _add(cells: dict[tuple[int, int], int], key: tuple) -> None:
    key = (int(key[0]), int(key[1]))
    cells[key] = cells.get(key, 0) + 1


def _best_overlap(box_xywh: np.ndarray, others_xywh: np.ndarray, threshold: float) -> int:
    """Index of the best-IoU box in ``others`` if that IoU reaches ``threshold``, else -1."""
    if len(others_xywh) == 0:
        return -1
    x1 = np.maximum(box_xywh[0], others_xywh[:, 0])
    y1 = np.maximum(box_xywh[1], others_xywh[:, 1])
    x2 = np.minimum(box_xywh[0] + box_xywh[2], others_xywh[:, 0] + others_xywh[:, 2])
    y2 = np.minimum(box_xywh[1] + box_xywh[3], others_xywh[:, 1] + others_xywh[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    union = box_xywh[2] * box_xywh[3] + others_xywh[:, 2] * others_xywh[:, 3] - inter
    ious = np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
    best = int(np.argmax(ious))
    return best if ious[best] >= threshold else -1


def _index_of(labels: np.ndarray, category_ids: np.ndarray) -> np.ndarray:
    if len(labels) == 0 or len(category_ids) == 0:
        return np.full(len(labels), -1, np.int64)
    index = np.minimum(np.searchsorted(category_ids, labels), len(category_ids) - 1)
    return np.where(category_ids[index] == labels, index, -1)
