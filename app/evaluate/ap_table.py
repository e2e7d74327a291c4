"""The sortable per-class table: AP, AP50, AP75, AR, ground truths, TP, FP, FN.

Cells are updated in place (no rebuild) when the numbers change; sorting is numeric.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from app.evaluate.metrics import ClassMetrics

COLUMNS = ("Class", "AP", "AP50", "AP75", "AR", "GT", "TP", "FP", "FN")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
CATEGORY_ROLE = Qt.ItemDataRole.UserRole + 2


class _Item(QTableWidgetItem):
    """Sorts by the number it shows (or the name), not by its text."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        return self.data(SORT_ROLE) < other.data(SORT_ROLE)


def row_values(row: ClassMetrics) -> list[object]:
    return [row.name, row.ap, row.ap50, row.ap75, row.ar, row.num_gt, row.tp, row.fp, row.fn]


def cell_text(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if value >= 0 else "–"
    return str(value)


class APTable(QTableWidget):
    """Emits ``category_selected(category_id)`` when a row is clicked."""

    category_selected = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        # every column as wide as its content: class names in full (the table scrolls
        # sideways in a narrow dock); a name longer than MAX_NAME_WIDTH is elided in the middle
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setSortingEnabled(True)
        self.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.itemClicked.connect(self._on_clicked)

    def set_rows(self, rows: list[ClassMetrics]) -> None:
        sorting = self.isSortingEnabled()
        self.setSortingEnabled(False)
        if self.rowCount() != len(rows):
            self.setRowCount(len(rows))
        by_category = {self._category(r): r for r in range(self.rowCount())}
        free = [r for r in range(self.rowCount()) if self._category(r) is None]
        for row in rows:
            index = by_category.pop(row.category_id, None)
            if index is None:
                index = free.pop(0) if free else by_category.popitem()[1]
            self._fill(index, row)
        self.setSortingEnabled(sorting)

    def values(self) -> list[list[str]]:
        """The table as shown, top to bottom (for tests and the CSV export)."""
        return [
            [self.item(r, c).text() for c in range(self.columnCount())]
            for r in range(self.rowCount())
        ]

    def _category(self, row: int) -> int | None:
        item = self.item(row, 0)
        return None if item is None else item.data(CATEGORY_ROLE)

    def _fill(self, index: int, row: ClassMetrics) -> None:
        for column, value in enumerate(row_values(row)):
            item = self.item(index, column)
            if item is None:
                item = _Item()
                self.setItem(index, column, item)
            item.setText(cell_text(value))
            if column == 0:
                item.setToolTip(str(value))  # the whole name, whatever the column shows
            item.setData(SORT_ROLE, value if column == 0 else float(value))
            item.setData(CATEGORY_ROLE, row.category_id)
            if column:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def _on_clicked(self, item: QTableWidgetItem) -> None:
        category_id = item.data(CATEGORY_ROLE)
        if category_id is not None:
            self.category_selected.emit(int(category_id))
