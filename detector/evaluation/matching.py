"""COCOeval's greedy matching, vectorised over all (image, category) groups and lanes.

A lane is one (IoU threshold, area range) pair. Groups are bucketed by padded size and
walked rank by rank in lockstep: at each rank, every group's detection picks, in every
lane, the best still-free ground truth exactly as ``COCOeval.evaluateImg`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.evaluation.flatten import FlatDetections, FlatGroundTruth


@dataclass
class Groups:
    """(image, category) groups that hold both detections and ground truths."""

    dt_start: np.ndarray
    dt_count: np.ndarray
    gt_start: np.ndarray
    gt_count: np.ndarray


def find_groups(gt: FlatGroundTruth, dt: FlatDetections, num_classes: int) -> Groups:
    k = max(num_classes, 1)
    gt_key, dt_key = gt.img * k + gt.cls, dt.img * k + dt.cls
    gt_keys, gt_start, gt_count = np.unique(gt_key, return_index=True, return_counts=True)
    dt_keys, dt_start, dt_count = np.unique(dt_key, return_index=True, return_counts=True)
    _, in_gt, in_dt = np.intersect1d(gt_keys, dt_keys, assume_unique=True, return_indices=True)
    return Groups(dt_start[in_dt], dt_count[in_dt], gt_start[in_gt], gt_count[in_gt])


def pair_indices(groups: Groups) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(group, detection row, ground-truth row) of every pair inside every group."""
    sizes = groups.dt_count * groups.gt_count
    group = np.repeat(np.arange(sizes.size), sizes)
    offset = np.arange(group.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    g_count = groups.gt_count[group]
    return (
        group,
        groups.dt_start[group] + offset // g_count,
        groups.gt_start[group] + offset % g_count,
    )


def bbox_iou_pairs(dt_boxes: np.ndarray, gt_boxes: np.ndarray, crowd: np.ndarray) -> np.ndarray:
    """pycocotools' bbIou (maskApi.c) on aligned pairs, operation for operation."""
    dx, dy, dw, dh = dt_boxes.T
    gx, gy, gw, gh = gt_boxes.T
    w = np.minimum(dw + dx, gw + gx) - np.maximum(dx, gx)
    h = np.minimum(dh + dy, gh + gy) - np.maximum(dy, gy)
    inter = w * h
    union = np.where(crowd, dw * dh, dw * dh + gw * gh - inter)
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = inter / union
    return np.where((w > 0) & (h > 0), iou, 0.0)


def mask_iou_pairs(
    dt_masks: list[dict], gt_masks: list[dict], crowd: np.ndarray, d: np.ndarray, g: np.ndarray
) -> np.ndarray:
    """pycocotools' mask IoU of the aligned pairs (``dt_masks[d[i]]``, ``gt_masks[g[i]]``) of
    one image (COCO RLEs; ``crowd`` bool per ground truth): one ``mask_utils.iou`` call over
    the masks the pairs use. Returns float64[len(d)]."""
    from pycocotools import mask as mask_utils

    if d.size == 0:
        return np.zeros(0)
    dets, d_inv = np.unique(d, return_inverse=True)
    gts, g_inv = np.unique(g, return_inverse=True)
    matrix = mask_utils.iou(
        [dt_masks[i] for i in dets], [gt_masks[i] for i in gts], [int(crowd[i]) for i in gts]
    )
    return np.asarray(matrix, np.float64).reshape(len(dets), len(gts))[d_inv, g_inv]


@dataclass
class Matches:
    """Detections of groups with ground truth: dt_row (int64[Dg]) and the matched
    ground-truth row per lane, gt_row (int32[Dg, T, A], -1: none)."""

    dt_row: np.ndarray
    gt_row: np.ndarray


def match_groups(
    groups: Groups,
    pair_iou: np.ndarray,
    gt: FlatGroundTruth,
    thresholds: np.ndarray,
    area_ranges: np.ndarray,
) -> Matches:
    """Greedy matching of every group in every lane; ``pair_iou`` follows pair_indices."""
    t, a = len(thresholds), len(area_ranges)
    dt_rows, gt_rows_out = [np.zeros(0, np.int64)], [np.zeros((0, t, a), np.int32)]
    gt_ignored = gt.ignored_in(area_ranges)  # [A, G]
    pair_start = np.r_[0, np.cumsum(groups.dt_count * groups.gt_count)][:-1]
    d_bits = _ceil_log2(groups.dt_count)
    g_bits = _ceil_log2(groups.gt_count)
    bucket_key = d_bits * 64 + g_bits
    for key in np.unique(bucket_key):
        members = np.flatnonzero(bucket_key == key)
        d_pad, g_pad = 1 << int(key // 64), 1 << int(key % 64)
        ious = _padded_ious(groups, members, pair_iou, pair_start, d_pad, g_pad)
        gt_rows = groups.gt_start[members, None] + np.arange(g_pad)
        valid_gt = np.arange(g_pad) < groups.gt_count[members, None]
        gt_rows = np.where(valid_gt, gt_rows, 0)
        crowd = gt.crowd[gt_rows] & valid_gt
        ignored = gt_ignored[:, gt_rows].transpose(1, 0, 2)  # [n, A, Gp]
        local = _lockstep(ious, crowd, ignored, thresholds)  # [n, Dp, T, A]
        rows = groups.dt_start[members, None] + np.arange(d_pad)
        keep = np.arange(d_pad) < groups.dt_count[members, None]
        chosen = local[keep]
        member_of = np.broadcast_to(np.arange(len(members))[:, None], keep.shape)[keep]
        global_gt = np.where(
            chosen >= 0, gt_rows[member_of[:, None, None], np.maximum(chosen, 0)], -1
        )
        dt_rows.append(rows[keep])
        gt_rows_out.append(global_gt.astype(np.int32))
    return Matches(np.concatenate(dt_rows), np.concatenate(gt_rows_out))


def _ceil_log2(values: np.ndarray) -> np.ndarray:
    return np.ceil(np.log2(np.maximum(values, 1))).astype(np.int64)


def _padded_ious(
    groups: Groups,
    members: np.ndarray,
    pair_iou: np.ndarray,
    pair_start: np.ndarray,
    d_pad: int,
    g_pad: int,
) -> np.ndarray:
    ious = np.full((len(members), d_pad, g_pad), -1.0)
    d_count, g_count = groups.dt_count[members], groups.gt_count[members]
    sizes = d_count * g_count
    which = np.repeat(np.arange(len(members)), sizes)
    offset = np.arange(which.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    source = np.repeat(pair_start[members], sizes) + offset
    ious[which, offset // g_count[which], offset % g_count[which]] = pair_iou[source]
    return ious


def _lockstep(
    ious: np.ndarray, crowd: np.ndarray, ignored: np.ndarray, thresholds: np.ndarray
) -> np.ndarray:
    """ious [n, Dp, Gp] (-1 = padding), crowd [n, Gp], ignored [n, A, Gp] -> [n, Dp, T, A]."""
    n, d_pad, g_pad = ious.shape
    t, a = len(thresholds), ignored.shape[1]
    taken = np.zeros((n, t, a, g_pad), bool)
    crowd4 = crowd[:, None, None, :]
    ignored4 = ignored[:, None, :, :]
    thr4 = thresholds[None, :, None, None]
    out = np.full((n, d_pad, t, a), -1, np.int32)
    for r in range(d_pad):
        iou4 = ious[:, r, None, None, :]
        ok = (iou4 >= thr4) & (crowd4 | ~taken)
        best_regular, has_regular = _last_best(np.where(ok & ~ignored4, iou4, -1.0))
        best_ignored, has_ignored = _last_best(np.where(ok & ignored4, iou4, -1.0))
        chosen = np.where(has_regular, best_regular, np.where(has_ignored, best_ignored, -1))
        out[:, r] = chosen
        gi, ti, ai = np.nonzero(chosen >= 0)
        taken[gi, ti, ai, chosen[gi, ti, ai]] = True
    return out


def _last_best(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the maximum over the last axis, ties to the LAST one (COCOeval's ``<``)."""
    reversed_values = values[..., ::-1]
    index = values.shape[-1] - 1 - reversed_values.argmax(axis=-1)
    return index, values.max(axis=-1) > -1.0
