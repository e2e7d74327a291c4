"""Proposals and anchors across the dataset: proposal recall, anchor coverage, a k-means fit.

Proposal recall at N: a ground-truth box counts when one of the RPN's N highest-scoring
proposals overlaps it with IoU >= 0.5 (the proposals a trace keeps are sorted by score).
Anchor coverage compares shapes only (width and height, centred boxes), as mmdetection's
``optimize_anchors`` does: for each ground-truth box, the best IoU with any anchor shape
of the model, and with the shapes k-means (distance 1 - IoU) finds on the ground-truth
boxes in the model's input frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.geometry.boxes import box_iou

PROPOSAL_COUNTS = (100, 300, 1000)
IOU_GRID = np.round(np.arange(0.5, 0.951, 0.05), 2)


def proposal_best_iou(trace, boxes_resized: np.ndarray) -> np.ndarray:
    """float32[G, len(PROPOSAL_COUNTS)]: best IoU of each box with the top-N proposals."""
    proposals = np.asarray(trace.rpn.proposals_resized, np.float32).reshape(-1, 4)
    out = np.zeros((len(boxes_resized), len(PROPOSAL_COUNTS)), np.float32)
    if len(boxes_resized) == 0 or len(proposals) == 0:
        return out
    iou = box_iou(np.asarray(boxes_resized, np.float32), proposals)
    best_so_far = np.maximum.accumulate(iou, axis=1)  # [G, P]: best among the first p + 1
    for j, count in enumerate(PROPOSAL_COUNTS):
        out[:, j] = best_so_far[:, min(count, proposals.shape[0]) - 1]
    return out


def recall_table(proposal_iou: np.ndarray) -> dict:
    """{"at": {N: recall at IoU 0.5}, "iou_curve": {iou: recall of the top-1000}}."""
    if len(proposal_iou) == 0:
        return {"at": {n: 0.0 for n in PROPOSAL_COUNTS}, "iou_curve": {}}
    at = {n: float((proposal_iou[:, j] >= 0.5).mean()) for j, n in enumerate(PROPOSAL_COUNTS)}
    curve = {float(t): float((proposal_iou[:, -1] >= t).mean()) for t in IOU_GRID}
    return {"at": at, "iou_curve": curve}


def anchor_shapes(module) -> np.ndarray:
    """float64[S, 2] (width, height) of every anchor shape of a torchvision R-CNN, in
    input pixels, as AnchorGenerator.generate_anchors computes them."""
    generator = module.rpn.anchor_generator
    shapes = []
    for sizes, ratios in zip(generator.sizes, generator.aspect_ratios, strict=True):
        for ratio in ratios:
            h_ratio = np.sqrt(ratio)
            for size in sizes:
                shapes.append((size / h_ratio, size * h_ratio))
    return np.unique(np.round(np.array(shapes, np.float64), 4), axis=0)


def centered_iou(wh_a: np.ndarray, wh_b: np.ndarray) -> np.ndarray:
    """float64[N, M]: IoU of boxes with the same centre, from (width, height) only."""
    wh_a, wh_b = np.asarray(wh_a, float), np.asarray(wh_b, float)
    inter = np.minimum(wh_a[:, None, 0], wh_b[None, :, 0]) * np.minimum(
        wh_a[:, None, 1], wh_b[None, :, 1]
    )
    union = (wh_a[:, 0] * wh_a[:, 1])[:, None] + (wh_b[:, 0] * wh_b[:, 1])[None, :] - inter
    return inter / np.maximum(union, 1e-12)


def kmeans_shapes(wh: np.ndarray, k: int, seed: int = 0, iterations: int = 100) -> np.ndarray:
    """float64[k, 2]: k-means of (width, height) with distance 1 - centred IoU (centres:
    the mean of their members), sorted by area."""
    wh = np.asarray(wh, float).reshape(-1, 2)
    if len(wh) == 0:
        return np.zeros((0, 2))
    k = min(k, len(np.unique(wh, axis=0)))
    rng = np.random.default_rng(seed)
    centers = wh[rng.choice(len(wh), k, replace=False)]
    assignment = np.full(len(wh), -1)
    for _ in range(iterations):
        new = centered_iou(wh, centers).argmax(axis=1)
        if np.array_equal(new, assignment):
            break
        assignment = new
        for c in range(k):
            members = wh[assignment == c]
            if len(members):
                centers[c] = members.mean(axis=0)
    return centers[np.argsort(centers[:, 0] * centers[:, 1])]


@dataclass(kw_only=True)
class AnchorReport:
    """best_anchor_iou_below: share of boxes whose best real anchor IoU is < 0.7 / < 0.3;
    current / suggested: shapes (w, h) with coverage = share of boxes whose best centred IoU
    is >= 0.5 and mean_iou; suggested_sizes / suggested_ratios: sqrt(w h) and h / w."""

    best_anchor_iou_below: dict[str, float]
    current_shapes: np.ndarray
    current_coverage: float
    current_mean_iou: float
    suggested_shapes: np.ndarray
    suggested_coverage: float
    suggested_mean_iou: float

    def to_json(self) -> dict:
        return {
            "best_anchor_iou_below": self.best_anchor_iou_below,
            "current": {"coverage": self.current_coverage, "mean_iou": self.current_mean_iou},
            "suggested": {
                "sizes": np.sqrt(self.suggested_shapes.prod(axis=1)).round(1).tolist(),
                "ratios": (self.suggested_shapes[:, 1] / self.suggested_shapes[:, 0])
                .round(2)
                .tolist(),
                "coverage": self.suggested_coverage,
                "mean_iou": self.suggested_mean_iou,
            },
        }


def anchor_report(
    gt_wh_resized: np.ndarray, best_anchor_iou: np.ndarray, shapes: np.ndarray, k: int | None = None
) -> AnchorReport:
    """Coverage of the model's anchor shapes and of k shapes fitted by k-means (k: 9 by
    default, as mmdetection's optimize_anchors; at most as many as the model has)."""
    wh = np.asarray(gt_wh_resized, float).reshape(-1, 2)
    best = np.asarray(best_anchor_iou, float)
    suggested = kmeans_shapes(wh, k or min(9, max(len(shapes), 1)))

    def coverage(candidates: np.ndarray) -> tuple[float, float]:
        if len(wh) == 0 or len(candidates) == 0:
            return 0.0, 0.0
        iou = centered_iou(wh, candidates).max(axis=1)
        return float((iou >= 0.5).mean()), float(iou.mean())

    (cur_cov, cur_mean), (sug_cov, sug_mean) = coverage(shapes), coverage(suggested)
    below = {
        "0.7": float((best < 0.7).mean()) if best.size else 0.0,
        "0.3": float((best < 0.3).mean()) if best.size else 0.0,
    }
    return AnchorReport(
        best_anchor_iou_below=below,
        current_shapes=shapes,
        current_coverage=cur_cov,
        current_mean_iou=cur_mean,
        suggested_shapes=suggested,
        suggested_coverage=sug_cov,
        suggested_mean_iou=sug_mean,
    )
