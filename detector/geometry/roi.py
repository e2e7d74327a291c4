"""RoIPool and RoIAlign geometry for drawing: bins, sample points and bilinear weights.

The lecture's two ways to crop a fixed-size feature out of a box:

* **RoIPool** snaps the box to the feature grid, splits it into roughly equal integer bins
  and max-pools each bin (``roi_pool_geometry`` gives the snapped box and integer bins).
* **RoIAlign** splits the box into equal real-valued bins, samples ``Gh x Gw`` regularly
  spaced points in each and reads each point by bilinear interpolation,
  ``f_xy = sum_ij f_ij max(0, 1 - |x - x_i|) max(0, 1 - |y - y_j|)``, then averages the
  samples of a bin. ``roi_align_geometry`` gives every sample point, its four neighbouring
  cells and their weights, exactly as torchvision's CPU kernel computes them (including its
  edge rules), so ``rebuild_roi_align`` reproduces ``torchvision.ops.roi_align``.

Coordinates: ``*_feature`` are feature-map cells (x = column, y = row; an integer is a cell's
sample position); ``feature_to_resized`` maps them back to resized-model pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(kw_only=True)
class RoiAlignGeometry:
    """One RoI on one feature map, as RoIAlign samples it (P = pooled size, G = grid).

    box_feature (float32[4]): x1, y1, x2, y2 after ``* spatial_scale - offset``.
    bin_edges_x (float32[Pw + 1]), bin_edges_y (float32[Ph + 1]): bin borders, feature cells.
    sample_points_feature (float32[Ph, Pw, Gh, Gw, 2]): (x, y) of each sample, before clamping.
    neighbours (int64[Ph, Pw, Gh, Gw, 4, 2]): (row, column) of the 4 cells each sample reads,
    order (low y, low x), (low y, high x), (high y, low x), (high y, high x).
    weights (float32[Ph, Pw, Gh, Gw, 4]): bilinear weight of each neighbour (all 0 for a
    sample outside the map). count (int): samples averaged per bin (Gh * Gw).
    spatial_scale (float), offset (float): 0.5 when ``aligned`` else 0.
    """

    box_feature: np.ndarray
    bin_edges_x: np.ndarray
    bin_edges_y: np.ndarray
    sample_points_feature: np.ndarray
    neighbours: np.ndarray
    weights: np.ndarray
    count: int
    spatial_scale: float
    offset: float

    def feature_to_resized(self, points_feature: np.ndarray) -> np.ndarray:
        """Feature-cell coordinates -> resized-model pixels (``(p + offset) / scale``)."""
        return (np.asarray(points_feature, dtype=np.float32) + self.offset) / self.spatial_scale


@dataclass
class RoiPoolGeometry:
    """One RoI as RoIPool quantizes it (integer feature cells, ends exclusive).

    box_feature (int64[4]): the snapped box, x1, y1, x2, y2 (inclusive ends, as the kernel).
    bins (int64[Ph, Pw, 4]): each bin's x_start, y_start, x_end, y_end (exclusive ends),
    clipped to the map; a bin with end <= start is empty and pools to 0.
    """

    box_feature: np.ndarray
    bins: np.ndarray
    spatial_scale: float


def _pair(size: int | tuple[int, int]) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def roi_align_geometry(
    box: np.ndarray,
    spatial_scale: float,
    output_size: int | tuple[int, int],
    sampling_ratio: int,
    aligned: bool,
    feature_height: int,
    feature_width: int,
) -> RoiAlignGeometry:
    """The RoIAlign sampling of ``box`` (float[4] xyxy, resized-model pixels)."""
    f32 = np.float32
    pooled_h, pooled_w = _pair(output_size)
    offset = f32(0.5) if aligned else f32(0.0)
    x1, y1, x2, y2 = (f32(v) * f32(spatial_scale) - offset for v in np.asarray(box)[:4])
    roi_w, roi_h = f32(x2 - x1), f32(y2 - y1)
    if not aligned:
        roi_w, roi_h = max(roi_w, f32(1)), max(roi_h, f32(1))
    bin_w, bin_h = f32(roi_w / f32(pooled_w)), f32(roi_h / f32(pooled_h))
    grid_h = sampling_ratio if sampling_ratio > 0 else int(math.ceil(roi_h / pooled_h))
    grid_w = sampling_ratio if sampling_ratio > 0 else int(math.ceil(roi_w / pooled_w))
    ys = _sample_coords(y1, bin_h, pooled_h, grid_h)  # [Ph, Gh]
    xs = _sample_coords(x1, bin_w, pooled_w, grid_w)  # [Pw, Gw]
    y_grid = np.broadcast_to(ys[:, None, :, None], (pooled_h, pooled_w, grid_h, grid_w))
    x_grid = np.broadcast_to(xs[None, :, None, :], (pooled_h, pooled_w, grid_h, grid_w))
    neighbours, weights = bilinear_neighbours(x_grid, y_grid, feature_height, feature_width)
    return RoiAlignGeometry(
        box_feature=np.array([x1, y1, x2, y2], dtype=f32),
        bin_edges_x=(x1 + np.arange(pooled_w + 1, dtype=f32) * bin_w).astype(f32),
        bin_edges_y=(y1 + np.arange(pooled_h + 1, dtype=f32) * bin_h).astype(f32),
        sample_points_feature=np.stack([x_grid, y_grid], axis=-1).astype(f32),
        neighbours=neighbours,
        weights=weights,
        count=max(grid_h * grid_w, 1),
        spatial_scale=float(spatial_scale),
        offset=float(offset),
    )


def _sample_coords(start: np.float32, bin_size: np.float32, pooled: int, grid: int) -> np.ndarray:
    """start + p * bin + (i + 0.5) * bin / grid, in the kernel's float32 order."""
    f32 = np.float32
    bins = np.arange(pooled, dtype=f32)[:, None]
    steps = np.arange(grid, dtype=f32)[None, :] + f32(0.5)
    return (start + bins * bin_size) + steps * bin_size / f32(grid)


