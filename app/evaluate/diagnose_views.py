"""The Diagnose tab's views: TIDE bars, the funnel table with its objects, the sweep plot.

Views only: they show engine results (detector.diagnosis) handed to them and emit what the
person clicked; the tab (diagnose_tab.py) runs the work.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from detector.diagnosis.funnel import SIZE_RANGES, STAGES

TIDE_NAMES = ("Cls", "Loc", "Both", "Dupe", "Bkg", "Miss", "FalsePos", "FalseNeg")
FUNNEL_COLUMNS = ("all", *SIZE_RANGES)


class TideBars(pg.PlotWidget):
    """dAP50 per TIDE error: six main bars, then the two special ones (hatched grey)."""

    def __init__(self) -> None:
        super().__init__(minimumHeight=150)
        self.setMenuEnabled(False)
        self.setMouseEnabled(False, False)
        self.getPlotItem().setTitle("TIDE: AP50 points gained by fixing each error")
        axis = self.getAxis("bottom")
        axis.setTicks([list(enumerate(TIDE_NAMES))])
        brushes = [pg.mkBrush("#e6194b")] * 6 + [pg.mkBrush("#9e9e9e")] * 2
        self.bars = pg.BarGraphItem(
            x=np.arange(len(TIDE_NAMES)),
            height=np.zeros(len(TIDE_NAMES)),
            width=0.7,
            brushes=brushes,
        )
        self.addItem(self.bars)
        self.values = np.zeros(len(TIDE_NAMES))

    def clear_result(self) -> None:
        self.values = np.zeros(len(TIDE_NAMES))
        self.bars.setOpts(height=self.values)
        self.getPlotItem().setTitle("TIDE: AP50 points gained by fixing each error")

    def set_result(self, result, category: int | None = None) -> None:
        """The whole set's dAPs, or one class's (the change of that class's own AP)."""
        row = result.per_class.get(category) if category is not None else None
        main, special = (row["main"], row["special"]) if row else (result.main, result.special)
        ap = (row["ap"] or 0.0) if row else result.ap
        values = [main[n] for n in TIDE_NAMES[:6]] + [special[n] for n in TIDE_NAMES[6:]]
        self.values = np.array(values, float)
        self.bars.setOpts(height=self.values)
        self.getPlotItem().setTitle(f"TIDE (AP50 {ap:.1f}): dAP by fixing each error")


class FunnelView(QWidget):
    """Rows: stages; columns: all / small / medium / large. A click lists those objects;
    clicking an object asks to show it (``object_requested(image_id, object_id)``), a
    double click to explain it in Inspect's Why? (``why_requested``)."""

    object_requested = Signal(int, int)
    why_requested = Signal(int, int)

    def __init__(self) -> None:
        super().__init__()
        self.table = QTableWidget(len(STAGES), len(FUNNEL_COLUMNS))
        self.table.setHorizontalHeaderLabels(list(FUNNEL_COLUMNS))
        self.table.setVerticalHeaderLabels(list(STAGES))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.cellClicked.connect(self.show_cell)
        self.objects = QListWidget()
        self.objects.itemClicked.connect(self._on_object)
        self.objects.itemDoubleClicked.connect(
            lambda item: self.why_requested.emit(*item.data(Qt.ItemDataRole.UserRole))
        )
        self.objects.setToolTip("Click: show the object. Double-click: Inspect's Why? on it.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.objects, 2)
        self.funnel = None
        self.category: int | None = None
        self.names: dict[int, str] = {}

    def set_funnel(self, funnel, image_names: dict[int, str], category: int | None = None) -> None:
        """Counts of ``funnel`` (one category's objects when ``category`` is given)."""
        self.funnel, self.names, self.category = funnel, image_names, category
        for column, size in enumerate(FUNNEL_COLUMNS):
            counts = funnel.counts(category, size=None if size == "all" else size)
            for row, stage in enumerate(STAGES):
                item = QTableWidgetItem(str(counts[stage]))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(row, column, item)
        self.objects.clear()

    def clear(self) -> None:
        self.funnel = None
        self.table.clearContents()
        self.objects.clear()

    def show_cell(self, row: int, column: int) -> None:
        if self.funnel is None:
            return
        size = FUNNEL_COLUMNS[column]
        pairs = self.funnel.objects(STAGES[row], self.category, None if size == "all" else size)
        self.show_objects([(image_id, object_id, STAGES[row]) for image_id, object_id in pairs])

    def show_objects(self, rows: list[tuple[int, int, str]]) -> None:
        """List (image id, object id, note) rows: a funnel cell, or flipped objects."""
        self.objects.clear()
        for image_id, object_id, note in rows:
            name = self.names.get(image_id, str(image_id))
            item = QListWidgetItem(f"{name}  object {object_id}  ({note})")
            item.setData(Qt.ItemDataRole.UserRole, (image_id, object_id))
            self.objects.addItem(item)

    def _on_object(self, item: QListWidgetItem) -> None:
        image_id, object_id = item.data(Qt.ItemDataRole.UserRole)
        self.object_requested.emit(int(image_id), int(object_id))


class SweepPlot(pg.PlotWidget):
    """mAP50 (and the share of objects found) against the score threshold."""

    def __init__(self) -> None:
        super().__init__(minimumHeight=140)
        self.setMenuEnabled(False)
        item = self.getPlotItem()
        item.setTitle("What if: score threshold")
        item.setLabel("bottom", "score threshold")
        item.setLabel("left", "COCO AP50")
        item.setYRange(0, 1)
        for side in ("bottom", "left"):
            item.getAxis(side).enableAutoSIPrefix(False)
        self.curve = item.plot([], [], pen=pg.mkPen("#3cb44b", width=2), symbol="o", symbolSize=5)

    def clear_sweep(self) -> None:
        self.curve.setData([], [])

    def set_sweep(self, sweep, label: str = "score threshold") -> None:
        item = self.getPlotItem()
        item.setTitle(f"What if: {label}")
        item.setLabel("bottom", label)
        self.curve.setData(np.asarray(sweep.values, float), np.asarray(sweep.map50, float))
