"""Overlay items that paint many shapes in ONE QGraphicsItem (pyqtgraph's advice).

Thousands of QGraphicsRectItems make a scene crawl; one item that draws all boxes with a
few ``drawRects`` calls (one per colour and style) stays fast with tens of thousands.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPixmapItem

MAX_LABELS = 400  # beyond this many boxes in view, labels would be unreadable anyway
MAX_FILLED = 300  # translucent fills cost a blend per pixel: outlines only beyond this


@dataclass
class BoxSet:
    """Boxes in image pixels (float[N, 4], xyxy) with one colour index and label each."""

    boxes: np.ndarray
    colors: list[QColor]
    labels: list[str] = field(default_factory=list)
    dashed: bool = False
    width: float = 2.0
    fill_alpha: int = 0
    labels_below: bool = False  # under the box, so two layers' labels never collide


class BoxesOverlay(QGraphicsItem):
    """Paints a BoxSet; pen widths are cosmetic (constant on screen at any zoom)."""

    def __init__(self, parent: QGraphicsItem | None = None) -> None:
        super().__init__(parent)
        self._set = BoxSet(np.zeros((0, 4), np.float32), [])
        self._groups: list[tuple[QColor, list[QRectF]]] = []
        self._bounds = QRectF()
        self.show_labels = True

    @property
    def boxes(self) -> np.ndarray:
        return self._set.boxes

    @property
    def labels(self) -> list[str]:
        return self._set.labels

    def set_boxes(self, box_set: BoxSet) -> None:
        self.prepareGeometryChange()
        self._set = box_set
        by_color: dict[int, tuple[QColor, list[QRectF]]] = {}
        for (x1, y1, x2, y2), color in zip(box_set.boxes.tolist(), box_set.colors, strict=False):
            key = color.rgba()
            by_color.setdefault(key, (color, []))[1].append(QRectF(x1, y1, x2 - x1, y2 - y1))
        self._groups = list(by_color.values())
        if len(box_set.boxes):
            low = box_set.boxes[:, :2].min(axis=0)
            high = box_set.boxes[:, 2:].max(axis=0)
            self._bounds = QRectF(
                float(low[0]), float(low[1]), float(high[0] - low[0]), float(high[1] - low[1])
            )
        else:
            self._bounds = QRectF()
        self.update()

    def clear(self) -> None:
        self.set_boxes(BoxSet(np.zeros((0, 4), np.float32), []))

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        if not len(self._set.boxes):
            return QRectF()  # nothing to paint: the view skips the item (no Python call)
        return self._bounds.adjusted(-400, -60, 400, 60)

    def paint(self, painter: QPainter, option, widget=None) -> None:  # noqa: ARG002
        style = Qt.PenStyle.DashLine if self._set.dashed else Qt.PenStyle.SolidLine
        crowded = len(self._set.boxes) > MAX_FILLED
        width = 1.0 if crowded else self._set.width  # thin lines draw 2-3x faster
        for color, rects in self._groups:
            pen = QPen(color, width, style)
            pen.setCosmetic(True)
            painter.setPen(pen)
            if self._set.fill_alpha and not crowded:
                fill = QColor(color)
                fill.setAlpha(self._set.fill_alpha)
                painter.setBrush(fill)
            else:
                painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRects(rects)
        if self.show_labels and self._set.labels and len(self._set.boxes) <= MAX_LABELS:
            self._paint_labels(painter)

    def _paint_labels(self, painter: QPainter) -> None:
        scale = painter.worldTransform().m11() or 1.0
        font = QFont()
        font.setPixelSize(max(1, round(12 / scale)))
        painter.setFont(font)
        metrics_height = 15 / scale
        below = self._set.labels_below
        wanted = []
        for (x1, y1, _x2, y2), text in zip(
            self._set.boxes.tolist(), self._set.labels, strict=False
        ):
            width = painter.fontMetrics().horizontalAdvance(text) + 6 / scale if text else 0.0
            if below:
                top = y2
            else:
                top = y1 - metrics_height if y1 - metrics_height > 0 else y1
            wanted.append(QRectF(x1, top, width, metrics_height))
        placed = stack_labels(wanted, step=metrics_height, downward=not below)
        for background, color, text in zip(
            placed, self._set.colors, self._set.labels, strict=False
        ):
            if not text:
                continue
            painter.fillRect(background, color)
            painter.setPen(QColor("black") if color.lightness() > 140 else QColor("white"))
            painter.drawText(
                background.adjusted(3 / scale, 0, 0, 0),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                text,
            )


MAX_STACK = 12  # a label moves at most this many rows to find a free place


def stack_labels(wanted: list[QRectF], *, step: float, downward: bool = True) -> list[QRectF]:
    """Label rectangles moved (row by row, into the box or away from it) until none hides
    another; an empty rectangle (no text) stays where it is and hides nothing."""
    placed: list[QRectF] = []
    taken: list[QRectF] = []
    direction = step if downward else -step
    for rect in wanted:
        candidate = QRectF(rect)
        if rect.width() > 0:
            for _ in range(MAX_STACK):
                if not any(candidate.intersects(other) for other in taken):
                    break
                candidate.translate(0, direction)
            taken.append(candidate)
        placed.append(candidate)
    return placed


PYRAMID_MIN_SIDE = 1024  # images whose longer side is at most this are drawn as they are


def reduced_levels(image: QImage) -> list[QImage]:
    """Smoothly halved copies of ``image`` until the longer side is at most PYRAMID_MIN_SIDE.

    Meant for a worker thread: a view zoomed out then draws from a small copy instead of
    resampling the full-resolution pixmap on every frame.
    """
    levels: list[QImage] = []
    current = image
    while max(current.width(), current.height()) > PYRAMID_MIN_SIDE:
        current = current.scaled(
            max(current.width() // 2, 1),
            max(current.height() // 2, 1),
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        levels.append(current)
    return levels


class PyramidPixmapItem(QGraphicsPixmapItem):
    """A pixmap item that, zoomed out, paints the smallest reduced copy still sharp enough.

    ``set_levels(pixmap, reduced)``: ``reduced[i]`` is the image at 1 / 2**(i + 1) scale.
    """

    def __init__(self, parent: QGraphicsItem | None = None) -> None:
        super().__init__(parent)
        self._reduced: list[QImage] = []

    def set_levels(self, pixmap: QPixmap, reduced: list[QImage] | None = None) -> None:
        self._reduced = list(reduced or [])
        self.setPixmap(pixmap)

    def level_for(self, scale: float) -> QImage | None:
        """The reduced image to draw at view ``scale`` (device pixels per image pixel)."""
        chosen = None
        for index, level in enumerate(self._reduced):
            if 0.5 ** (index + 1) < scale:
                break
            chosen = level
        return chosen

    def paint(self, painter: QPainter, option, widget=None) -> None:
        transform = painter.worldTransform()
        scale = max(abs(transform.m11()), abs(transform.m12()))
        device = painter.device()
        scale *= device.devicePixelRatioF() if device is not None else 1.0
        level = self.level_for(scale)
        if level is None:
            super().paint(painter, option, widget)
            return
        smooth = self.transformationMode() == Qt.TransformationMode.SmoothTransformation
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        size = self.pixmap().size()
        target = QRectF(self.offset(), QSizeF(size.width(), size.height()))
        painter.drawImage(target, level, QRectF(level.rect()))


class MaskOverlay(PyramidPixmapItem):
    """Instance masks blended into one RGBA pixmap over the image (or part of it)."""

    def set_masks(self, masks: np.ndarray | None, colors: list[QColor], alpha: int = 110) -> None:
        """Dense masks (float[N, H, W], on above 0.5), one colour each."""
        if masks is None or len(masks) == 0:
            self.set_rgba(None)
            return
        height, width = masks.shape[1:]
        rgba = np.zeros((height, width, 4), np.uint8)
        for mask, color in zip(masks, colors, strict=False):
            on = mask > 0.5
            rgba[on] = (color.red(), color.green(), color.blue(), alpha)
        self.set_rgba(rgba)

    def set_layer(self, layer) -> None:
        """Show a ``detector.data.mask_layer.MaskLayer`` (placed and scaled by its grid)."""
        if layer is None or not layer.rgba.size:
            self.set_rgba(None)
            return
        self.set_rgba(layer.rgba, x=layer.x * layer.step, y=layer.y * layer.step)
        self.setScale(layer.step)

    def set_rgba(self, rgba: np.ndarray | None, *, x: float = 0.0, y: float = 0.0) -> None:
        """Show an uint8[H, W, 4] RGBA layer (not premultiplied) with its top-left corner at
        image pixel (x, y); None clears."""
        self.setScale(1.0)
        if rgba is None:
            self.set_levels(QPixmap())
            return
        # the pixmap converts (premultiplies) straight from the array: no QImage copy first
        rgba = np.ascontiguousarray(rgba)
        reduced, step = [], 2
        while max(rgba.shape[:2]) // step * 2 > PYRAMID_MIN_SIDE:
            reduced.append(_rgba_image(rgba[::step, ::step]))  # a mask needs no smoothing
            step *= 2
        self.set_levels(QPixmap.fromImage(_rgba_view(rgba)), reduced)
        self.setPos(QPointF(x, y))


def _rgba_view(rgba: np.ndarray) -> QImage:
    """A QImage over the array's memory (valid while ``rgba`` lives)."""
    height, width = rgba.shape[:2]
    return QImage(rgba.data, width, height, 4 * width, QImage.Format.Format_RGBA8888)


def _rgba_image(rgba: np.ndarray) -> QImage:
    return _rgba_view(np.ascontiguousarray(rgba)).copy()
