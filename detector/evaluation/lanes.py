"""One maxDets lane group of COCOeval.accumulate: every (IoU threshold, area) at once.

For a lane (IoU t, area a, maxDets m) and a category, COCOeval's interpolated precision
at recall r is the maximum of tp / (fp + tp + eps) over the positions whose recall is at
least r. That maximum is always reached where a true positive lands (precision only
falls between them), so only the true positives ("events") are visited: the j-th event
of a category has tp = j and fp = the false positives ranked before it, counted with
prefix sums. The maxima over the events from the recall threshold's step on are one
``maximum.reduceat`` between consecutive steps plus a running maximum over the 101
thresholds. The float operations are COCOeval's own, so every number is identical.
"""

from __future__ import annotations

import numpy as np

from detector.evaluation.gaps import counted_flags
from detector.evaluation.params import EvalParams
from detector.evaluation.tables import MatchedRows

EPS = np.spacing(1)


def fill_lanes(
    precision: np.ndarray,
    recall: np.ndarray,
    rows: MatchedRows,
    classes: np.ndarray,
    npig: np.ndarray,
    steps: np.ndarray,
    params: EvalParams,
    lanes: list[int],
) -> None:
    """Columns ``classes`` of the maxDets indices ``lanes``, from their matched ``rows``.

    npig (int64[K, A]) and steps (int64[K, A, R]) are those categories' positives and
    recall steps; categories without positives get -1, as COCOeval leaves them.
    """
    matched = np.ascontiguousarray((rows.match_gt >= 0).transpose(2, 1, 0))  # [A, T, Dm]
    tp = matched & ~np.ascontiguousarray(rows.match_ignored.transpose(2, 1, 0))
    counted = counted_flags(rows.area, rows.rank, params)  # [A, M, Dm]
    any_tp = tp.any(axis=1)  # [A, Dm]
    class_first = np.searchsorted(rows.cls, np.arange(len(classes) + 1))
    for mi in lanes:
        keep = rows.rank < params.max_dets[mi]
        keep_all = bool(keep.all())
        for ai in range(len(params.area_ranges)):
            gaps_upto = _class_cumsum(rows.gaps[:, ai, mi], class_first, rows.cls)
            lane_tp = tp[ai] if keep_all else tp[ai] & keep[None, :]
            used = counted[ai, mi] | (any_tp[ai] & keep)  # rows that matter beyond gaps
            if used.all():
                idx, cls, first = slice(None), rows.cls, class_first
            else:
                idx = np.flatnonzero(used)
                cls = rows.cls[idx]
                first = np.searchsorted(cls, np.arange(len(classes) + 1))
            false_pos = counted[ai, mi][idx][None, :] & ~matched[ai][:, idx]
            prec, rec = _lane(
                cls, first, gaps_upto[idx], false_pos, lane_tp[:, idx], steps[:, ai], npig[:, ai]
            )
            has_gt = npig[:, ai] > 0
            precision[:, :, classes, ai, mi] = np.where(has_gt[None, None, :], prec, -1.0)
            recall[:, classes, ai, mi] = np.where(has_gt[None, :], rec, -1.0)


def _class_cumsum(values: np.ndarray, class_first: np.ndarray, cls: np.ndarray) -> np.ndarray:
    """Inclusive running sum of ``values`` restarting at each category's first row."""
    total = np.zeros(len(values) + 1, np.int64)
    np.cumsum(values, out=total[1:])
    return total[1:] - total[class_first[cls]]


def _lane(
    cls: np.ndarray,
    class_first: np.ndarray,
    gaps_upto: np.ndarray,
    false_pos: np.ndarray,
    tp: np.ndarray,
    steps: np.ndarray,
    npig: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """precision [T, R, K] and recall [T, K] of one (area, maxDets) for all thresholds.

    fp before the event at matched row i = the gaps of its category up to and including
    i's (gaps_upto) plus its category's matched rows before i that are false positives
    at that threshold (false_pos: bool[T, n]).
    """
    num_t, num_m = tp.shape
    num_classes = len(class_first) - 1
    before = np.zeros(num_t * num_m + 1, np.int64)
    np.cumsum(false_pos.ravel(), out=before[1:])
    events = np.flatnonzero(tp.ravel())  # sorted by threshold, then accumulation order
    event_t = events // num_m
    event_row = events - event_t * num_m
    event_cls = cls[event_row]
    start = event_t * num_m + class_first[event_cls]
    fp = before[events] - before[start] + gaps_upto[event_row]
    group = event_t * num_classes + event_cls
    counts = np.bincount(group, minlength=num_t * num_classes)
    group_start = np.cumsum(counts) - counts
    tp_count = (np.arange(len(events)) - group_start[group] + 1).astype(np.float64)
    event_precision = tp_count / (fp.astype(np.float64) + tp_count + EPS)
    counts = counts.reshape(num_t, num_classes)
    precision = _interpolate(event_precision, group_start, counts, steps)
    return precision, counts / np.maximum(npig, 1)[None, :]


def _interpolate(
    event_precision: np.ndarray, group_start: np.ndarray, counts: np.ndarray, steps: np.ndarray
) -> np.ndarray:
    """precision [T, R, K]: the maximum over each (threshold, category)'s events from
    the recall step on (0 where the category never reaches that recall)."""
    num_t, num_classes = counts.shape
    starts = group_start.reshape(num_t, num_classes, 1)
    ends = starts + counts[:, :, None]
    reached = steps[None, :, :] <= counts[:, :, None]  # [T, K, R]
    bounds = np.concatenate([np.minimum(starts + steps[None, :, :] - 1, ends), ends], axis=2)
    padded = np.concatenate([event_precision, [0.0]])
    segment_max = np.maximum.reduceat(padded, bounds.ravel()).reshape(bounds.shape)
    segment_max = np.where(reached, segment_max[:, :, :-1], 0.0)
    envelope = np.maximum.accumulate(segment_max[:, :, ::-1], axis=2)[:, :, ::-1]
    return envelope.transpose(0, 2, 1)
