"""The one item that paints the selection: highlighted boxes, resize handles, the box being drawn."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem

HANDLE_PX = 7.0  # handle size on screen, at any zoom

# handle name -> (x weight of x1, of x2; y weight of y1, of y2): which edges it drags
HANDLES = {
    "tl": (0, 1),
    "t": (None, 1),
    "tr": (2, 1),
    "r": (2, None),
    "br": (2, 3),
    "b": (None, 3),
    "bl": (0, 3),
    "l": (0, None),
}


def handle_points(box) -> dict[str, QPointF]:
    x1, y1, x2, y2 = box
    xs = {0: x1, 2: x2, None: (x1 + x2) / 2}
    ys = {1: y1, 3: y2, None: (y1 + y2) / 2}
    return {name: QPointF(xs[ix], ys[iy]) for name, (ix, iy) in HANDLES.items()}


def resize_box(box, handle: str, x: float, y: float) -> tuple[float, float, float, float]:
    """``box`` with the edges that ``handle`` drags moved to (x, y); corners may cross over."""
    values = list(box)
    ix, iy = HANDLES[handle]
    if ix is not None:
        values[ix] = x
    if iy is not None:
        values[iy] = y
    x1, y1, x2, y2 = values
    return (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))


class SelectionItem(QGraphicsItem):
    """Paints ``boxes`` (selected, with handles when ``handles``) and an optional ``preview``."""

    def __init__(self) -> None:
        super().__init__()
        self.boxes: list[tuple[float, float, float, float]] = []
        self.handles = False
        self.preview: tuple[float, float, float, float] | None = None
        self.color = QColor("#ffffff")
        self._bounds = QRectF()

    def set_state(self, boxes, *, handles: bool, preview=None, color: QColor | None = None) -> None:
        self.prepareGeometryChange()
        self.boxes = [tuple(map(float, b)) for b in boxes]
        self.handles = handles
        self.preview = None if preview is None else tuple(map(float, preview))
        self.color = color or QColor("#ffffff")
        rects = [QRectF(QPointF(b[0], b[1]), QPointF(b[2], b[3])) for b in self._all()]
        bounds = QRectF()
        for rect in rects:
            bounds = bounds.united(rect)
        self._bounds = bounds
        self.update()

    def _all(self):
        return [*self.boxes, *([self.preview] if self.preview else [])]

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._bounds.adjusted(-100, -100, 100, 100)

    def paint(self, painter: QPainter, option, widget=None) -> None:  # noqa: ARG002
        scale = painter.worldTransform().m11() or 1.0
        outline = QPen(QColor("white"), 3.0)
        outline.setCosmetic(True)
        inner = QPen(QColor("black"), 1.0, Qt.PenStyle.DashLine)
        inner.setCosmetic(True)
        for box in self._all():
            rect = QRectF(QPointF(box[0], box[1]), QPointF(box[2], box[3]))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(outline)
            painter.drawRect(rect)
            painter.setPen(inner)
            painter.drawRect(rect)
        if self.preview is not None:
            fill = QColor(self.color)
            fill.setAlpha(50)
            painter.fillRect(QRectF(QPointF(*self.preview[:2]), QPointF(*self.preview[2:])), fill)
        if self.handles and len(self.boxes) == 1:
            size = HANDLE_PX / scale
            handle_pen = QPen(QColor("black"), 1.0)
            handle_pen.setCosmetic(True)
            painter.setPen(handle_pen)
            painter.setBrush(QColor("white"))
            for point in handle_points(self.boxes[0]).values():
                painter.drawRect(QRectF(point.x() - size / 2, point.y() - size / 2, size, size))