def bilinear_neighbours(
    x: np.ndarray, y: np.ndarray, height: int, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """The 4 cells and weights that bilinear interpolation at (x, y) reads (kernel rules).

    A point with y < -1, y > height, x < -1 or x > width reads nothing (weights 0); else it is
    clamped to >= 0, and to the last row/column at the far edge. Weights are
    ``(1 - |x - x_i|)(1 - |y - y_j|)``: hy*hx, hy*lx, ly*hx, ly*lx.
    """
    f32 = np.float32
    x = np.asarray(x, dtype=f32)
    y = np.asarray(y, dtype=f32)
    outside = (y < -1.0) | (y > height) | (x < -1.0) | (x > width)
    y = np.where(y <= 0, f32(0), y)
    x = np.where(x <= 0, f32(0), x)
    y_low, x_low = y.astype(np.int64), x.astype(np.int64)
    y_edge, x_edge = y_low >= height - 1, x_low >= width - 1
    y_low = np.where(y_edge, height - 1, y_low)
    x_low = np.where(x_edge, width - 1, x_low)
    y = np.where(y_edge, y_low.astype(f32), y)
    x = np.where(x_edge, x_low.astype(f32), x)
    y_high = np.where(y_edge, y_low, y_low + 1)
    x_high = np.where(x_edge, x_low, x_low + 1)
    ly, lx = (y - y_low).astype(f32), (x - x_low).astype(f32)
    hy, hx = f32(1) - ly, f32(1) - lx
    weights = np.stack([hy * hx, hy * lx, ly * hx, ly * lx], axis=-1).astype(f32)
    weights[outside] = 0
    rows = np.stack([y_low, y_low, y_high, y_high], axis=-1)
    cols = np.stack([x_low, x_high, x_low, x_high], axis=-1)
    neighbours = np.stack([rows, cols], axis=-1)
    neighbours[outside] = 0
    return neighbours, weights


def rebuild_roi_align(features: np.ndarray, geometry: RoiAlignGeometry) -> np.ndarray:
    """float32[C, Ph, Pw]: RoIAlign of ``features`` (float[C, H, W]) from the sample points
    and weights alone: sum over samples and neighbours of weight * f[row, col], / count."""
    features = np.asarray(features, dtype=np.float64)
    rows = geometry.neighbours[..., 0]
    cols = geometry.neighbours[..., 1]
    values = features[:, rows, cols]  # [C, Ph, Pw, Gh, Gw, 4]
    summed = (values * geometry.weights[None].astype(np.float64)).sum(axis=(3, 4, 5))
    return (summed / geometry.count).astype(np.float32)


def roi_pool_geometry(
    box: np.ndarray,
    spatial_scale: float,
    output_size: int | tuple[int, int],
    feature_height: int,
    feature_width: int,
) -> RoiPoolGeometry:
    """The RoIPool quantization of ``box`` (float[4] xyxy, resized-model pixels)."""
    pooled_h, pooled_w = _pair(output_size)
    scaled = np.asarray(box, dtype=np.float32)[:4] * np.float32(spatial_scale)
    snapped = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)  # C round(): half away from 0
    x1, y1, x2, y2 = (int(v) for v in snapped)
    roi_w, roi_h = max(x2 - x1 + 1, 1), max(y2 - y1 + 1, 1)
    bin_w = np.float32(roi_w) / np.float32(pooled_w)
    bin_h = np.float32(roi_h) / np.float32(pooled_h)
    bins = np.zeros((pooled_h, pooled_w, 4), dtype=np.int64)
    for ph in range(pooled_h):
        y_start = _clip(int(np.floor(np.float32(ph) * bin_h)) + y1, feature_height)
        y_end = _clip(int(np.ceil(np.float32(ph + 1) * bin_h)) + y1, feature_height)
        for pw in range(pooled_w):
            x_start = _clip(int(np.floor(np.float32(pw) * bin_w)) + x1, feature_width)
            x_end = _clip(int(np.ceil(np.float32(pw + 1) * bin_w)) + x1, feature_width)
            bins[ph, pw] = (x_start, y_start, x_end, y_end)
    return RoiPoolGeometry(np.array([x1, y1, x2, y2], dtype=np.int64), bins, float(spatial_scale))


def _clip(value: int, limit: int) -> int:
    return min(max(value, 0), limit)


def rebuild_roi_pool(features: np.ndarray, geometry: RoiPoolGeometry) -> np.ndarray:
    """float32[C, Ph, Pw]: max over each bin of ``features`` (float[C, H, W]); empty bins 0."""
    features = np.asarray(features, dtype=np.float32)
    pooled_h, pooled_w = geometry.bins.shape[:2]
    output = np.zeros((features.shape[0], pooled_h, pooled_w), dtype=np.float32)
    for ph in range(pooled_h):
        for pw in range(pooled_w):
            x_start, y_start, x_end, y_end = geometry.bins[ph, pw]
            if x_end > x_start and y_end > y_start:
                output[:, ph, pw] = features[:, y_start:y_end, x_start:x_end].max(axis=(1, 2))
    return output
