"""Per-class precision-recall curves: hover a point for its operating point, click to go there.

Each class gets two plot items, made once and updated with ``setData``: the raw curve (one
point per detection, in score order) and the interpolated curve whose area is the AP.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.palette import class_color
from detector.evaluation.view import CurveData, EvaluationView

PICK_RADIUS_PX = 12.0
MAX_SYMBOLS = 20_000  # one class with more points is drawn as a line only
TP_BRUSH, FP_BRUSH = pg.mkBrush("#2ca02c"), pg.mkBrush("#d62728")


@dataclass(frozen=True)
class OperatingPoint:
    """One detection on a curve: the threshold at its score gives this precision/recall."""

    category_id: int
    name: str
    index: int
    score: float
    precision: float
    recall: float
    true_positive: bool
    image_id: int
    detection_index: int
    file_name: str = ""

    def describe(self) -> str:
        verdict = "TP" if self.true_positive else "FP"
        where = self.file_name or f"image {self.image_id}"
        return (
            f"{self.name}: score ≥ {self.score:.3f} → precision {self.precision:.3f}, "
            f"recall {self.recall:.3f} ({verdict} on {where})"
        )


class PRPlot(QWidget):
    point_clicked = Signal(object)  # OperatingPoint

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMinimumHeight(160)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "Recall")
        item.setLabel("left", "Precision")
        item.showGrid(x=True, y=True, alpha=0.25)
        item.setXRange(0, 1.0, padding=0.02)
        item.setYRange(0, 1.0, padding=0.02)
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        # bottom left: the corner a PR curve never visits (low recall, low precision), on a
        # white card so a curve passing by never makes a name unreadable
        self.legend = item.addLegend(
            offset=(10, -10),
            labelTextColor="k",
            brush=pg.mkBrush(255, 255, 255, 235),
            pen=pg.mkPen(180, 180, 180),
        )
        self._raw: dict[int, pg.PlotDataItem] = {}
        self._interp: dict[int, pg.PlotDataItem] = {}
        self._marker = pg.ScatterPlotItem(size=14, pen=pg.mkPen("k", width=2), brush=None)
        self._marker.setZValue(100)
        item.addItem(self._marker)
        self.info_label = QLabel("Hover a point on a curve to see its operating point.")
        self.info_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.info_label)
        self._curves: dict[int, CurveData] = {}
        self._y: dict[int, np.ndarray] = {}  # each curve's precision as plotted (NaN -> 0)
        self._shown: list[int] = []
        self.hovered: OperatingPoint | None = None
        self.image_name = lambda _image_id: ""  # image id -> file name, for the tooltips
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.plot.scene().sigMouseClicked.connect(self._on_mouse_clicked)

    # ----- data --------------------------------------------------------------------------
    def set_view(self, view: EvaluationView, category_id: int | None) -> None:
        """Show one class (raw points coloured TP/FP) or all classes (``None``)."""
        self._curves = view.curves
        self._y = {cid: _finite(curve.precision) for cid, curve in view.curves.items()}
        self._shown = [category_id] if category_id in view.curves else list(view.curves)
        single = len(self._shown) == 1
        self.legend.clear()
        for position, (cid, curve) in enumerate(view.curves.items()):
            raw, interp = self._items(cid, position)
            visible = cid in self._shown
            raw.setVisible(visible)
            interp.setVisible(visible)
            if not visible:
                continue
            self._set_raw(raw, curve, single)
            interp.setData(curve.interp_recall, curve.interp_precision)
            ap = f"{curve.ap:.3f}" if curve.ap >= 0 else "– (no GT)"
            self.legend.addItem(interp, f"{curve.name}  AP {ap}")
        self.plot.getPlotItem().setTitle(view.settings.describe(), color="k", size="10pt")
        self._set_hover(None)

    def clear(self) -> None:
        """Show no curve (no evaluation yet)."""
        self._curves, self._shown, self._y = {}, [], {}
        self.legend.clear()
        for item in (*self._raw.values(), *self._interp.values()):
            item.setData([], [])
            item.setVisible(False)
        self.plot.getPlotItem().setTitle("")
        self._set_hover(None)

    def _items(self, category_id: int, position: int) -> tuple[pg.PlotDataItem, pg.PlotDataItem]:
        if category_id not in self._raw:
            color = class_color(position + 1)
            faint = QColor(color)
            faint.setAlpha(110)
            self._raw[category_id] = self.plot.plot(pen=pg.mkPen(faint, width=1))
            self._interp[category_id] = self.plot.plot(pen=pg.mkPen(color, width=2.5))
        return self._raw[category_id], self._interp[category_id]

    def _set_raw(self, item: pg.PlotDataItem, curve: CurveData, single: bool) -> None:
        recall, precision = curve.recall, self._y[curve.category_id]
        if single and 0 < len(recall) <= MAX_SYMBOLS:
            item.setDownsampling(ds=1, auto=False)  # one symbol per detection, brush per point
            item.setClipToView(False)
            brushes = [TP_BRUSH if tp else FP_BRUSH for tp in curve.true_positive]
            item.setData(recall, precision, symbol="o", symbolSize=6, symbolBrush=brushes)
        else:
            # a class of 100,000 images has ~200,000 points: drawn as a line, downsampled to
            # the plot's width (peaks kept) and clipped to the view, or every frame would
            # stroke them all
            item.setDownsampling(auto=True, method="peak")
            item.setClipToView(True)
            item.setData(recall, precision, symbol=None)

    # ----- picking -----------------------------------------------------------------------
    def nearest_point(self, x: float, y: float) -> OperatingPoint | None:
        """The detection point nearest to view coordinates (x, y), within a few pixels."""
        size_x, size_y = self.plot.getPlotItem().getViewBox().viewPixelSize()
        best: tuple[float, int, int] | None = None
        for category_id in self._shown:
            curve = self._curves[category_id]
            if len(curve.recall) == 0:
                continue
            dx = (curve.recall - x) / size_x
            dy = (self._y[category_id] - y) / size_y
            distances = dx * dx + dy * dy
            index = int(np.argmin(distances))
            if best is None or distances[index] < best[0]:
                best = (float(distances[index]), category_id, index)
        if best is None or best[0] > PICK_RADIUS_PX**2:
            return None
        return self.point(best[1], best[2])

    def point(self, category_id: int, index: int) -> OperatingPoint:
        curve = self._curves[category_id]
        return OperatingPoint(
            category_id,
            curve.name,
            index,
            float(curve.scores[index]),
            float(curve.precision[index]),
            float(curve.recall[index]),
            bool(curve.true_positive[index]),
            int(curve.image_ids[index]),
            int(curve.detection_indices[index]),
            self.image_name(int(curve.image_ids[index])),
        )

    @contextmanager
    def without_hover(self):
        """No hover ring or tooltip while exporting: the file shows the curves only."""
        hovered = self.hovered
        self._set_hover(None)
        try:
            yield
        finally:
            self._set_hover(hovered)

    def widget_pos(self, category_id: int, index: int) -> QPoint:
        """Where a curve point is on the plot's viewport (for tests and tooltips)."""
        curve = self._curves[category_id]
        view_point = QPointF(float(curve.recall[index]), float(curve.precision[index]))
        scene = self.plot.getPlotItem().getViewBox().mapViewToScene(view_point)
        return self.plot.mapFromScene(scene)

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        view = self.plot.getPlotItem().getViewBox().mapSceneToView(scene_pos)
        self._set_hover(self.nearest_point(view.x(), view.y()))

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        view = self.plot.getPlotItem().getViewBox().mapSceneToView(event.scenePos())
        point = self.nearest_point(view.x(), view.y())
        if point is not None:
            self._set_hover(point)
            self.point_clicked.emit(point)

    def _set_hover(self, point: OperatingPoint | None) -> None:
        self.hovered = point
        if point is None:
            self._marker.setData([], [])
            self.plot.setToolTip("")
            return
        self._marker.setData([point.recall], [point.precision])
        text = point.describe()
        self.info_label.setText(text + " — click to show it on the image")
        self.plot.setToolTip(text)


def _finite(values: np.ndarray) -> np.ndarray:
    """``values`` with NaN as 0 (a copy only when there is a NaN)."""
    nan = np.isnan(values)
    return np.where(nan, 0.0, values) if nan.any() else values
