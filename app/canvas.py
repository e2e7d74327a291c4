"""The image view: zoom on the wheel around the cursor, pan, fit; named overlay layers.

Docks never draw on the view directly: they ask for a named overlay (``boxes_overlay``,
``mask_overlay``) and set its data, so annotation, inspection and evaluation layers coexist.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QImage, QMouseEvent, QPainter, QPixmap, QTransform, QWheelEvent
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView

from app.overlays import BoxesOverlay, MaskOverlay, PyramidPixmapItem

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
    space_tapped = Signal()  # Space pressed and released without panning

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setBackgroundBrush(Qt.GlobalColor.darkGray)
        self._pixmap_item = PyramidPixmapItem()
        self._pixmap_item.setTransformationMode(Qt.TransformationMode.FastTransformation)
        self.scene().addItem(self._pixmap_item)
        self._overlays: dict[str, BoxesOverlay] = {}
        self._masks: dict[str, MaskOverlay] = {}
        self._pan_origin: QPointF | None = None
        self._space_held = False
        self._space_dragged = False
        self._fit_mode = True  # keep fitting on resize until the user zooms
        self.image: np.ndarray | None = None  # the decoded pixels (maybe reduced)
        self._size = (0, 0)

    # ----- image -------------------------------------------------------------------------
    def set_image(
        self,
        image: np.ndarray | None,
        qimage: QImage | None = None,
        *,
        fit: bool = True,
        levels: list[QImage] | None = None,
        size: tuple[int, int] | None = None,
    ) -> None:
        """Show ``image`` (RGB array); ``qimage``: the same pixels prepared off the GUI thread.

        ``levels``: reduced copies (``app.overlays.reduced_levels``) drawn when zoomed out.
        ``size``: the original (width, height) when ``image`` is a reduced decode: it is
        drawn stretched to that size, so the scene stays in original image pixels.
        Every overlay is cleared: layers redraw on the state's ``image_loaded``.
        """
        self.image = image
        if image is None:
            self._size = (0, 0)
            self._pixmap_item.set_levels(QPixmap())
        else:
            self._size = size or (image.shape[1], image.shape[0])
            qimage = numpy_to_qimage(image) if qimage is None else qimage
            self._pixmap_item.set_levels(QPixmap.fromImage(qimage), levels)
            self._pixmap_item.setTransform(
                QTransform.fromScale(self._size[0] / image.shape[1], self._size[1] / image.shape[0])
            )
            self.scene().setSceneRect(QRectF(-50, -50, self._size[0] + 100, self._size[1] + 100))
        for overlay in self._overlays.values():
            overlay.clear()
        for mask in self._masks.values():
            mask.set_rgba(None)
        if fit:
            self.fit()
        self.image_shown.emit()

    def image_size(self) -> tuple[int, int]:
        """(width, height) in image pixels: the original size, also for a reduced decode."""
        return self._size

    def pixel(self, x: float, y: float) -> np.ndarray | None:
        """The RGB value shown at image pixel (x, y), None outside the image."""
        width, height = self._size
        if self.image is None or not (0 <= x < width and 0 <= y < height):
            return None
        rows, cols = self.image.shape[:2]
        return self.image[int(y * rows / height), int(x * cols / width)]

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
            width, height = self._size
            self.fitInView(QRectF(0, 0, width, height), Qt.AspectRatioMode.KeepAspectRatio)

    def actual_size(self) -> None:
        self._fit_mode = False
        self.resetTransform()

    def focus_box(self, box, *, margin: float = 3.0) -> None:
        """Centre on ``box`` (xyxy image pixels), zoomed so it fills about 1/``margin``."""
        x1, y1, x2, y2 = (float(v) for v in box)
        width, height = max(x2 - x1, 8.0), max(y2 - y1, 8.0)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        self._fit_mode = False
        area = QRectF(
            cx - width * margin / 2, cy - height * margin / 2, width * margin, height * margin
        )
        self.fitInView(area, Qt.AspectRatioMode.KeepAspectRatio)
        self.centerOn(cx, cy)

    def panning(self, event: QMouseEvent) -> bool:
        """True for a press that pans (middle button, or left with Space held)."""
        return event.button() == Qt.MouseButton.MiddleButton or (
            self._space_held and event.button() == Qt.MouseButton.LeftButton
        )

    def is_panning(self) -> bool:
        return self._pan_origin is not None or self._space_held

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
            self.zoom_at(ZOOM_STEP**steps, event.position())
        event.accept()

    def zoom_at(self, factor: float, view_pos: QPointF) -> None:
        """Zoom keeping the image point under ``view_pos`` (viewport pixels) where it is.

        Qt's AnchorUnderMouse uses the last mouse *move*, not the wheel's own position.
        """
        point = view_pos.toPoint()
        before = self.mapToScene(point)
        anchor = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.zoom(factor)
        self.setTransformationAnchor(anchor)
        drift = self.mapFromScene(before) - point  # where that point went, in view pixels
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + drift.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + drift.y())

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self.panning(event):
            self._space_dragged = self._space_held
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
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space_held, self._space_dragged = True, False
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space_held = False
                if not self._space_dragged:
                    self.space_tapped.emit()  # Space alone: mark verified; Space+drag: pan
            event.accept()
            return
        super().keyReleaseEvent(event)
