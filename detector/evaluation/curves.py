"""Raw per-class PR curves (one point per detection) and per-image match details."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.evaluation.params import ApDefinition, EvaluationError
from detector.evaluation.voc import voc_ap


@dataclass(kw_only=True)
class PRCurve:
    """One category at one IoU (all areas, maxDets 100), detections in COCO's rank order.

    Every non-ignored detection is a point: scores, precision = tp / (tp + fp), recall =
    tp / num_positives, true_positive, and its reference (image_ids, detection_indices:
    the index in that image's input detections) so a GUI can show the operating point.
    """

    category_id: int
    iou: float
    num_positives: int
    scores: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    true_positive: np.ndarray
    image_ids: np.ndarray
    detection_indices: np.ndarray
    interpolated: np.ndarray  # COCO's 101-point precision at recall 0:0.01:1

    def ap(self, definition: ApDefinition = "coco") -> float:
        """AP as 'coco' (101-point), 'voc2007' (11-point) or 'voc2010' (all-point area)."""
        if self.num_positives == 0:
            return -1.0
        if definition == "coco":
            return float(np.mean(self.interpolated))
        if definition in ("voc2007", "voc2010"):
            return voc_ap(self.recall, self.precision, eleven_point=definition == "voc2007")
        raise EvaluationError(f"unknown AP definition {definition!r} (coco, voc2007, voc2010)")


def _lane_status(result, rows: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
    """(true positive, ignored) of detection rows at threshold t, all areas, 100 dets."""
    tables = result.tables
    det = tables.det
    match_index = np.cumsum(det["has_match"]) - 1
    has = det["has_match"][rows]
    gt = np.full(len(rows), -1)
    ignored_gt = np.zeros(len(rows), bool)
    gt[has] = tables.match_gt[match_index[rows[has]], t, 0]
    ignored_gt[has] = tables.match_ignored[match_index[rows[has]], t, 0]
    lo, hi = result.params.area_ranges[0]
    out_of_area = (det["area"][rows] < lo) | (det["area"][rows] > hi)
    matched = gt >= 0
    ignored = (matched & ignored_gt) | (~matched & out_of_area)
    return matched & ~ignored, ignored


def pr_curve(result, k: int, t: int) -> PRCurve:
    det = result.tables.det
    lo = int(np.searchsorted(det["cls"], k, "left"))
    hi = int(np.searchsorted(det["cls"], k, "right"))
    rows = np.arange(lo, hi)
    tp, ignored = _lane_status(result, rows, t)
    rows, tp = rows[~ignored], tp[~ignored]
    npig = int(result.accumulated.num_positives[k, 0])
    tp_sum = np.cumsum(tp).astype(np.float64)
    fp_sum = np.cumsum(~tp).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = tp_sum / (tp_sum + fp_sum)
        recall = tp_sum / npig if npig else np.zeros_like(tp_sum)
    image_ids = np.asarray(result.image_ids, np.int64)[det["img"][rows]]
    return PRCurve(
        category_id=result.category_ids[k],
        iou=float(result.params.iou_thresholds[t]),
        num_positives=npig,
        scores=-det["neg_score"][rows],
        precision=precision,
        recall=recall,
        true_positive=tp,
        image_ids=image_ids,
        detection_indices=det["local"][rows],
        interpolated=result.precision[t, :, k, 0, -1].copy(),
    )


@dataclass(kw_only=True)
class ImageMatches:
    """One image at every IoU threshold (all areas, maxDets 100).

    dt_gt_id (int64[D, T]): matched ground-truth annotation id, -1 if none; dt_iou
    (float64[D, T]): its IoU (nan if none); dt_status (int8[D, T]): 1 TP, 0 FP,
    -1 ignored or not evaluated (category unknown, beyond maxDets). gt_matched (bool[G, T]);
    gt_dt_index (int64[G, T]): the matching detection's index, -1 if missed (FN).
    """

    image_id: int
    dt_gt_id: np.ndarray
    dt_iou: np.ndarray
    dt_status: np.ndarray
    gt_matched: np.ndarray
    gt_dt_index: np.ndarray


def image_matches(result, image_id: int) -> ImageMatches:
    if image_id not in result.data.gt:
        raise EvaluationError(f"image {image_id} is not in the evaluated set")
    det = result.tables.det
    index = result.image_ids.index(image_id)
    gt_inst, dt_inst = result.data.gt[image_id], result.data.detections(image_id)
    t_count = len(result.params.iou_thresholds)
    rows = np.flatnonzero(det["img"] == index)
    status = np.full((len(dt_inst), t_count), -1, np.int8)
    gt_local = np.full((len(dt_inst), t_count), -1)
    gt_dt = np.full((len(gt_inst), t_count), -1)
    match_index = np.cumsum(det["has_match"]) - 1
    for t in range(t_count):
        tp, ignored = _lane_status(result, rows, t)
        status[det["local"][rows], t] = np.where(ignored, -1, tp.astype(np.int8))
    has = rows[det["has_match"][rows]]
    local_gt = result.tables.match_gt[match_index[has], :, 0]  # [n, T]
    gt_local[det["local"][has]] = local_gt
    d_idx, t_idx = np.nonzero(gt_local >= 0)
    gt_dt[gt_local[d_idx, t_idx], t_idx] = d_idx
    ious = _pair_ious(result, gt_inst, dt_inst, d_idx, gt_local[d_idx, t_idx])
    dt_iou = np.full(gt_local.shape, np.nan)
    dt_iou[d_idx, t_idx] = ious
    dt_gt_id = np.full(gt_local.shape, -1, np.int64)
    dt_gt_id[d_idx, t_idx] = gt_inst.ids[gt_local[d_idx, t_idx]]
    return ImageMatches(
        image_id=image_id,
        dt_gt_id=dt_gt_id,
        dt_iou=dt_iou,
        dt_status=status,
        gt_matched=gt_dt >= 0,
        gt_dt_index=gt_dt,
    )


def _pair_ious(result, gt_inst, dt_inst, d_idx: np.ndarray, g_idx: np.ndarray) -> np.ndarray:
    if d_idx.size == 0:
        return np.zeros(0)
    from detector.evaluation.matching import bbox_iou_pairs, mask_iou_pairs

    if result.iou_type == "segm":
        return mask_iou_pairs(dt_inst.masks, gt_inst.masks, gt_inst.iscrowd, d_idx, g_idx)
    return bbox_iou_pairs(dt_inst.boxes[d_idx], gt_inst.boxes[g_idx], gt_inst.iscrowd[g_idx])
