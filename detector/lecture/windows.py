"""Sliding windows: why "classify every crop" cannot work (the lecture's counting argument).

A box of size h x w fits at (W - w + 1)(H - h + 1) positions in an H x W image, so all
boxes of every size number ``sum_h sum_w (W - w + 1)(H - h + 1) = H(H+1)/2 * W(W+1)/2``
(an 800 x 600 image: ~58 million). ``window_cost`` measures what classifying windows with
the model's own box head costs (RoIAlign from the backbone features + box head, the
cheapest possible per-window classifier) and extrapolates it to all of them.

Boxes are float32[N, 4] xyxy; ``*_image`` in original-image pixels.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch

from detector.errors import DetScopeError
from detector.lecture.shared import synchronize

SECONDS_PER_YEAR = 365.25 * 24 * 3600


class LectureError(DetScopeError):
    """A lecture demonstration cannot run on this input (no features, empty image, ...)."""


def box_count(height: int, width: int) -> int:
    """Every axis-aligned box with integer corners in an H x W image: H(H+1)/2 * W(W+1)/2."""
    if height < 0 or width < 0:
        raise LectureError(f"image size must be >= 0, got {height} x {width}")
    return (height * (height + 1) // 2) * (width * (width + 1) // 2)


def box_count_by_sizes(height: int, width: int) -> int:
    """The lecture's double sum, term by term: sum over h, w of (W - w + 1)(H - h + 1)."""
    return sum(
        (width - w + 1) * (height - h + 1)
        for h in range(1, height + 1)
        for w in range(1, width + 1)
    )


@dataclass
class WindowScale:
    """One window size slid over the image: size (h, w) px, stride px, boxes float32[N, 4]."""

    size: tuple[int, int]
    stride: int
    boxes_image: np.ndarray

    @property
    def count(self) -> int:
        return int(self.boxes_image.shape[0])


def sliding_windows(height: int, width: int, size: tuple[int, int], stride: int) -> np.ndarray:
    """float32[N, 4]: a size[0] x size[1] window at every stride-th position that fits,
    row by row (xyxy image pixels). Empty when the window is bigger than the image."""
    win_h, win_w = size
    if stride < 1 or win_h < 1 or win_w < 1:
        raise LectureError(f"window size and stride must be >= 1, got {size}, {stride}")
    ys = np.arange(0, height - win_h + 1, stride, dtype=np.float32)
    xs = np.arange(0, width - win_w + 1, stride, dtype=np.float32)
    grid_y, grid_x = np.meshgrid(ys, xs, indexing="ij")
    x1, y1 = grid_x.ravel(), grid_y.ravel()
    return np.stack([x1, y1, x1 + win_w, y1 + win_h], axis=1).astype(np.float32)


def window_pyramid(
    height: int, width: int, fractions: tuple[float, ...] = (0.125, 0.25, 0.5), overlap: float = 0.5
) -> list[WindowScale]:
    """Square windows whose side is each fraction of the shorter image side, moved by
    ``(1 - overlap)`` of their side: a few scales and strides a person would try."""
    short = min(height, width)
    scales = []
    for fraction in fractions:
        side = max(int(round(short * fraction)), 1)
        stride = max(int(round(side * (1.0 - overlap))), 1)
        boxes = sliding_windows(height, width, (side, side), stride)
        scales.append(WindowScale((side, side), stride, boxes))
    return scales


@dataclass
class WindowCost:
    """Measured cost of classifying windows with the model's box head (features given).

    windows: how many were classified; seconds: their wall time; per_thousand_s: seconds
    per 1,000 windows; all_boxes: the image's H(H+1)/2 * W(W+1)/2; all_boxes_s: the
    extrapolated time for all of them (and in years, ``all_boxes_years``).
    """

    windows: int
    seconds: float
    per_thousand_s: float
    all_boxes: int
    all_boxes_s: float

    @property
    def all_boxes_years(self) -> float:
        return self.all_boxes_s / SECONDS_PER_YEAR


def trace_features(trace) -> OrderedDict:
    """The trace's backbone features as torch tensors [1, C, H, W] (a copy; CPU)."""
    if not trace.features_kept:
        raise LectureError("the trace's features were dropped: trace the image again")
    return OrderedDict(
        (level.name, torch.from_numpy(trace.feature_map(level.name))[None])
        for level in trace.features
    )


def classify_boxes(module, features: OrderedDict, boxes_resized: np.ndarray, image_size):
    """float32[N, C] class probabilities of ``boxes_resized`` (float32[N, 4], model-input
    pixels) from the box head: box_roi_pool -> box_head -> box_predictor -> softmax."""
    roi_heads = module.roi_heads
    device = next(iter(features.values())).device
    with torch.inference_mode():
        boxes = torch.as_tensor(boxes_resized, dtype=torch.float32, device=device)
        pooled = roi_heads.box_roi_pool(features, [boxes], [tuple(image_size)])
        logits, _ = roi_heads.box_predictor(roi_heads.box_head(pooled))
        return torch.softmax(logits, -1).cpu().numpy()


def window_cost(model, trace, windows_image: np.ndarray, limit: int = 1000) -> WindowCost:
    """Time the box head on the first ``limit`` of ``windows_image`` (float32[N, 4]) of
    the traced image and extrapolate to every box of the image."""
    windows = np.asarray(windows_image, np.float32).reshape(-1, 4)[:limit]
    if len(windows) == 0:
        raise LectureError("no windows to classify (the window is bigger than the image)")
    features = {k: v.to(model.device) for k, v in trace_features(trace).items()}
    boxes_resized = trace.input.boxes_to_resized(windows)
    started = time.perf_counter()
    classify_boxes(model.module, OrderedDict(features), boxes_resized, trace.input.resized_size)
    synchronize(model.device)  # classify_boxes' .cpu() already waits; explicit for clarity
    seconds = time.perf_counter() - started
    per_thousand = seconds * 1000.0 / len(windows)
    height, width = trace.input.original_size
    total = box_count(height, width)
    return WindowCost(len(windows), seconds, per_thousand, total, per_thousand * total / 1000.0)
