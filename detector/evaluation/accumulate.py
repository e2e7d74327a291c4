"""COCOeval.accumulate from cached match arrays, for all categories or only some.

A category's precision and recall depend on its own rows only, so an edit of one image
re-accumulates just the categories of that image's old and new rows (``reaccumulate``);
the lanes themselves are computed in ``lanes`` from the true-positive events.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.evaluation.block import Block
from detector.evaluation.lanes import fill_lanes
from detector.evaluation.params import EvalParams
from detector.evaluation.tables import matched_rows, top_ranks


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
    """COCOeval.accumulate over every category."""
    shape = _shape(params)
    precision = -np.ones((shape[0], shape[1], num_classes, shape[2], shape[3]))
    recall = -np.ones((shape[0], num_classes, shape[2], shape[3]))
    npig = count_positives(block.gt, num_classes, params)
    _fill_classes(precision, recall, block, np.arange(num_classes), npig, params)
    return Accumulated(precision, recall, npig)


def reaccumulate(
    previous: Accumulated, block: Block, classes: np.ndarray, params: EvalParams
) -> Accumulated:
    """``previous`` with only the categories ``classes`` (sorted) accumulated again.

    A category's numbers depend on its own rows only, so after an edit of one image the
    other categories' precision and recall are copied unchanged.
    """
    num_classes = previous.precision.shape[2]
    npig = count_positives(block.gt, num_classes, params)
    precision, recall = previous.precision.copy(), previous.recall.copy()
    if len(classes):
        _fill_classes(precision, recall, block, classes, npig, params)
    return Accumulated(precision, recall, npig)


def _shape(params: EvalParams) -> tuple[int, int, int, int]:
    return (
        len(params.iou_thresholds),
        len(params.recall_thresholds),
        len(params.area_ranges),
        len(params.max_dets),
    )


def _fill_classes(
    precision: np.ndarray,
    recall: np.ndarray,
    block: Block,
    classes: np.ndarray,
    npig: np.ndarray,
    params: EvalParams,
) -> None:
    """Write the columns ``classes`` of precision and recall, computed from their rows.

    The largest maxDets keeps every row; a smaller one equals it for the categories
    without a row it drops (score rank >= maxDets): copied for those, unless most differ.
    """
    num_classes = precision.shape[2]
    rows = matched_rows(block, classes, num_classes)
    npig_sub = npig[classes]
    steps = recall_steps(npig_sub, params.recall_thresholds)
    full = int(np.argmax(params.max_dets))
    top_rank = top_ranks(block.det, classes)
    differs = {mi: top_rank >= m for mi, m in enumerate(params.max_dets) if mi != full}
    together = [full] + [mi for mi, d in differs.items() if 2 * d.sum() > len(classes)]
    fill_lanes(precision, recall, rows, classes, npig_sub, steps, params, together)
    for mi, differ in differs.items():
        if mi in together:
            continue
        same = classes[~differ]
        precision[:, :, same, :, mi] = precision[:, :, same, :, full]
        recall[:, same, :, mi] = recall[:, same, :, full]
        if differ.any():
            part = np.flatnonzero(differ)
            args = (classes[part], npig_sub[part], steps[part], params, [mi])
            fill_lanes(precision, recall, rows.subset(part, len(classes)), *args)
