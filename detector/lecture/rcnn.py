"""R-CNN versus Fast R-CNN on one image: labels, regression targets, crops and timings.

R-CNN (Girshick et al. 2014) labels each region proposal against the ground truth
(positive: IoU >= 0.5 with a GT box; negative: IoU < 0.3 with all; neutral between),
crops each proposal's pixels, warps them to 224 x 224 and runs the CNN on every crop. Fast
R-CNN runs the backbone once and crops each proposal from the shared feature map with
RoIPool (snapped bins, max) or RoIAlign (exact bins, bilinear samples). The box targets
are the lecture's transform, t_x = (b_x - p_x) / p_w, t_y = (b_y - p_y) / p_h,
t_w = log(b_w / p_w), t_h = log(b_h / p_h) (``encode_boxes`` with weights 1).

Boxes are float32[N, 4] xyxy; ``*_image`` original pixels, ``*_resized`` model input.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.ops import roi_align, roi_pool

from detector.geometry.boxes import box_iou, encode_boxes, xyxy_to_cxcywh
from detector.geometry.roi import (
    rebuild_roi_align,
    rebuild_roi_pool,
    roi_align_geometry,
    roi_pool_geometry,
)
from detector.lecture.shared import backbone_once, synchronize
from detector.lecture.windows import LectureError

POSITIVE_LABEL, NEUTRAL_LABEL, NEGATIVE_LABEL = 1, 0, -1
WARP_SIZE = 224


@dataclass
class ProposalLabels:
    """R-CNN training labels of N proposals against G GT boxes.

    labels (int8[N]): 1 positive, 0 neutral, -1 negative. best_iou (float32[N]): the
    highest IoU with any GT box (0 without GT). best_gt (int64[N]): that GT's index (-1).
    """

    labels: np.ndarray
    best_iou: np.ndarray
    best_gt: np.ndarray

    def count(self, label: int) -> int:
        return int(np.sum(self.labels == label))


def label_proposals(
    proposals_image: np.ndarray, gt_image: np.ndarray, positive: float = 0.5, negative: float = 0.3
) -> ProposalLabels:
    """The lecture's rule: positive IoU >= ``positive``, negative IoU < ``negative`` with
    every GT box, neutral in between."""
    proposals = np.asarray(proposals_image, np.float32).reshape(-1, 4)
    gt = np.asarray(gt_image, np.float32).reshape(-1, 4)
    if len(gt) == 0:
        labels = np.full(len(proposals), NEGATIVE_LABEL, np.int8)
        return ProposalLabels(
            labels, np.zeros(len(proposals), np.float32), np.full(len(proposals), -1)
        )
    ious = np.nan_to_num(box_iou(proposals, gt))
    best_gt = ious.argmax(axis=1).astype(np.int64)
    best_iou = ious.max(axis=1).astype(np.float32)
    labels = np.full(len(proposals), NEUTRAL_LABEL, np.int8)
    labels[best_iou >= positive] = POSITIVE_LABEL
    labels[best_iou < negative] = NEGATIVE_LABEL
    return ProposalLabels(labels, best_iou, best_gt)


@dataclass
class RegressionTargets:
    """The transform each positive proposal should learn (the lecture's formulas).

    proposal (float32[N, 4]): p_x, p_y, p_w, p_h. target (float32[N, 4]): b_x, b_y, b_w,
    b_h of its matched GT box. t (float32[N, 4]): t_x, t_y, t_w, t_h.
    """

    proposal: np.ndarray
    target: np.ndarray
    t: np.ndarray

    def formulas(self, row: int) -> list[str]:
        """The four formulas of proposal ``row`` with its numbers filled in."""
        px, py, pw, ph = (float(v) for v in self.proposal[row])
        bx, by, bw, bh = (float(v) for v in self.target[row])
        tx, ty, tw, th = (float(v) for v in self.t[row])
        return [
            f"t_x = (b_x - p_x) / p_w = ({bx:.1f} - {px:.1f}) / {pw:.1f} = {tx:+.3f}",
            f"t_y = (b_y - p_y) / p_h = ({by:.1f} - {py:.1f}) / {ph:.1f} = {ty:+.3f}",
            f"t_w = log(b_w / p_w) = log({bw:.1f} / {pw:.1f}) = {tw:+.3f}",
            f"t_h = log(b_h / p_h) = log({bh:.1f} / {ph:.1f}) = {th:+.3f}",
        ]


def regression_targets(
    proposals_image: np.ndarray, matched_gt_image: np.ndarray
) -> RegressionTargets:
    """(t_x, t_y, t_w, t_h) taking each proposal to its matched GT box (``encode_boxes``)."""
    proposals = np.asarray(proposals_image, np.float32).reshape(-1, 4)
    gt = np.asarray(matched_gt_image, np.float32).reshape(-1, 4)
    t = encode_boxes(gt, proposals, weights=(1.0, 1.0, 1.0, 1.0))
    return RegressionTargets(xyxy_to_cxcywh(proposals), xyxy_to_cxcywh(gt), t)


def crop_window(box_image: np.ndarray, height: int, width: int) -> tuple[int, int, int, int]:
    """The whole pixels R-CNN crops for a box: floor the top-left, ceil the bottom-right,
    clipped to the image, at least one pixel. Returns x1, y1, x2, y2 (ends exclusive)."""
    x1, y1, x2, y2 = (float(v) for v in box_image)
    left = min(max(int(np.floor(x1)), 0), width - 1)
    top = min(max(int(np.floor(y1)), 0), height - 1)
    right = max(min(int(np.ceil(x2)), width), left + 1)
    bottom = max(min(int(np.ceil(y2)), height), top + 1)
    return left, top, right, bottom


def warp_crops(image: np.ndarray, boxes_image: np.ndarray, size: int = WARP_SIZE) -> np.ndarray:
    """uint8[N, size, size, 3]: each box's pixels (``crop_window``) warped, ignoring the
    aspect ratio, to size x size by bilinear resampling (half-pixel centres, no antialias)."""
    crops = [_warp_one(image, box, size) for box in np.asarray(boxes_image).reshape(-1, 4)]
    if not crops:
        return np.zeros((0, size, size, 3), np.uint8)
    return torch.stack(crops).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def _warp_one(image: np.ndarray, box: np.ndarray, size: int) -> torch.Tensor:
    """float32[3, size, size] 0..255: one crop, warped."""
    left, top, right, bottom = crop_window(box, image.shape[0], image.shape[1])
    crop = torch.from_numpy(np.ascontiguousarray(image[top:bottom, left:right]))
    crop = crop.permute(2, 0, 1)[None].float()
    return F.interpolate(crop, size=(size, size), mode="bilinear", align_corners=False)[0]


@dataclass
class PooledFeatures:
    """Fast R-CNN's crops of N proposals from one shared feature level.

    level: the FPN level name each was pooled from (the model's LevelMapper choice, per box,
    ``levels`` str[N]). roi_pool, roi_align (float32[N, C, P, P]): the engine's RoIPool /
    RoIAlign (detector.geometry.roi), equal to torchvision.ops on the same features.
    """

    levels: list[str]
    roi_pool: np.ndarray
    roi_align: np.ndarray

    @property
    def mean_abs_difference(self) -> np.ndarray:
        """float32[N]: mean |RoIPool - RoIAlign| per proposal: the crop geometry alone."""
        return np.abs(self.roi_pool - self.roi_align).mean(axis=(1, 2, 3))


def pool_from_trace(
    model, trace, boxes_resized: np.ndarray, output_size: int = 7
) -> PooledFeatures:
    """RoIPool and RoIAlign each box (float32[N, 4] resized pixels) on the FPN level the
    box head would use (its LevelMapper), from the trace's kept features (aligned=False and
    the sampling ratio of the model's pooler)."""
    from detector.lecture.windows import trace_features
    from detector.trace.roi import pool_levels

    roi = trace.roi
    if not roi.pool_scales:
        raise LectureError("this model has no multi-scale RoIAlign to pool from")
    features = trace_features(trace)
    boxes = np.asarray(boxes_resized, np.float32).reshape(-1, 4)
    pooler = model.module.roi_heads.box_roi_pool
    with torch.inference_mode():
        level_index = pool_levels(pooler, torch.from_numpy(boxes).to(model.device)).cpu().numpy()
    pools, aligns, names = [], [], []
    for box, level in zip(boxes, level_index, strict=True):
        name, scale = roi.pool_featmap_names[level], roi.pool_scales[level]
        feature = features[name][0].numpy()
        height, width = feature.shape[1:]
        align = roi_align_geometry(
            box, scale, output_size, roi.pool_sampling_ratio, False, height, width
        )
        pool = roi_pool_geometry(box, scale, output_size, height, width)
        aligns.append(rebuild_roi_align(feature, align))
        pools.append(rebuild_roi_pool(feature, pool))
        names.append(name)
    empty = np.zeros((0, 0, output_size, output_size), np.float32)
    return PooledFeatures(
        names, np.stack(pools) if pools else empty, np.stack(aligns) if aligns else empty
    )


@dataclass
class RcnnTiming:
    """R-CNN versus Fast R-CNN, measured on one image with the model's own backbone.

    crops: proposals run R-CNN style (warp to 224 x 224 + backbone on each, one at a time);
    rcnn_per_crop_s: mean seconds per crop. backbone_s: Fast R-CNN's one backbone pass
    (transform included). roi_pool_s, roi_align_s: pooling all ``proposals`` from it.
    proposals: the N both are extrapolated to.
    """

    crops: int
    rcnn_per_crop_s: float
    backbone_s: float
    roi_pool_s: float
    roi_align_s: float
    proposals: int

    @property
    def rcnn_s(self) -> float:
        return self.rcnn_per_crop_s * self.proposals

    @property
    def fast_s(self) -> float:
        return self.backbone_s + self.roi_align_s

    @property
    def ratio(self) -> float:
        return self.rcnn_s / self.fast_s if self.fast_s > 0 else float("nan")


def time_rcnn(model, image: np.ndarray, crops_image: np.ndarray) -> float:
    """Mean seconds to warp one box of ``crops_image`` to 224 x 224 and run the backbone."""
    module = model.module
    mean = torch.tensor(module.transform.image_mean, device=model.device).view(1, 3, 1, 1)
    std = torch.tensor(module.transform.image_std, device=model.device).view(1, 3, 1, 1)
    boxes = np.asarray(crops_image, np.float32).reshape(-1, 4)
    if len(boxes) == 0:
        raise LectureError("no proposals to run R-CNN style")
    with torch.inference_mode():
        started = time.perf_counter()
        for box in boxes:
            crop = _warp_one(image, box, WARP_SIZE)[None].to(model.device) / 255.0
            module.backbone((crop - mean) / std)
        synchronize(model.device)
        return (time.perf_counter() - started) / len(boxes)


def time_fast_rcnn(model, image: np.ndarray, proposals_image: np.ndarray, output_size: int = 7):
    """(backbone_s, roi_pool_s, roi_align_s): one backbone pass, then torchvision's RoIPool
    and RoIAlign of every proposal from the finest shared level (the lecture's picture)."""
    passed = backbone_once(model, image)
    name = next(iter(passed.features))
    feature = passed.features[name]
    scale = feature.shape[-1] / passed.images.tensors.shape[-1]
    height, width = image.shape[:2]
    ratio = np.array([passed.resized_size[1] / width, passed.resized_size[0] / height] * 2)
    boxes = torch.as_tensor(
        np.asarray(proposals_image, np.float32).reshape(-1, 4) * ratio.astype(np.float32),
        device=feature.device,
    )
    with torch.inference_mode():
        started = time.perf_counter()
        roi_pool(feature, [boxes], output_size, scale)
        synchronize(feature.device)
        pooled = time.perf_counter()
        roi_align(feature, [boxes], output_size, scale, 2)
        synchronize(feature.device)
        aligned = time.perf_counter()
    return passed.seconds, pooled - started, aligned - pooled


def compare_rcnn(
    model, image: np.ndarray, proposals_image: np.ndarray, measure: int = 8
) -> RcnnTiming:
    """Time R-CNN on the first ``measure`` proposals (extrapolated to all of them) and Fast
    R-CNN on all of them."""
    proposals = np.asarray(proposals_image, np.float32).reshape(-1, 4)
    per_crop = time_rcnn(model, image, proposals[:measure])
    backbone_s, pool_s, align_s = time_fast_rcnn(model, image, proposals)
    return RcnnTiming(
        min(measure, len(proposals)), per_crop, backbone_s, pool_s, align_s, len(proposals)
    )
