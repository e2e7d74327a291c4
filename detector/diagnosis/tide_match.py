"""TIDE's per-image half, vectorised over the whole set: matching and error classification.

Reproduces tidecv 1.0.1 (``TIDEExample`` + ``TIDERun._eval_image``) rule for rule:

* per image, detections sorted by score (stable) and cut to ``max_dets``;
* greedy matching across classes with class-masked IoU: each detection takes the unused
  ground truth of its class with the highest IoU (ties: the first), if IoU >= pos_thresh;
* crowd / ignored ground truth are ignore regions: an unmatched detection of the same class
  whose crowd IoU (intersection over the detection's area) is > pos_thresh is ignored (not
  in the AP, but still classified below);
* every unmatched or ignored detection gets exactly one error, tested in this order:
  no ground truth in the image -> Bkg; same-class IoU in [bg, pos] -> Loc; other-class
  IoU >= pos -> Cls; same-class IoU >= pos with an already-used ground truth -> Dupe;
  any IoU <= bg -> Bkg; else Both;
* Loc / Cls errors aimed at an unused ground truth make it "usable"; among them the
  highest-scoring one (first on ties) is the one a fix turns into a true positive;
* unused ground truth that is not usable is a Miss.

The IoU is pycocotools' bbIou (``detector.evaluation.matching.bbox_iou_pairs``) and the
greedy matching is the evaluation engine's ``match_groups`` with one lane.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.evaluation.flatten import FlatDetections, FlatGroundTruth
from detector.evaluation.inputs import EvaluationInput
from detector.evaluation.matching import (
    Groups,
    bbox_iou_pairs,
    find_groups,
    match_groups,
    pair_indices,
)

CLS, LOC, BOTH, DUPE, BKG, MISS = range(6)
ERROR_NAMES = ("Cls", "Loc", "Both", "Dupe", "Bkg", "Miss")
NO_ERROR = -1
_PAIR_CHUNK = 2_000_000


@dataclass(kw_only=True)
class TideTables:
    """One row per kept detection (``det_*``) and per non-ignored ground truth (``gt_*``).

    det_image (int64[D]) image index into ``image_ids``; det_local: index in that image's
    input arrays; det_class (int64[D]) category id; det_score, det_area (bbox w*h);
    det_seq (int64[D]) tidecv's push order (image order, then score rank); det_tp (bool[D])
    matched; det_ignored (bool[D]) inside an ignore region; det_error (int8[D]) error code
    (NO_ERROR for true positives); det_target (int64[D]) the ground-truth row a Loc / Cls
    error points at (-1 otherwise); det_best (bool[D]) the error a fix turns into a true
    positive. det_match (int64[D]) the matched ground-truth row of a true positive.
    gt_image, gt_local, gt_class, gt_area (bbox w*h), gt_used, gt_usable (bool[G]).
    """

    image_ids: list[int]
    det_image: np.ndarray
    det_local: np.ndarray
    det_class: np.ndarray
    det_score: np.ndarray
    det_area: np.ndarray
    det_seq: np.ndarray
    det_tp: np.ndarray
    det_ignored: np.ndarray
    det_error: np.ndarray
    det_target: np.ndarray
    det_best: np.ndarray
    det_match: np.ndarray
    gt_image: np.ndarray
    gt_local: np.ndarray
    gt_class: np.ndarray
    gt_area: np.ndarray
    gt_used: np.ndarray
    gt_usable: np.ndarray

    @property
    def gt_missed(self) -> np.ndarray:
        return ~self.gt_used & ~self.gt_usable


@dataclass
class _Flat:
    image: np.ndarray
    local: np.ndarray
    cls: np.ndarray
    boxes: np.ndarray
    score: np.ndarray | None = None


def _flatten(data: EvaluationInput) -> tuple[list[int], _Flat, _Flat, _Flat]:
    """(image ids, kept detections, ground truth, ignore regions), each sorted by image."""
    image_ids = data.image_ids
    gts = [data.gt[i] for i in image_ids]
    dts = [data.detections(i) for i in image_ids]

    def concat(parts, dtype, width=None):
        if parts:
            return np.concatenate(parts).astype(dtype, copy=False)
        return np.zeros((0, width) if width else 0, dtype)

    def locals_of(sizes):
        sizes = np.asarray(sizes, np.int64)
        return np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)

    g_sizes, d_sizes = [len(g) for g in gts], [len(d) for d in dts]
    g_image = np.repeat(np.arange(len(gts)), g_sizes)
    g_all = _Flat(
        g_image,
        locals_of(g_sizes),
        concat([g.labels for g in gts], np.int64),
        concat([g.boxes for g in gts], np.float64, 4),
    )
    ignore = concat([g.effective_ignore for g in gts], bool)
    d_image = np.repeat(np.arange(len(dts)), d_sizes)
    d_local = locals_of(d_sizes)
    d_score = concat([d.scores for d in dts], np.float64)
    order = np.lexsort((d_local, -d_score, d_image))
    dets = _Flat(
        d_image[order],
        d_local[order],
        concat([d.labels for d in dts], np.int64)[order],
        concat([d.boxes for d in dts], np.float64, 4)[order],
        d_score[order],
    )
    return image_ids, dets, _subset(g_all, ~ignore), _subset(g_all, ignore)


def _subset(flat: _Flat, keep: np.ndarray) -> _Flat:
    return _Flat(*(None if v is None else v[keep] for v in vars(flat).values()))


def _rank_in_image(image: np.ndarray) -> np.ndarray:
    if image.size == 0:
        return np.zeros(0, np.int64)
    starts = np.flatnonzero(np.r_[True, image[1:] != image[:-1]])
    return np.arange(image.size) - np.repeat(starts, np.diff(np.r_[starts, image.size]))


def tide_tables(
    data: EvaluationInput, pos_thresh: float = 0.5, bg_thresh: float = 0.1, max_dets: int = 100
) -> TideTables:
    """Match and classify every detection of ``data`` (bbox) as tidecv does."""
    image_ids, dets, gt, regions = _flatten(data)
    rank = _rank_in_image(dets.image)
    dets = _subset(dets, rank < max_dets)
    seq = np.arange(dets.image.size)
    match = _greedy_match(dets, gt, pos_thresh)
    tp = match >= 0
    gt_used = np.zeros(gt.image.size, bool)
    gt_used[match[tp]] = True
    ignored = ~tp & _in_ignore_region(dets, regions, pos_thresh)
    error, target = _classify(dets, gt, gt_used, tp, pos_thresh, bg_thresh)
    best, usable = _best_candidates(error, target, gt_used, dets.score, seq, gt.image.size)
    return TideTables(
        image_ids=image_ids,
        det_image=dets.image,
        det_local=dets.local,
        det_class=dets.cls,
        det_score=dets.score,
        det_area=dets.boxes[:, 2] * dets.boxes[:, 3],
        det_seq=seq,
        det_tp=tp,
        det_ignored=ignored,
        det_error=error,
        det_target=target,
        det_best=best,
        det_match=match,
        gt_image=gt.image,
        gt_local=gt.local,
        gt_class=gt.cls,
        gt_area=gt.boxes[:, 2] * gt.boxes[:, 3],
        gt_used=gt_used,
        gt_usable=usable,
    )


def _greedy_match(dets: _Flat, gt: _Flat, pos_thresh: float) -> np.ndarray:
    """int64[D]: matched ground-truth row per detection (-1: none), tidecv's greedy rule.

    The engine's matcher breaks IoU ties to the last column (COCOeval); tidecv's argmax
    takes the first, so ground truth enters each group in reversed order."""
    classes, d_cls = np.unique(np.r_[dets.cls, gt.cls], return_inverse=True)
    d_idx, g_idx = d_cls[: dets.cls.size], d_cls[dets.cls.size :]
    k = max(classes.size, 1)
    d_order = np.lexsort((np.arange(dets.image.size), d_idx, dets.image))
    g_order = np.lexsort((-gt.local, g_idx, gt.image))
    zeros_d, zeros_g = np.zeros(d_order.size), np.zeros(g_order.size)
    flat_dt = FlatDetections(
        dets.image[d_order], d_idx[d_order], d_order, dets.boxes[d_order], zeros_d, zeros_d, zeros_d
    )
    no = np.zeros(g_order.size, bool)
    flat_gt = FlatGroundTruth(
        gt.image[g_order], g_idx[g_order], g_order, gt.boxes[g_order], zeros_g, no, no
    )
    groups = find_groups(flat_gt, flat_dt, k)
    _, d_rows, g_rows = pair_indices(groups)
    ious = bbox_iou_pairs(flat_dt.boxes[d_rows], flat_gt.boxes[g_rows], no[g_rows])
    matches = match_groups(groups, ious, flat_gt, np.array([pos_thresh]), np.array([[0.0, 0.0]]))
    out = np.full(dets.image.size, -1, np.int64)
    chosen = matches.gt_row[:, 0, 0]
    hit = chosen >= 0
    out[d_order[matches.dt_row[hit]]] = g_order[chosen[hit]]
    return out


def _image_groups(det_image: np.ndarray, gt_image: np.ndarray, num_images: int) -> Groups:
    d_count = np.bincount(det_image, minlength=num_images)
    g_count = np.bincount(gt_image, minlength=num_images)
    keep = (d_count > 0) & (g_count > 0)
    d_start = np.cumsum(d_count) - d_count
    g_start = np.cumsum(g_count) - g_count
    return Groups(d_start[keep], d_count[keep], g_start[keep], g_count[keep])


def _chunks(groups: Groups):
    """Sub-Groups of at most ~_PAIR_CHUNK pairs each (whole images)."""
    sizes = groups.dt_count * groups.gt_count
    chunk = (np.cumsum(sizes) - sizes) // _PAIR_CHUNK
    edges = np.r_[np.flatnonzero(np.r_[True, chunk[1:] != chunk[:-1]]), sizes.size]
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        yield Groups(*(v[lo:hi] for v in vars(groups).values()))


def _in_ignore_region(dets: _Flat, regions: _Flat, pos_thresh: float) -> np.ndarray:
    """bool[D]: crowd IoU > pos_thresh with an ignore region of the detection's class."""
    out = np.zeros(dets.image.size, bool)
    if regions.image.size == 0 or dets.image.size == 0:
        return out
    num_images = int(max(dets.image.max(), regions.image.max())) + 1
    groups = _image_groups(dets.image, regions.image, num_images)
    if groups.dt_count.size == 0:
        return out
    for part in _chunks(groups):
        _, d_rows, g_rows = pair_indices(part)
        iou = bbox_iou_pairs(dets.boxes[d_rows], regions.boxes[g_rows], np.ones(d_rows.size, bool))
        hit = (iou > pos_thresh) & (dets.cls[d_rows] == regions.cls[g_rows])
        out[d_rows[hit]] = True
    return out


