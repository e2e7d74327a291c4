"""Confusion matrix at one IoU: rows are ground-truth classes, columns predicted classes.

The last row and column are background. Each detection (score >= threshold, within
maxDets) is counted once: a COCO match to its own class lands on the diagonal; an
unmatched detection that overlaps a still-unmatched ground truth of another class
(IoU >= threshold, greedy by score, best IoU) is a confusion; anything else is a false
positive in the background row. Ground truths left unmatched are misses in the
background column. Detections matched to crowd / ignored regions are not counted.

One pass over the whole set: every detection's COCO status comes from the cached match
tables, the candidate (false positive, free ground truth of another class) pairs of all
images are built and scored at once, and only the pairs at or above the IoU threshold
go through the greedy step. Each counted event keeps its image, so a cell can list the
images behind it (``cell_images``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from detector.evaluation.curves import _lane_status
from detector.evaluation.matching import bbox_iou_pairs, mask_iou_pairs

PAIR_CHUNK = 1 << 19  # candidate pairs scored at a time (bounds the temporary memory)


@dataclass(kw_only=True)
class ConfusionMatrix:
    """matrix int64[K + 1, K + 1]; the per-cell image breakdown is CSR-like: cell
    ``row * (K + 1) + col`` owns ``cell_image_ids[cell_starts[cell]:cell_starts[cell + 1]]``
    (image ids, most events first, then by id) and the matching ``cell_image_counts``."""

    matrix: np.ndarray  # int64[K + 1, K + 1]
    labels: list[str]  # category names + "background"
    iou: float
    score_threshold: float
    ignored_detections: int
    cell_starts: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64), repr=False)
    cell_image_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    cell_image_counts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)

    def _span(self, row: int, col: int) -> slice:
        size = self.matrix.shape[0]
        if not (0 <= row < size and 0 <= col < size):
            raise IndexError(f"cell ({row}, {col}) outside a {size}x{size} matrix")
        cell = row * size + col
        return slice(int(self.cell_starts[cell]), int(self.cell_starts[cell + 1]))

    def cell_images(self, row: int, col: int) -> list[int]:
        """Ids of the images behind one cell, most events first (ties by id)."""
        return self.cell_image_ids[self._span(row, col)].tolist()

    def cell_breakdown(self, row: int, col: int) -> list[tuple[int, int]]:
        """(image id, events in that cell) behind one cell, most first; they sum to the cell."""
        span = self._span(row, col)
        ids, counts = self.cell_image_ids[span].tolist(), self.cell_image_counts[span].tolist()
        return list(zip(ids, counts, strict=True))

    def to_json(self) -> dict:
        return {
            "labels": self.labels,
            "matrix": self.matrix.tolist(),
            "iou": self.iou,
            "score_threshold": self.score_threshold,
            "ignored_detections": self.ignored_detections,
        }


@dataclass(kw_only=True)
class _Flat:
    """Every input instance of the set, images in ``result.image_ids`` order."""

    dt_img: np.ndarray
    dt_cls: np.ndarray
    dt_boxes: np.ndarray
    dt_scores: np.ndarray
    dt_offset: np.ndarray  # first global detection of each image
    gt_img: np.ndarray
    gt_cls: np.ndarray
    gt_boxes: np.ndarray
    gt_crowd: np.ndarray
    gt_ignore: np.ndarray  # effective: crowd or ignore flag
    gt_offset: np.ndarray


def confusion_matrix(result, iou: float = 0.5, score_threshold: float = 0.0) -> ConfusionMatrix:
    t = result.params.iou_index(iou)
    ids = np.asarray(result.category_ids, np.int64)
    size = len(ids) + 1
    flat = _flatten(result, ids)
    status, dt_gt = _detection_status(result, flat, t)
    kept = flat.dt_scores >= score_threshold
    counted = (status >= 0) & kept
    ignored_total = int(np.sum((status == -1) & (dt_gt >= 0) & kept))
    tp = np.flatnonzero(counted & (status == 1))
    gt_free = ~flat.gt_ignore & (flat.gt_cls >= 0)
    gt_free[dt_gt[tp]] = False
    fp = np.flatnonzero(counted & (status == 0))
    fp = fp[np.lexsort((fp, -flat.dt_scores[fp], flat.dt_img[fp]))]  # greedy order
    gt_of_fp = _assign_confusions(result, flat, fp, gt_free, t)
    gt_free[gt_of_fp[gt_of_fp >= 0]] = False
    missed = np.flatnonzero(gt_free)
    background = size - 1
    fp_rows = np.full(fp.size, background, np.int64)
    confused = gt_of_fp >= 0
    fp_rows[confused] = flat.gt_cls[gt_of_fp[confused]]
    rows = np.concatenate([flat.dt_cls[tp], fp_rows, flat.gt_cls[missed]])
    cols = np.concatenate(
        [flat.dt_cls[tp], flat.dt_cls[fp], np.full(missed.size, background, np.int64)]
    )
    images = np.concatenate([flat.dt_img[tp], flat.dt_img[fp], flat.gt_img[missed]])
    cells = rows.astype(np.int64) * size + cols
    matrix = np.bincount(cells, minlength=size * size).astype(np.int64).reshape(size, size)
    labels = [result.data.categories[c] for c in result.category_ids] + ["background"]
    cm = ConfusionMatrix(
        matrix=matrix,
        labels=labels,
        iou=float(result.params.iou_thresholds[t]),
        score_threshold=score_threshold,
        ignored_detections=ignored_total,
    )
    _fill_breakdown(cm, cells, images, np.asarray(result.image_ids, np.int64))
    return cm


def _fill_breakdown(
    cm: ConfusionMatrix, cells: np.ndarray, images: np.ndarray, image_ids: np.ndarray
) -> None:
    size = cm.matrix.shape[0]
    keys, counts = np.unique(cells * max(len(image_ids), 1) + images, return_counts=True)
    cell, image = np.divmod(keys, max(len(image_ids), 1))
    order = np.lexsort((image, -counts, cell))
    cm.cell_starts = np.searchsorted(cell[order], np.arange(size * size + 1)).astype(np.int64)
    cm.cell_image_ids = image_ids[image[order]] if len(image_ids) else image[order]
    cm.cell_image_counts = counts[order].astype(np.int64)


def _flatten(result, ids: np.ndarray) -> _Flat:
    data = result.data
    gts = [data.gt[i] for i in result.image_ids]
    dts = [data.detections(i) for i in result.image_ids]
    dt_sizes = np.array([len(d) for d in dts], np.int64)
    gt_sizes = np.array([len(g) for g in gts], np.int64)
    index = np.arange(len(gts), dtype=np.int64)
    return _Flat(
        dt_img=np.repeat(index, dt_sizes),
        dt_cls=_class_index(_cat([d.labels for d in dts], np.int64), ids),
        dt_boxes=_cat([d.boxes for d in dts], np.float64, 4),
        dt_scores=_cat([d.scores for d in dts], np.float64),
        dt_offset=np.cumsum(dt_sizes) - dt_sizes,
        gt_img=np.repeat(index, gt_sizes),
        gt_cls=_class_index(_cat([g.labels for g in gts], np.int64), ids),
        gt_boxes=_cat([g.boxes for g in gts], np.float64, 4),
        gt_crowd=_cat([g.iscrowd for g in gts], bool),
        gt_ignore=_cat([g.effective_ignore for g in gts], bool),
        gt_offset=np.cumsum(gt_sizes) - gt_sizes,
    )


def _detection_status(result, flat: _Flat, t: int) -> tuple[np.ndarray, np.ndarray]:
    """(status int8: 1 TP, 0 FP, -1 ignored or not evaluated; matched global GT or -1) of
    every input detection at threshold ``t`` (all areas, maxDets 100): image_matches' rules."""
    det, tables = result.tables.det, result.tables
    status = np.full(len(flat.dt_img), -1, np.int8)
    dt_gt = np.full(len(flat.dt_img), -1, np.int64)
    rows = np.arange(len(det["img"]))
    tp, ignored = _lane_status(result, rows, t)
    where = flat.dt_offset[det["img"]] + det["local"]
    status[where] = np.where(ignored, -1, tp.astype(np.int8))
    has = np.flatnonzero(det["has_match"])
    local_gt = tables.match_gt[:, t, 0].astype(np.int64)  # one entry per has_match row
    matched = local_gt >= 0
    dt_gt[where[has[matched]]] = flat.gt_offset[det["img"][has[matched]]] + local_gt[matched]
    return status, dt_gt


