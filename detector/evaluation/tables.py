"""The cached evaluation state and its one-image replacement (the incremental path)."""

from __future__ import annotations

import numpy as np

from detector.evaluation.block import DET_COLUMNS, GT_COLUMNS, Block


def replace_image(tables: Block, image: int, new: Block) -> Block:
    """``tables`` with every row of image index ``image`` replaced by ``new``'s rows.

    Both are in accumulation order (category, -score, image, rank); the new rows are
    merged in by binary search, so the cost is a few passes over flat arrays, no sort.
    """
    det = tables.det
    keep = det["img"] != image
    keep_matched = keep[det["has_match"]]
    kept = {name: det[name][keep] for name in DET_COLUMNS}
    positions = _insert_positions(kept, new.det, image)
    merged = {name: np.insert(kept[name], positions, new.det[name]) for name in DET_COLUMNS}
    old_match_pos = np.flatnonzero(kept["has_match"])
    new_match_at = np.searchsorted(old_match_pos, positions[new.det["has_match"]])
    match_gt = np.insert(tables.match_gt[keep_matched], new_match_at, new.match_gt, axis=0)
    match_ignored = np.insert(
        tables.match_ignored[keep_matched], new_match_at, new.match_ignored, axis=0
    )
    gt_keep = tables.gt["img"] != image
    gt = {name: np.concatenate([tables.gt[name][gt_keep], new.gt[name]]) for name in GT_COLUMNS}
    return Block(merged, match_gt, match_ignored, gt)


def _insert_positions(
    det: dict[str, np.ndarray], new: dict[str, np.ndarray], image: int
) -> np.ndarray:
    """Where each new row goes: after rows of a lower category, higher score, or lower image."""
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
