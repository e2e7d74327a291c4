"""COCOeval.accumulate from cached match arrays, touching only true-positive events.

For a lane (IoU t, area a, maxDets m) and a category, COCOeval's interpolated precision
at recall r is the maximum of tp / (fp + tp + eps) over the positions whose recall is at
least r. That maximum is always reached where a true positive lands (precision only
falls between them), so only the true positives ("events") are visited: the j-th event
of a category has tp = j and fp = the false positives ranked before it, counted with two
prefix sums. The float operations are COCOeval's own, so every number is identical.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.evaluation.block import Block
from detector.evaluation.params import EvalParams

EPS = np.spacing(1)


@dataclass
class Accumulated:
    precision: np.ndarray  # [T, R, K, A, M], -1 where a category has no ground truth
    recall: np.ndarray  # [T, K, A, M]
    num_positives: np.ndarray  # int64[K, A]: non-ignored ground truths


def count_positives(gt: dict[str, np.ndarray], num_classes: int, params: EvalParams) -> np.ndarray:
    lo, hi = params.area_ranges[:, 0:1], params.area_ranges[:, 1:2]
    counted = ~gt["ignore"][None, :] & (gt["area"][None, :] >= lo) & (gt["area"][None, :] <= hi)
    return np.stack([np.bincount(gt["cls"][row], minlength=num_classes) for row in counted], 1)


def recall_steps(num_positives: np.ndarray, recall_thresholds: np.ndarray) -> np.ndarray:
    """int64[K, A, R]: the first true-positive count c >= 1 with c / npig >= r (float)."""
    npig = np.maximum(num_positives, 1).astype(np.float64)[..., None]
    thr = recall_thresholds[None, None, :]
    steps = np.ceil(thr * npig).astype(np.int64)
    for _ in range(3):  # fix the rare off-by-one of the product's rounding
        steps = np.where(steps / npig < thr, steps + 1, steps)
        steps = np.where((steps > 1) & ((steps - 1) / npig >= thr), steps - 1, steps)
    return np.maximum(steps, 1)


def accumulate(block: Block, num_classes: int, params: EvalParams) -> Accumulated:
    det = block.det
    t, r, a, m = (
        len(params.iou_thresholds),
        len(params.recall_thresholds),
        len(params.area_ranges),
        len(params.max_dets),
    )
    precision = -np.ones((t, r, num_classes, a, m))
    recall = -np.ones((t, num_classes, a, m))
    npig = count_positives(block.gt, num_classes, params)
    steps = recall_steps(npig, params.recall_thresholds)
    class_start = np.searchsorted(det["cls"], np.arange(num_classes))
    match_pos = np.flatnonzero(det["has_match"])
    order = _Order(
        det["cls"][match_pos],
        class_start,
        match_pos,
        np.searchsorted(match_pos, class_start),
        num_classes,
    )
    matched = (block.match_gt >= 0).transpose(1, 2, 0)  # [T, A, Dm]
    ignored = block.match_ignored.transpose(1, 2, 0)
    rank = det["rank"]
    lo, hi = params.area_ranges[:, 0], params.area_ranges[:, 1]
    for ai in range(a):
        in_area = (det["area"] >= lo[ai]) & (det["area"] <= hi[ai])
        tp_lane = matched[:, ai] & ~ignored[:, ai]  # [T, Dm]
        matched_in_area = matched[:, ai] & in_area[match_pos][None, :]
        for mi, max_det in enumerate(params.max_dets):
            included = rank < max_det
            counted = included & in_area
            prefix = np.concatenate([[0], np.cumsum(counted, dtype=np.int64)])
            keep = included[match_pos][None, :]
            lane = _lane(order, prefix, tp_lane & keep, matched_in_area & keep)
            prec, rec = _interpolate(lane, steps[:, ai], npig[:, ai])
            has_gt = npig[:, ai] > 0
            precision[:, :, has_gt, ai, mi] = prec[:, :, has_gt]
            recall[:, has_gt, ai, mi] = rec[:, has_gt]
    return Accumulated(precision, recall, npig)


@dataclass
class _Order:
    """Accumulation-order bookkeeping of the matched rows."""

    matched_cls: np.ndarray  # category of each matched row
    class_start: np.ndarray  # first detection row of each category
    match_pos: np.ndarray  # detection row of each matched row
    matched_class_start: np.ndarray  # first matched row of each category
    num_classes: int


@dataclass
class _Lane:
    event_t: np.ndarray  # threshold index of each true positive
    event_cls: np.ndarray
    event_j: np.ndarray  # 1-based rank among its (threshold, category) true positives
    precision: np.ndarray  # tp / (fp + tp + eps) at the event
    num_t: int


def _lane(order: _Order, prefix: np.ndarray, tp: np.ndarray, matched_counted: np.ndarray) -> _Lane:
    """Events of one (area, maxDets) for all thresholds: tp, matched_counted are [T, Dm].

    fp before an event = counted detections before it in its category (prefix) minus the
    matched ones among them (which are true positives or ignored, never false positives).
    """
    num_t = tp.shape[0]
    event_t, event_row = np.nonzero(tp)  # sorted by threshold, then accumulation order
    event_cls = order.matched_cls[event_row]
    matched_prefix = np.zeros((num_t, tp.shape[1] + 1), np.int64)
    np.cumsum(matched_counted, axis=1, out=matched_prefix[:, 1:])
    matched_before = (
        matched_prefix[event_t, event_row]
        - matched_prefix[event_t, order.matched_class_start[event_cls]]
    )
    event_pos = order.match_pos[event_row]
    fp = prefix[event_pos] - prefix[order.class_start[event_cls]] - matched_before
    group = event_t * order.num_classes + event_cls
    first = np.r_[True, group[1:] != group[:-1]] if group.size else np.zeros(0, bool)
    starts = np.flatnonzero(first)
    j = np.arange(group.size) - np.repeat(starts, np.diff(np.r_[starts, group.size])) + 1
    tp_count = j.astype(np.float64)
    return _Lane(event_t, event_cls, j, tp_count / (fp.astype(np.float64) + tp_count + EPS), num_t)


def _interpolate(lane: _Lane, steps: np.ndarray, npig: np.ndarray):
    """precision [T, R, K] at the recall thresholds and recall [T, K] of one lane."""
    num_t, num_classes = lane.num_t, len(npig)
    counts = np.bincount(
        lane.event_t * num_classes + lane.event_cls, minlength=num_t * num_classes
    ).reshape(num_t, num_classes)
    width = int(lane.event_j.max()) if lane.event_j.size else 1
    curve = np.zeros((num_t, num_classes, width + 1))
    curve[lane.event_t, lane.event_cls, lane.event_j - 1] = lane.precision
    envelope = np.maximum.accumulate(curve[:, :, ::-1], axis=2)[:, :, ::-1]
    step_index = np.minimum(steps - 1, width)  # [K, R]
    picked = np.take_along_axis(envelope, np.broadcast_to(step_index, (num_t, *steps.shape)), 2)
    reached = steps[None, :, :] <= counts[:, :, None]
    precision = np.where(reached, picked, 0.0).transpose(0, 2, 1)
    recall = counts / np.maximum(npig, 1)[None, :]
    return precision, recall