def _assign_confusions(result, flat: _Flat, fp: np.ndarray, gt_free, t: int) -> np.ndarray:
    """For each false positive (in greedy order) the free ground truth of another class it
    takes (best IoU >= threshold among those still free), or -1."""
    threshold = result.params.matching_thresholds[t]
    free = np.flatnonzero(gt_free)
    per_image = np.bincount(flat.gt_img[free], minlength=len(flat.gt_offset))
    first = np.cumsum(per_image) - per_image
    reps = per_image[flat.dt_img[fp]]
    ends = np.cumsum(reps)
    pair_det, pair_gt, pair_iou = [], [], []
    start = 0
    while start < fp.size:
        stop = int(np.searchsorted(ends, (ends[start] - reps[start]) + PAIR_CHUNK, "right"))
        stop = max(stop, start + 1)
        d, g = _pairs(fp, start, stop, reps, first, free, flat)
        other_class = flat.dt_cls[fp[d]] != flat.gt_cls[g]
        d, g = d[other_class], g[other_class]
        ious = _ious(result, flat, fp[d], g)
        good = ious >= threshold
        pair_det.append(d[good])
        pair_gt.append(g[good])
        pair_iou.append(ious[good])
        start = stop
    return _greedy(
        fp.size, _cat(pair_det, np.int64), _cat(pair_gt, np.int64), _cat(pair_iou, float)
    )


