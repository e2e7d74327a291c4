"""The cached evaluation state, its one-image replacement and per-class slices.

replace_image is the incremental path: the edited image's rows leave, its new rows are
merged in by binary search, and every column is rebuilt from a few dozen contiguous
slices (one memcpy each), so an edit costs about one copy of the tables, no sort.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.evaluation.block import DET_COLUMNS, GT_COLUMNS, Block
from detector.evaluation.gaps import ranges, refresh_gaps
from detector.evaluation.params import EvalParams


def replace_image(
    tables: Block, image: int, new: Block, params: EvalParams
) -> tuple[Block, np.ndarray]:
    """(``tables`` with every row of image index ``image`` replaced by ``new``'s rows,
    the sorted category indices whose rows changed: the old and new rows' categories).

    Both are in accumulation order (category, -score, image, rank).
    """
    det = tables.det
    removed = np.flatnonzero(det["img"] == image)
    removed_matched = np.flatnonzero(det["has_match"][removed])
    match_index = np.cumsum(det["has_match"][: removed[-1] + 1]) if removed.size else None
    positions = _insert_positions(det, removed, new.det, image)
    plan = _splice_plan(len(det["img"]), removed, positions)
    merged = {name: _splice(det[name], new.det[name], plan) for name in DET_COLUMNS}
    removed_m = (
        match_index[removed[removed_matched]] - 1 if match_index is not None else removed[:0]
    )
    match_positions = _matched_positions(det["has_match"], positions[new.det["has_match"]])
    match_plan = _splice_plan(len(tables.match_gt), removed_m, match_positions)
    match_gt = _splice(tables.match_gt, new.match_gt, match_plan)
    match_ignored = _splice(tables.match_ignored, new.match_ignored, match_plan)
    gaps = _splice(tables.gaps, new.gaps, match_plan)
    refresh_gaps(merged, gaps, _changed_rows(removed, positions), params)
    gt_old = tables.gt["img"] == image
    gt_keep = ~gt_old
    gt = {name: np.concatenate([tables.gt[name][gt_keep], new.gt[name]]) for name in GT_COLUMNS}
    touched = np.unique(
        np.concatenate(
            [det["cls"][removed], new.det["cls"], tables.gt["cls"][gt_old], new.gt["cls"]]
        )
    )
    return Block(
        det=merged, match_gt=match_gt, match_ignored=match_ignored, gt=gt, gaps=gaps
    ), touched


def _changed_rows(removed: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Rows of the new table whose gap changed: each inserted row and the one after it,
    and the row now where each removed one was."""
    inserted = positions - np.searchsorted(removed, positions) + np.arange(len(positions))
    vacated = removed - np.arange(len(removed)) + np.searchsorted(positions, removed, "right")
    return np.concatenate([inserted, inserted + 1, vacated])


def _insert_positions(
    det: dict[str, np.ndarray], removed: np.ndarray, new: dict[str, np.ndarray], image: int
) -> np.ndarray:
    """Where each new row goes, as an old row index it is inserted before.

    After rows of a lower category, a higher score, or (same score) a lower image; the
    old rows of ``image`` are being removed, so their own position does not matter.
    """
    cls, neg_score, img = det["cls"], det["neg_score"], det["img"]
    lows = np.searchsorted(cls, new["cls"], side="left")
    highs = np.searchsorted(cls, new["cls"], side="right")
    positions = np.empty(len(new["cls"]), np.int64)
    for i, (lo, hi, score) in enumerate(zip(lows, highs, new["neg_score"], strict=True)):
        segment = neg_score[lo:hi]
        tie_lo = lo + int(np.searchsorted(segment, score, side="left"))
        tie_hi = lo + int(np.searchsorted(segment, score, side="right"))
        positions[i] = tie_lo + int(np.searchsorted(img[tie_lo:tie_hi], image))
    return positions


def _matched_positions(has_match: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Old row positions -> positions among the matched rows (count of matched before)."""
    if positions.size == 0:
        return positions
    matched_rows = np.flatnonzero(has_match[: int(positions.max())])
    return np.searchsorted(matched_rows, positions)


def _splice_plan(
    size: int, removed: np.ndarray, positions: np.ndarray
) -> list[tuple[bool, int, int]]:
    """(from new, start, stop) slices building old-without-``removed`` + new rows.

    ``positions`` (nondecreasing, one per new row in order): the old row index each new
    row is inserted before (``size``: at the end).
    """
    events = sorted(
        [(int(p), 0, i) for i, p in enumerate(positions)] + [(int(r), 1, 0) for r in removed]
    )
    plan: list[tuple[bool, int, int]] = []
    start = 0
    for at, kind, index in events:
        if at > start:
            plan.append((False, start, at))
        start = max(start, at)
        if kind == 1:
            start = at + 1
        elif plan and plan[-1][0] and plan[-1][2] == index:
            plan[-1] = (True, plan[-1][1], index + 1)
        else:
            plan.append((True, index, index + 1))
    if start < size:
        plan.append((False, start, size))
    return plan


def _splice(old: np.ndarray, new: np.ndarray, plan: list[tuple[bool, int, int]]) -> np.ndarray:
    if not plan:
        return old[:0]
    return np.concatenate([(new if from_new else old)[a:b] for from_new, a, b in plan])


@dataclass(kw_only=True)
class MatchedRows:
    """The matched rows of some categories, renumbered 0..K-1 (accumulation order), with
    everything accumulation needs: the other detections only count through ``gaps``."""

    cls: np.ndarray
    area: np.ndarray
    rank: np.ndarray
    match_gt: np.ndarray  # int32[Dm, T, A]
    match_ignored: np.ndarray  # bool[Dm, T, A]
    gaps: np.ndarray  # int32[Dm, A, M]

    def subset(self, part: np.ndarray, num_classes: int) -> MatchedRows:
        """Only the categories ``part`` (sorted, of 0..num_classes-1), renumbered."""
        rows, cls = _class_rows(self.cls, part, num_classes)
        return MatchedRows(
            cls=cls,
            area=self.area[rows],
            rank=self.rank[rows],
            match_gt=self.match_gt[rows],
            match_ignored=self.match_ignored[rows],
            gaps=self.gaps[rows],
        )


def matched_rows(block: Block, classes: np.ndarray, num_classes: int) -> MatchedRows:
    """The matched rows of the sorted category indices ``classes``."""
    det = block.det
    match_pos = np.flatnonzero(det["has_match"])
    rows, cls = _class_rows(det["cls"][match_pos], classes, num_classes)
    pos = match_pos[rows]
    return MatchedRows(
        cls=cls,
        area=det["area"][pos],
        rank=det["rank"][pos],
        match_gt=block.match_gt[rows],
        match_ignored=block.match_ignored[rows],
        gaps=block.gaps[rows],
    )


def top_ranks(det: dict[str, np.ndarray], classes: np.ndarray) -> np.ndarray:
    """The largest score rank among each category's detections (-1: none)."""
    lows = np.searchsorted(det["cls"], classes, side="left")
    highs = np.searchsorted(det["cls"], classes, side="right")
    top = np.full(len(classes), -1, np.int64)
    filled = highs > lows
    if filled.any():
        bounds = np.stack([lows[filled], highs[filled]], 1).ravel()
        rank = np.concatenate([det["rank"], [0]])
        top[filled] = np.maximum.reduceat(rank, bounds)[::2]
    return top


def _class_rows(
    cls: np.ndarray, classes: np.ndarray, num_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """(rows of ``cls`` (sorted) in ``classes``, their category renumbered)."""
    if len(classes) == num_classes:
        return np.arange(len(cls)), cls
    lows = np.searchsorted(cls, classes, side="left")
    highs = np.searchsorted(cls, classes, side="right")
    rows = ranges(lows, highs)
    return rows, np.repeat(np.arange(len(classes)), highs - lows)
