"""One evaluated block of images: detections in accumulation order plus their matches."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.evaluation.flatten import FlatDetections, FlatGroundTruth, flatten
from detector.evaluation.gaps import gap_counts
from detector.evaluation.inputs import EvaluationInput
from detector.evaluation.matching import (
    Groups,
    Matches,
    bbox_iou_pairs,
    find_groups,
    match_groups,
    pair_indices,
)
from detector.evaluation.params import EvalParams, IouType

DET_COLUMNS = ("img", "cls", "neg_score", "area", "rank", "local", "has_match")
GT_COLUMNS = ("img", "cls", "area", "ignore", "local")


@dataclass(kw_only=True)
class Block:
    """Detections sorted by (category, -score, image, rank): COCOeval's accumulate order.

    det: columns DET_COLUMNS, one row per kept detection. match_gt (int32[Dm, T, A]):
    for the rows with ``has_match`` (same order), the matched ground truth's index in its
    image's input (-1: none); match_ignored (bool[Dm, T, A]): that ground truth is ignored
    in that area range (the detection then counts as neither TP nor FP). gt: GT_COLUMNS.
    gaps (int32[Dm, A, M]): counted never-matched detections before each matched row
    (see gaps.py).
    """

    det: dict[str, np.ndarray]
    match_gt: np.ndarray
    match_ignored: np.ndarray
    gt: dict[str, np.ndarray]
    gaps: np.ndarray


def evaluate_block(
    data: EvaluationInput,
    image_ids: list[int],
    image_index: dict[int, int],
    params: EvalParams,
    iou_type: IouType,
) -> Block:
    """Flatten, compute IoUs, match: the per-image half of COCOeval for ``image_ids``."""
    gt, dt = flatten(data, image_index, image_ids, params)
    groups = find_groups(gt, dt, len(data.categories))
    if iou_type == "segm":
        ious = _segm_ious(groups, dt, gt, data, image_ids, image_index)
    else:
        _, d_rows, g_rows = pair_indices(groups)
        ious = bbox_iou_pairs(dt.boxes[d_rows], gt.boxes[g_rows], gt.crowd[g_rows])
    matches = match_groups(groups, ious, gt, params.matching_thresholds, params.area_ranges)
    return _assemble(gt, dt, matches, params)


def _assemble(
    gt: FlatGroundTruth, dt: FlatDetections, matches: Matches, params: EvalParams
) -> Block:
    order = np.lexsort((dt.rank, dt.img, -dt.score, dt.cls))
    matched_any = (matches.gt_row >= 0).any(axis=(1, 2))
    has_match = np.zeros(len(dt.img), bool)
    has_match[matches.dt_row[matched_any]] = True
    has_match = has_match[order]
    position = np.empty(len(order), np.int64)
    position[order] = np.arange(len(order))
    dt_rows = matches.dt_row[matched_any]
    rows = matches.gt_row[matched_any][np.argsort(position[dt_rows])]
    det = {
        "img": dt.img[order],
        "cls": dt.cls[order],
        "neg_score": -dt.score[order],
        "area": dt.area[order],
        "rank": dt.rank[order],
        "local": dt.local[order],
        "has_match": has_match,
    }
    matched = rows >= 0
    safe = np.maximum(rows, 0)
    ignored_by_area = gt.ignored_in(params.area_ranges)  # [A, G]
    area_index = np.arange(len(params.area_ranges))[None, None, :]
    match_ignored = matched & ignored_by_area[area_index, safe] if len(gt.img) else matched
    match_gt = np.where(matched, gt.local[safe] if len(gt.img) else -1, -1).astype(np.int32)
    gt_cols = {
        "img": gt.img,
        "cls": gt.cls,
        "area": gt.area,
        "ignore": gt.ignore,
        "local": gt.local,
    }
    return Block(
        det=det,
        match_gt=match_gt,
        match_ignored=match_ignored,
        gt=gt_cols,
        gaps=gap_counts(det, params),
    )


def _segm_ious(
    groups: Groups,
    dt: FlatDetections,
    gt: FlatGroundTruth,
    data: EvaluationInput,
    image_ids: list[int],
    image_index: dict[int, int],
) -> np.ndarray:
    from pycocotools import mask as mask_utils

    id_of = {index: image_id for image_id, index in image_index.items()}
    parts = []
    for ds, dc, gs, gc in zip(
        groups.dt_start, groups.dt_count, groups.gt_start, groups.gt_count, strict=True
    ):
        image_id = id_of[int(dt.img[ds])]
        dt_masks, gt_masks = data.dt[image_id].masks, data.gt[image_id].masks
        if dt_masks is None or gt_masks is None:
            from detector.evaluation.params import EvaluationError

            raise EvaluationError(f"segm evaluation: image {image_id} has no masks")
        d = [dt_masks[i] for i in dt.local[ds : ds + dc]]
        g = [gt_masks[i] for i in gt.local[gs : gs + gc]]
        iou = mask_utils.iou(d, g, [int(c) for c in gt.crowd[gs : gs + gc]])
        parts.append(np.asarray(iou, dtype=np.float64).reshape(dc * gc))
    return np.concatenate(parts) if parts else np.zeros(0)
