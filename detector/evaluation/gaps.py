"""Counted unmatched detections between matched rows, so accumulation skips the rest.

A detection that no ground truth matches in any lane is a false positive wherever it is
counted (inside the area range, score rank below maxDets) and nothing else. So for each
matched row the engine keeps ``gaps[i, a, m]``: how many such rows of its category lie
between the previous matched row of that category (or the category's first row) and it.
Accumulation then works on the matched rows alone; an edit only recounts the gaps that
the edited image's rows fall into.
"""

from __future__ import annotations

import numpy as np

from detector.evaluation.params import EvalParams


def counted_flags(area: np.ndarray, rank: np.ndarray, params: EvalParams) -> np.ndarray:
    """bool[A, M, n]: the detection is inside area range a and ranked below maxDets m."""
    lo, hi = params.area_ranges[:, 0:1], params.area_ranges[:, 1:2]
    in_area = (area[None, :] >= lo) & (area[None, :] <= hi)
    included = rank[None, :] < np.asarray(params.max_dets)[:, None]
    return in_area[:, None, :] & included[None, :, :]


def gap_counts(det: dict[str, np.ndarray], params: EvalParams) -> np.ndarray:
    """int32[Dm, A, M] of every matched row of ``det`` (accumulation order)."""
    has_match = det["has_match"]
    match_pos = np.flatnonzero(has_match)
    owner = np.cumsum(has_match)  # an unmatched row's next matched row
    rows = np.flatnonzero(~has_match)
    own = owner[rows]
    valid = own < len(match_pos)
    rows, own = rows[valid], own[valid]
    same = det["cls"][match_pos[own]] == det["cls"][rows]
    return _count(det, rows[same], own[same], len(match_pos), params)


def refresh_gaps(
    det: dict[str, np.ndarray], gaps: np.ndarray, changed: np.ndarray, params: EvalParams
) -> None:
    """Recount, in place, the gaps holding the rows at ``changed`` (row indices of
    ``det`` where a row was inserted or from where one was removed)."""
    match_pos = np.flatnonzero(det["has_match"])
    targets = np.unique(np.searchsorted(match_pos, changed))
    targets = targets[targets < len(match_pos)]
    if targets.size == 0:
        return
    hi = match_pos[targets]
    previous = np.where(targets > 0, match_pos[np.maximum(targets - 1, 0)] + 1, 0)
    class_start = np.searchsorted(det["cls"], det["cls"][hi])
    lo = np.maximum(previous, class_start)
    rows = ranges(lo, hi)
    own = np.repeat(np.arange(len(targets)), hi - lo)
    gaps[targets] = _count(det, rows, own, len(targets), params)


def _count(
    det: dict[str, np.ndarray], rows: np.ndarray, own: np.ndarray, size: int, params: EvalParams
) -> np.ndarray:
    flags = counted_flags(det["area"][rows], det["rank"][rows], params)
    num_a, num_m = flags.shape[:2]
    out = np.zeros((size, num_a, num_m), np.int32)
    for a in range(num_a):
        for m in range(num_m):
            out[:, a, m] = np.bincount(own[flags[a, m]], minlength=size)
    return out


def ranges(lows: np.ndarray, highs: np.ndarray) -> np.ndarray:
    """Concatenated aranges [lows[i], highs[i])."""
    sizes = highs - lows
    offsets = np.repeat(lows - (np.cumsum(sizes) - sizes), sizes)
    return np.arange(int(sizes.sum())) + offsets
