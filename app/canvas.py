"""The image view: zoom on the wheel around the cursor, pan, fit; named overlay layers.

Docks never draw on the view directly: they ask for a named overlay (``boxes_overlay``,
``mask_overlay``) and set its data, so annotation, inspection and evaluation layers coexist.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QImage, QMouseEvent, QPainter, QPixmap, QWheelEvent
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene, QGraphicsView

from app.overlays import BoxesOverlay, MaskOverlay

ZOOM_STEP = 1.25
MIN_SCALE, MAX_SCALE = 0.01, 64.0


def numpy_to_qimage(image: np.ndarray) -> QImage:
    """H x W x 3 uint8 RGB -> QImage (copied, so the array may be freed)."""
    height, width = image.shape[:2]
    data = np.ascontiguousarray(image)
    return QImage(data.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


class ImageCanvas(QGraphicsView):
    """Shows one image and any number of overlays. Coordinates are image pixels."""

    cursor_moved = Signal(float, float)  # image x, y
    image_shown = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setMouseTracking(True)
        self.setBackgroundBrush(Qt.GlobalColor.darkGray)
        self._pixmap_item = QGraphicsPixmapItem()
        self._pixmap_item.setTransformationMode(Qt.TransformationMode.FastTransformation)
        self.scene().addItem(self._pixmap_item)
        self._overlays: dict[str, BoxesOverlay] = {}
        self._masks: dict[str, MaskOverlay] = {}
        self._pan_origin: QPointF | None = None
        self._space_held = False
        self._fit_mode = True  # keep fitting on resize until the user zooms
        self.image: np.ndarray | None = None

    # ----- image -------------------------------------------------------------------------
    def set_image(self, image: np.ndarray | None, *, fit: bool = True) -> None:
        self.image = image
        if image is None:
            self._pixmap_item.setPixmap(QPixmap())
        else:
            self._pixmap_item.setPixmap(QPixmap.fromImage(numpy_to_qimage(image)))
            self.scene().setSceneRect(self._pixmap_item.boundingRect().adjusted(-50, -50, 50, 50))
        for overlay in self._overlays.values():
            overlay.clear()
        for mask in self._masks.values():
            mask.set_masks(None, [])
        if fit:
            self.fit()
        self.image_shown.emit()

    def image_size(self) -> tuple[int, int]:
        return (0, 0) if self.image is None else (self.image.shape[1], self.image.shape[0])

    # ----- overlays ----------------------------------------------------------------------
    def boxes_overlay(self, name: str, z: float = 10.0) -> BoxesOverlay:
        if name not in self._overlays:
            overlay = BoxesOverlay()
            overlay.setZValue(z)
            self.scene().addItem(overlay)
            self._overlays[name] = overlay
        return self._overlays[name]

    def mask_overlay(self, name: str, z: float = 5.0) -> MaskOverlay:
        if name not in self._masks:
            overlay = MaskOverlay()
            overlay.setZValue(z)
            self.scene().addItem(overlay)
            self._masks[name] = overlay
        return self._masks[name]

    def set_labels_visible(self, visible: bool) -> None:
        for overlay in self._overlays.values():
            overlay.show_labels = visible
            overlay.update()

    # ----- zoom and pan ------------------------------------------------------------------
    def fit(self) -> None:
        self._fit_mode = True
        if self.image is not None:
            self.fitInView(self._pixmap_item, Qt.AspectRatioMode.KeepAspectRatio)

    def actual_size(self) -> None:
        self._fit_mode = False
        self.resetTransform()

    def zoom(self, factor: float) -> None:
        self._fit_mode = False
        current = self.transform().m11()
        factor = max(MIN_SCALE / current, min(MAX_SCALE / current, factor))
        self.scale(factor, factor)

    def scale_factor(self) -> float:
        return self.transform().m11()

    def to_image(self, view_pos) -> QPointF:
        return self.mapToScene(view_pos.toPoint() if hasattr(view_pos, "toPoint") else view_pos)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        if self._fit_mode:
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt API
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom(ZOOM_STEP**steps)
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        panning = event.button() == Qt.MouseButton.MiddleButton or (
            self._space_held and event.button() == Qt.MouseButton.LeftButton
        )
        if panning:
            self._pan_origin = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._pan_origin is not None:
            delta = event.position() - self._pan_origin
            self._pan_origin = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - int(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(delta.y()))
            event.accept()
            return
        point = self.to_image(event.position())
        self.cursor_moved.emit(point.x(), point.y())
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._pan_origin is not None:
            self._pan_origin = None
            self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
        super().keyReleaseEvent(event)