def _pairs(fp, start: int, stop: int, reps, first, free, flat) -> tuple[np.ndarray, np.ndarray]:
    """(index into fp, global GT) of every (false positive, free GT of its image) pair."""
    counts = reps[start:stop]
    d = np.repeat(np.arange(start, stop), counts)
    offset = np.arange(d.size) - np.repeat(np.cumsum(counts) - counts, counts)
    return d, free[first[flat.dt_img[fp[d]]] + offset]


def _ious(result, flat: _Flat, d: np.ndarray, g: np.ndarray) -> np.ndarray:
    if result.iou_type != "segm":
        return bbox_iou_pairs(flat.dt_boxes[d], flat.gt_boxes[g], flat.gt_crowd[g])
    out = np.zeros(d.size)
    image_ids = result.image_ids
    for image in np.unique(flat.dt_img[d]):
        at = np.flatnonzero(flat.dt_img[d] == image)
        gt_inst = result.data.gt[image_ids[image]]
        out[at] = mask_iou_pairs(
            result.data.detections(image_ids[image]).masks,
            gt_inst.masks,
            gt_inst.iscrowd,
            d[at] - flat.dt_offset[image],
            g[at] - flat.gt_offset[image],
        )
    return out


def _greedy(count: int, det: np.ndarray, gt: np.ndarray, iou: np.ndarray) -> np.ndarray:
    """Detections in order take their best-IoU ground truth not taken by an earlier one
    (ties: the lower GT index, as argmax picks). Only pairs at or above the threshold."""
    taken_by = np.full(count, -1, np.int64)
    order = np.lexsort((gt, -iou, det))
    det, gt = det[order], gt[order]
    shared = np.bincount(gt) > 1 if gt.size else np.zeros(0, bool)  # pairs are unique
    alone = np.ones(count, bool)
    alone[det[shared[gt]]] = False  # a detection with a contested GT goes through the loop
    first = np.r_[True, det[1:] != det[:-1]] if det.size else np.zeros(0, bool)
    quick = first & alone[det]
    taken_by[det[quick]] = gt[quick]
    taken: set[int] = set()
    done = -1
    for d, g in zip(det[~alone[det]].tolist(), gt[~alone[det]].tolist(), strict=True):
        if d == done or g in taken:
            continue
        taken.add(g)
        taken_by[d] = g
        done = d
    return taken_by


def _cat(parts: list[np.ndarray], dtype, width: int | None = None) -> np.ndarray:
    if parts:
        return np.concatenate(parts).astype(dtype, copy=False)
    return np.zeros((0, width) if width else 0, dtype)


def _class_index(labels: np.ndarray, ids: np.ndarray) -> np.ndarray:
    if len(labels) == 0 or len(ids) == 0:
        return np.full(len(labels), -1, np.int64)
    index = np.minimum(np.searchsorted(ids, labels), len(ids) - 1)
    return np.where(ids[index] == labels, index, -1)
