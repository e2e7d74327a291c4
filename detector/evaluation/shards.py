"""Evaluation split by image across processes, merged into the result of one process.

Matching (IoUs and greedy assignment) is per image, so each rank matches only its shard
of the images (:func:`detector.inference.shard.shard_indices` of the sorted image ids,
the same rule ``detect`` uses) into a :class:`~detector.evaluation.block.Block`;
:func:`merge_blocks` puts the blocks back into accumulation order and recomputes the
unmatched-detection gaps, and accumulation runs once on the merged tables. The merged
result equals :func:`~detector.evaluation.engine.evaluate` on the whole set.
"""

from __future__ import annotations

import numpy as np

from detector.evaluation.accumulate import accumulate
from detector.evaluation.block import DET_COLUMNS, GT_COLUMNS, Block, evaluate_block
from detector.evaluation.gaps import gap_counts
from detector.evaluation.inputs import EvaluationInput
from detector.evaluation.params import EvalParams
from detector.evaluation.result import EvaluationResult
from detector.inference.shard import shard_indices


def shard_image_ids(data: EvaluationInput, rank: int, world_size: int) -> list[int]:
    """The image ids rank ``rank`` of ``world_size`` matches (every image exactly once)."""
    image_ids = sorted(data.image_ids)
    return [image_ids[i] for i in shard_indices(len(image_ids), rank, world_size)]


def evaluate_shard(
    data: EvaluationInput, image_ids: list[int], iou_type: str, params: EvalParams
) -> Block:
    """Match ``image_ids`` only; image indices are global, so blocks of shards merge."""
    image_index = {image_id: i for i, image_id in enumerate(data.image_ids)}
    return evaluate_block(data, image_ids, image_index, params, iou_type)


def merge_blocks(blocks: list[Block], params: EvalParams) -> Block:
    """One Block in accumulation order (category, -score, image, rank) from shard blocks."""
    det = {name: np.concatenate([b.det[name] for b in blocks]) for name in DET_COLUMNS}
    match_gt = np.concatenate([b.match_gt for b in blocks])
    match_ignored = np.concatenate([b.match_ignored for b in blocks])
    order = np.lexsort((det["rank"], det["img"], det["neg_score"], det["cls"]))
    match_row = np.cumsum(det["has_match"]) - 1  # row of each matched detection in match_*
    matched_order = match_row[order][det["has_match"][order]]
    det = {name: column[order] for name, column in det.items()}
    gt = {name: np.concatenate([b.gt[name] for b in blocks]) for name in GT_COLUMNS}
    gt_order = np.argsort(gt["img"], kind="stable")
    gt = {name: column[gt_order] for name, column in gt.items()}
    return Block(
        det,
        match_gt[matched_order],
        match_ignored[matched_order],
        gt,
        gap_counts(det, params),
    )


def result_from_blocks(
    data: EvaluationInput, blocks: list[Block], iou_type: str, params: EvalParams
) -> EvaluationResult:
    """Accumulate the merged shard blocks: the numbers of one process's ``evaluate``."""
    tables = merge_blocks(blocks, params)
    accumulated = accumulate(tables, len(data.categories), params)
    return EvaluationResult(data, iou_type, params, accumulated, tables)
