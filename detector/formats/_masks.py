"""Mask helpers the format writers share: an object's full-resolution mask and polygons.

An object's mask is COCO polygons or RLE (see :mod:`detector.data.masks`); formats that
store polygons (LabelMe, YOLO-seg) get an RLE traced into polygons, formats that store
pixels (VOC PNGs) get any mask rasterised. Multi-part objects become one polygon for YOLO
with zero-width bridges between parts (how Ultralytics' converter merges COCO segments).
"""

from __future__ import annotations

import numpy as np

from detector.data.dataset import Annotation, ImageRecord
from detector.data.masks import binary_mask
from detector.geometry.polygons import mask_to_polygons, polygon_points

RLE_TOLERANCE = 0.5  # pixels: tracing an RLE into polygons for polygon-only formats


def object_binary(obj: Annotation, record: ImageRecord) -> np.ndarray | None:
    """bool[H, W] of the object's mask at the image size, None without a mask (or a mismatch)."""
    if obj.mask is None or record.width <= 0 or record.height <= 0:
        return None
    mask = binary_mask(obj.mask, record.height, record.width)
    if mask.shape != (record.height, record.width):
        return None
    return mask.astype(bool)


def object_polygons(
    obj: Annotation, record: ImageRecord, tolerance: float = RLE_TOLERANCE
) -> list[list[float]]:
    """The object's mask as COCO polygons (an RLE is traced; [] without a mask)."""
    if isinstance(obj.mask, list):
        return [list(p) for p in obj.mask]
    binary = object_binary(obj, record)
    return [] if binary is None else mask_to_polygons(binary, tolerance, min_area=0.0)


def merge_segments(polygons: list[list[float]]) -> list[float]:
    """One flat polygon walking every part, joined by out-and-back bridges between the
    nearest vertices of consecutive parts (zero area, so the union is unchanged)."""
    parts = [polygon_points(p) for p in polygons if len(p) >= 6]
    if not parts:
        return []
    walk = [parts[0]]
    for part in parts[1:]:
        previous = np.concatenate(walk)
        distances = ((previous[:, None, :] - part[None, :, :]) ** 2).sum(-1)
        i, j = np.unravel_index(int(distances.argmin()), distances.shape)
        rotated = np.roll(part, -j, axis=0)
        joined = np.concatenate([previous[: i + 1], rotated, rotated[:1], previous[i:]])
        walk = [joined]
    return [round(float(v), 2) for v in walk[0].ravel()]
