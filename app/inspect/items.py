"""Scene items the inspection stages draw with (each paints everything in one item).

``HeatmapItem`` shows a 2-D array as a colour map stretched over an image rectangle;
``PointsItem`` paints many points; ``LinesItem`` many line segments (grids, arrows).
Coordinates are original-image pixels, the canvas's scene frame.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPixmapItem


def colormap(values: np.ndarray, alpha: int = 150) -> np.ndarray:
    """float[H, W] -> uint8[H, W, 4] RGBA, 'inferno'-like ramp over the array's own range."""
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    norm = (values - low) / (high - low) if high > low else np.zeros_like(values)
    norm = np.clip(np.nan_to_num(norm), 0.0, 1.0)
    stops = np.array(
        [[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]], np.float32
    )
    position = norm * (len(stops) - 1)
    index = np.minimum(position.astype(int), len(stops) - 2)
    frac = (position - index)[..., None]
    rgb = stops[index] * (1 - frac) + stops[index + 1] * frac
    rgba = np.empty((*values.shape, 4), np.uint8)
    rgba[..., :3] = rgb.astype(np.uint8)
    rgba[..., 3] = alpha
    return rgba


class HeatmapItem(QGraphicsPixmapItem):
    """A coarse grid drawn as blocks (no smoothing): cell (x, y) covers ``rect`` / grid."""

    def __init__(self) -> None:
        super().__init__()
        self.setTransformationMode(Qt.TransformationMode.FastTransformation)
        self.values: np.ndarray | None = None

    def set_values(
        self, values: np.ndarray | None, cell_w: float, cell_h: float, alpha: int = 150
    ) -> None:
        """Show ``values`` (float[H, W]); each cell is ``cell_w`` x ``cell_h`` image pixels."""
        self.values = values
        if values is None or values.size == 0:
            self.setPixmap(QPixmap())
            return
        rgba = np.ascontiguousarray(colormap(values.astype(np.float32), alpha))
        height, width = values.shape
        image = QImage(rgba.data, width, height, 4 * width, QImage.Format.Format_RGBA8888)
        self.setPixmap(QPixmap.fromImage(image.copy()))
        self.setTransform(QTransform.fromScale(cell_w, cell_h))


class _BulkItem(QGraphicsItem):
    def __init__(self) -> None:
        super().__init__()
        self._bounds = QRectF()
        self._color = QColor("white")
        self._width = 2.0

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._bounds.adjusted(-4, -4, 4, 4)

    def _pen(self, color: QColor) -> QPen:
        pen = QPen(color, self._width)
        pen.setCosmetic(True)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        return pen


class PointsItem(_BulkItem):
    """Many points (tens of thousands), one or more colours; dot size in screen pixels.

    Painted as one image: each frame maps the points to device pixels with numpy, stamps a
    round dot per point into a premultiplied buffer covering only the visible points, and
    draws that buffer once (QPainter round-cap points cost ~4 us each: 16k anchor centres
    took ~65 ms a frame).
    """

    def __init__(self) -> None:
        super().__init__()
        self._points = np.zeros((0, 2), np.float64)
        self._bgra = np.zeros((0, 4), np.uint8)

    def set_points(
        self, points: np.ndarray, colors: list[QColor] | QColor, width: float = 4.0
    ) -> None:
        self.prepareGeometryChange()
        self._points = np.asarray(points, np.float64).reshape(-1, 2)
        if isinstance(colors, QColor):
            colors = [colors] * len(self._points)
        self._bgra = _premultiplied_bgra(colors[: len(self._points)]).reshape(-1, 4)
        self._width = width
        self._bounds = _bounds(self._points, self._points)
        self.update()

    def paint(self, painter: QPainter, option, widget=None) -> None:  # noqa: ARG002
        if len(self._points) == 0:
            return
        device = painter.device()
        stamped = stamp_dots(
            self._points,
            self._bgra,
            painter.worldTransform(),
            (device.width(), device.height()),
            self._width,
        )
        if stamped is None:
            return
        buffer, left, top = stamped
        height, width = buffer.shape[:2]
        image = QImage(
            buffer.data, width, height, 4 * width, QImage.Format.Format_ARGB32_Premultiplied
        )
        painter.save()
        painter.resetTransform()
        painter.drawImage(left, top, image)
        painter.restore()


def _premultiplied_bgra(colors: list[QColor]) -> np.ndarray:
    rgba = np.array([c.getRgb() for c in colors], np.float32).reshape(-1, 4)
    alpha = rgba[:, 3:] / 255.0
    bgra = np.concatenate([rgba[:, 2::-1] * alpha, rgba[:, 3:]], axis=1)
    return np.round(bgra).astype(np.uint8)


