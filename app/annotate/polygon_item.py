"""The one item that paints polygons: every visible object's outline, the selected object's
vertices, and the polygon being drawn.

Outlines are QPolygonF values grouped by colour, rebuilt only when the shown polygons
change, and drawn with a 1 px cosmetic pen (Qt's line rasteriser, no path stroker), all by
this one item (pyqtgraph's advice: one item paints them all). Vertex handles keep a fixed size on screen at any zoom.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem

VERTEX_PX = 7.0  # handle size on screen
ACTIVE_COLOR = QColor("#ffeb3b")


def _polygon(flat) -> QPolygonF:
    return QPolygonF([QPointF(flat[i], flat[i + 1]) for i in range(0, len(flat) - 1, 2)])


class PolygonItem(QGraphicsItem):
    """Paints ``outlines`` (colour -> path), the edited polygons' vertices and a draft."""

    def __init__(self) -> None:
        super().__init__()
        self._outlines: list[tuple[QColor, list[QPolygonF]]] = []
        self._edit: list[list[float]] = []
        self._edit_is_rle = False
        self._active: tuple[int, int] | None = None
        self._draft: list[tuple[float, float]] = []
        self._hover: tuple[float, float] | None = None
        self._bounds = QRectF()

    # ----- state -------------------------------------------------------------------------
    def set_bounds(self, width: float, height: float) -> None:
        self.prepareGeometryChange()
        self._bounds = QRectF(-20, -20, width + 40, height + 40)
        self.update()

    def set_outlines(self, polygons_by_color: list[tuple[QColor, list[list[float]]]]) -> None:
        """The polygons to outline, grouped by colour (built once, painted every frame)."""
        groups: dict[str, tuple[QColor, list[QPolygonF]]] = {}
        for color, polygons in polygons_by_color:
            entry = groups.setdefault(color.name(), (color, []))
            entry[1].extend(_polygon(flat) for flat in polygons if len(flat) >= 6)
        self._outlines = list(groups.values())
        self.update()

    def set_edit(
        self, polygons: list[list[float]], *, rle: bool = False, active: tuple | None = None
    ) -> None:
        """The selected object's polygons, drawn with vertex handles (``rle``: traced from an
        RLE mask, dashed until an edit converts it); ``active``: (part, vertex) highlighted."""
        self._edit = [list(p) for p in polygons]
        self._edit_is_rle = rle
        self._active = active
        self.update()

    def set_draft(self, points: list[tuple[float, float]], hover: tuple | None) -> None:
        self._draft = list(points)
        self._hover = hover
        self.update()

    @property
    def edit_polygons(self) -> list[list[float]]:
        return self._edit

    @property
    def draft(self) -> list[tuple[float, float]]:
        return self._draft

    # ----- painting ----------------------------------------------------------------------
    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._bounds

    def paint(self, painter: QPainter, option, widget=None) -> None:  # noqa: ARG002
        scale = max(painter.worldTransform().m11(), 1e-6)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for color, polygons in self._outlines:
            pen = QPen(color, 1.0)  # a 1 px cosmetic pen: Qt's fast line path, no stroker
            pen.setCosmetic(True)
            painter.setPen(pen)
            for polygon in polygons:
                painter.drawPolygon(polygon)
        if self._edit:
            self._paint_edit(painter, scale)
        if self._draft:
            self._paint_draft(painter, scale)

    def _paint_edit(self, painter: QPainter, scale: float) -> None:
        pen = QPen(QColor("#ffffff"), 2.0)
        pen.setCosmetic(True)
        if self._edit_is_rle:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for flat in self._edit:
            painter.drawPolygon(_polygon(flat))
        half = VERTEX_PX / 2 / scale
        for part, flat in enumerate(self._edit):
            for index in range(len(flat) // 2):
                active = self._active == (part, index)
                painter.setBrush(ACTIVE_COLOR if active else QColor("#ffffff"))
                point = QPointF(flat[2 * index], flat[2 * index + 1])
                painter.drawRect(QRectF(point.x() - half, point.y() - half, 2 * half, 2 * half))

    def _paint_draft(self, painter: QPainter, scale: float) -> None:
        pen = QPen(ACTIVE_COLOR, 2.0)
        pen.setCosmetic(True)
        painter.setPen(pen)
        points = [QPointF(x, y) for x, y in self._draft]
        if self._hover is not None:
            points.append(QPointF(*self._hover))
        painter.drawPolyline(QPolygonF(points))
        half = VERTEX_PX / 2 / scale
        painter.setBrush(ACTIVE_COLOR)
        for x, y in self._draft:
            painter.drawRect(QRectF(x - half, y - half, 2 * half, 2 * half))