def _classify(
    dets: _Flat, gt: _Flat, gt_used: np.ndarray, tp: np.ndarray, pos: float, bg: float
) -> tuple[np.ndarray, np.ndarray]:
    """(error int8[D], target int64[D]) for every detection, tidecv's order of tests."""
    n = dets.image.size
    error = np.where(tp, NO_ERROR, BKG).astype(np.int8)  # no ground truth in the image: Bkg
    target = np.full(n, -1, np.int64)
    num_images = int(max(dets.image.max(initial=-1), gt.image.max(initial=-1))) + 1
    groups = _image_groups(dets.image, gt.image, num_images)
    if groups.dt_count.size == 0:
        return error, target
    for part in _chunks(groups):
        _, d_rows, g_rows = pair_indices(part)
        iou = bbox_iou_pairs(dets.boxes[d_rows], gt.boxes[g_rows], np.zeros(d_rows.size, bool))
        same = dets.cls[d_rows] == gt.cls[g_rows]
        starts = np.flatnonzero(np.r_[True, d_rows[1:] != d_rows[:-1]])
        rows = d_rows[starts]
        cls_max, cls_arg = _segment_max(iou * same, starts, g_rows)
        oth_max, oth_arg = _segment_max(iou * ~same, starts, g_rows)
        used_max, _ = _segment_max(iou * same * gt_used[g_rows], starts, g_rows)
        all_max, _ = _segment_max(iou, starts, g_rows)
        code = np.select(
            [(bg <= cls_max) & (cls_max <= pos), oth_max >= pos, used_max >= pos, all_max <= bg],
            [LOC, CLS, DUPE, BKG],
            BOTH,
        ).astype(np.int8)
        code = np.where(tp[rows], NO_ERROR, code)
        error[rows] = code
        target[rows] = np.where(code == LOC, cls_arg, np.where(code == CLS, oth_arg, -1))
    return error, target


def _segment_max(
    values: np.ndarray, starts: np.ndarray, columns: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per contiguous segment: the max and the column of its first occurrence (argmax)."""
    best = np.maximum.reduceat(values, starts)
    lengths = np.diff(np.r_[starts, values.size])
    hit = values == np.repeat(best, lengths)
    position = np.where(hit, np.arange(values.size), values.size)
    first = np.minimum.reduceat(position, starts)
    return best, columns[first]


def _best_candidates(
    error: np.ndarray,
    target: np.ndarray,
    gt_used: np.ndarray,
    score: np.ndarray,
    seq: np.ndarray,
    num_gt: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(best bool[D], usable bool[G]): tidecv's BestGTMatch over Loc and Cls errors."""
    aimed = ((error == LOC) | (error == CLS)) & (target >= 0)
    aimed &= ~gt_used[np.maximum(target, 0)]
    usable = np.zeros(num_gt, bool)
    usable[target[aimed]] = True
    rows = np.flatnonzero(aimed)
    order = rows[np.lexsort((seq[rows], -score[rows], target[rows]))]
    first = np.r_[True, target[order][1:] != target[order][:-1]] if order.size else order
    best = np.zeros(error.size, bool)
    best[order[first.astype(bool)]] = True
    return best, usable