def dot_offsets(width: float) -> np.ndarray:
    """int[K, 2] pixel offsets (dx, dy) of a round dot ``width`` pixels across."""
    side = max(int(round(width)), 1)
    centre = (side - 1) / 2
    col, row = np.meshgrid(np.arange(side), np.arange(side))
    inside = (col - centre) ** 2 + (row - centre) ** 2 <= (side / 2) ** 2 + 0.25
    return np.stack([col[inside], row[inside]], axis=1) - side // 2


def stamp_dots(
    points: np.ndarray, bgra: np.ndarray, transform: QTransform, size: tuple[int, int], width: float
) -> tuple[np.ndarray, int, int] | None:
    """Rasterise ``points`` (scene frame) as dots into a uint8[h, w, 4] buffer covering the
    visible ones; returns (buffer, left, top) in device pixels, or None if none is visible."""
    x = transform.m11() * points[:, 0] + transform.m21() * points[:, 1] + transform.dx()
    y = transform.m12() * points[:, 0] + transform.m22() * points[:, 1] + transform.dy()
    margin = width
    visible = (x > -margin) & (y > -margin) & (x < size[0] + margin) & (y < size[1] + margin)
    if not visible.any():
        return None
    offsets = dot_offsets(width)
    half = int(np.ceil(width / 2)) + 1
    col, row, colors = np.floor(x[visible]), np.floor(y[visible]), bgra[visible]
    left, top = int(col.min()) - half, int(row.min()) - half
    shape = (int(row.max()) + half - top + 1, int(col.max()) + half - left + 1, 4)
    buffer = np.zeros(shape, np.uint8)
    col, row = (col - left).astype(np.intp), (row - top).astype(np.intp)
    for dx, dy in offsets:
        buffer[row + dy, col + dx] = colors
    return buffer, left, top


class LinesItem(_BulkItem):
    """Many line segments (x1, y1, x2, y2) in one colour."""

    def __init__(self) -> None:
        super().__init__()
        self._lines: list[QLineF] = []

    def set_lines(self, lines: np.ndarray, color: QColor, width: float = 1.0) -> None:
        self.prepareGeometryChange()
        lines = np.asarray(lines, np.float64).reshape(-1, 4)
        self._lines = [QLineF(*line) for line in lines.tolist()]
        self._color, self._width = color, width
        self._bounds = _bounds(lines[:, :2], lines[:, 2:])
        self.update()

    def paint(self, painter: QPainter, option, widget=None) -> None:  # noqa: ARG002
        painter.setPen(self._pen(self._color))
        painter.drawLines(self._lines)


def _bounds(starts: np.ndarray, ends: np.ndarray) -> QRectF:
    if len(starts) == 0:
        return QRectF()
    both = np.concatenate([starts, ends])
    low, high = both.min(axis=0), both.max(axis=0)
    return QRectF(float(low[0]), float(low[1]), float(high[0] - low[0]), float(high[1] - low[1]))


def grid_lines(x_edges: np.ndarray, y_edges: np.ndarray) -> np.ndarray:
    """float[N, 4] segments of the grid with these column / row borders."""
    x_edges, y_edges = np.asarray(x_edges, float), np.asarray(y_edges, float)
    vertical = [(x, y_edges[0], x, y_edges[-1]) for x in x_edges]
    horizontal = [(x_edges[0], y, x_edges[-1], y) for y in y_edges]
    return np.array(vertical + horizontal, float).reshape(-1, 4)


class ManyBoxesItem(QGraphicsPixmapItem):
    """Tens of thousands of boxes, painted once into a pixmap (up to 2048 px a side, no smoothing), so a
    pan or zoom redraws one pixmap, not every box."""

    MAX_SIDE = 2048

    def set_boxes(self, boxes: np.ndarray, colors: list[QColor]) -> None:
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        if len(boxes) == 0:
            self.setPixmap(QPixmap())
            return
        low, high = boxes[:, :2].min(axis=0), boxes[:, 2:].max(axis=0)
        factor = min(4.0, self.MAX_SIDE / max(float((high - low).max()), 1.0))
        size = np.ceil((high - low) * factor).astype(int) + 2
        image = QImage(int(size[0]), int(size[1]), QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        groups: dict[int, tuple[QColor, list[QRectF]]] = {}
        scaled = (boxes - np.concatenate([low, low])) * factor
        for (x1, y1, x2, y2), color in zip(scaled.tolist(), colors, strict=False):
            groups.setdefault(color.rgba(), (color, []))[1].append(QRectF(x1, y1, x2 - x1, y2 - y1))
        for color, rects in groups.values():
            painter.setPen(QPen(color, 1.0))
            painter.drawRects(rects)
        painter.end()
        self.setTransformationMode(Qt.TransformationMode.FastTransformation)
        self.setPixmap(QPixmap.fromImage(image))
        self.setTransform(QTransform.fromScale(1 / factor, 1 / factor))
        self.setPos(float(low[0]), float(low[1]))
