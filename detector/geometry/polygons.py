"""Binary masks <-> COCO polygons: OpenCV contours simplified to a tolerance, and extents.

A COCO polygon is a flat ``[x0, y0, x1, y1, ...]`` list in continuous image pixels (pixel
column ``i`` covers ``[i, i + 1)``); an object's mask is a list of them (disjoint parts).
Contours run along pixel *corners* (the outline of the pixel region, traced on the
(H+1) x (W+1) corner grid), so a traced polygon's extent is the mask's pixel extent and
pycocotools rasterises it back to nearly the same pixels (IoU > 0.99 on ordinary shapes).
Holes are not representable in COCO polygons and are dropped.
Every function here takes one full-resolution mask (bool[H, W]), whatever stored it.
"""

from __future__ import annotations

import numpy as np

DEFAULT_TOLERANCE = 1.0  # pixels: approxPolyDP's epsilon


def mask_to_polygons(
    mask: np.ndarray,
    tolerance: float = DEFAULT_TOLERANCE,
    min_area: float = 4.0,
    offset: tuple[float, float] = (0.0, 0.0),
) -> list[list[float]]:
    """COCO polygons of ``mask`` (bool or 0/1 [H, W]), one per outer contour.

    ``tolerance`` is the Douglas-Peucker epsilon in pixels (0 keeps every outline corner);
    parts under ``min_area`` square pixels are dropped. Largest part first. ``offset`` (x, y)
    is added to every vertex: ``mask`` is then a crop whose top-left pixel is there.
    """
    import cv2

    if mask.ndim != 2:
        raise ValueError(f"expected an H x W mask, got shape {mask.shape}")
    padded = np.pad(mask.astype(np.uint8), 1)
    # corner (r, c) of the image is "in" when any of the 4 pixels around it is in
    corners = cv2.dilate(padded, np.ones((2, 2), np.uint8), anchor=(0, 0))[:-1, :-1]
    contours, _ = cv2.findContours(corners, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    parts: list[tuple[float, list[float]]] = []
    for contour in contours:
        area = float(cv2.contourArea(contour))
        if area < min_area:
            continue
        simplified = cv2.approxPolyDP(contour, float(max(tolerance, 0.0)), True).reshape(-1, 2)
        if len(simplified) < 3:
            simplified = contour.reshape(-1, 2)
        parts.append((area, flat_polygon(simplified + np.asarray(offset, np.float64))))
    parts.sort(key=lambda part: -part[0])
    return [polygon for _, polygon in parts]


def polygons_extent(polygons: list[list[float]]) -> tuple[float, float, float, float] | None:
    """The xyxy box around every vertex of ``polygons`` (None for no vertices)."""
    xs = [v for polygon in polygons for v in polygon[0::2]]
    ys = [v for polygon in polygons for v in polygon[1::2]]
    if not xs:
        return None
    return (float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys)))


def polygon_points(polygon: list[float]) -> np.ndarray:
    """float64[N, 2]: the (x, y) vertices of one flat COCO polygon."""
    return np.asarray(polygon, dtype=np.float64).reshape(-1, 2)


def flat_polygon(points: np.ndarray) -> list[float]:
    """A flat COCO polygon from float[N, 2] vertices (rounded to 0.01 px)."""
    return [round(float(v), 2) for v in np.asarray(points, dtype=np.float64).ravel()]


# --------------------------------------------------------------------------- vertex editing
# Polygons are edited as values: every function returns new lists, the input is untouched.
Polygons = list[list[float]]


def nearest_vertex(polygons: Polygons, x: float, y: float, radius: float) -> tuple[int, int] | None:
    """(part, vertex) of the vertex nearest (x, y) within ``radius``, or None."""
    best, best_d2 = None, radius * radius
    for part, polygon in enumerate(polygons):
        points = polygon_points(polygon)
        if not len(points):
            continue
        d2 = ((points - (x, y)) ** 2).sum(1)
        index = int(d2.argmin())
        if d2[index] <= best_d2:
            best, best_d2 = (part, index), float(d2[index])
    return best


def nearest_edge(
    polygons: Polygons, x: float, y: float, radius: float
) -> tuple[int, int, float, float] | None:
    """(part, edge, px, py): the closed edge ``edge -> edge + 1`` nearest (x, y) within
    ``radius`` and the foot of the perpendicular on it, or None."""
    best, best_d2 = None, radius * radius
    for part, polygon in enumerate(polygons):
        a = polygon_points(polygon)
        if len(a) < 2:
            continue
        b = np.roll(a, -1, axis=0)
        ab = b - a
        length2 = np.maximum((ab**2).sum(1), 1e-12)
        t = np.clip((((x, y) - a) * ab).sum(1) / length2, 0.0, 1.0)
        foot = a + t[:, None] * ab
        d2 = ((foot - (x, y)) ** 2).sum(1)
        index = int(d2.argmin())
        if d2[index] <= best_d2:
            best_d2 = float(d2[index])
            best = (part, index, float(foot[index, 0]), float(foot[index, 1]))
    return best


def move_vertex(polygons: Polygons, part: int, vertex: int, x: float, y: float) -> Polygons:
    out = [list(p) for p in polygons]
    out[part][2 * vertex : 2 * vertex + 2] = [round(float(x), 2), round(float(y), 2)]
    return out


def insert_vertex(polygons: Polygons, part: int, edge: int, x: float, y: float) -> Polygons:
    """A vertex at (x, y) after vertex ``edge`` of ``part`` (on the edge edge -> edge + 1)."""
    out = [list(p) for p in polygons]
    at = 2 * (edge + 1)
    out[part][at:at] = [round(float(x), 2), round(float(y), 2)]
    return out


def remove_vertex(polygons: Polygons, part: int, vertex: int) -> Polygons:
    """Without that vertex; a part left with under 3 vertices is dropped (may return [])."""
    out = [list(p) for p in polygons]
    del out[part][2 * vertex : 2 * vertex + 2]
    if len(out[part]) < 6:
        del out[part]
    return out
