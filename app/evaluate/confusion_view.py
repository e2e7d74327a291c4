"""Confusion matrix (classes plus background); a click lists the images behind the cell."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from detector.evaluation.confusion import ConfusionMatrix

IMAGE_ROLE = Qt.ItemDataRole.UserRole


def cell_color(fraction: float, diagonal: bool) -> QColor:
    """White to green on the diagonal (right), white to red off it (errors)."""
    fraction = float(np.clip(fraction, 0.0, 1.0))
    target = (44, 160, 44) if diagonal else (214, 39, 40)
    return QColor(*(int(255 + (c - 255) * fraction * 0.8) for c in target))


class ConfusionView(QWidget):
    """Emits ``image_requested(image_id)`` when an image of a cell's list is clicked."""

    image_requested = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        # headers as wide as the class names (the table scrolls), full names in tooltips
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.caption = QLabel("Rows: ground truth · columns: prediction.")
        self.cell_label = QLabel("Click a cell to list its images.")
        self.image_list = QListWidget()
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.cell_label)
        lower_layout.addWidget(self.image_list, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(lower)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(splitter, 1)
        self.data: ConfusionMatrix | None = None
        self._names: dict[int, str] = {}
        self.table.cellClicked.connect(self.show_cell)
        self.image_list.itemClicked.connect(
            lambda item: self.image_requested.emit(int(item.data(IMAGE_ROLE)))
        )

    def set_data(self, data: ConfusionMatrix | None, names: dict[int, str]) -> None:
        self.data, self._names = data, names
        self.image_list.clear()
        if data is None:
            self.table.setRowCount(0)
            self.caption.setText("Computing the confusion matrix…")
            return
        size = len(data.labels)
        self.table.setRowCount(size)
        self.table.setColumnCount(size)
        self.table.setVerticalHeaderLabels([f"GT {label}" for label in data.labels])
        self.table.setHorizontalHeaderLabels(list(data.labels))
        for index, label in enumerate(data.labels):
            self.table.horizontalHeaderItem(index).setToolTip(f"predicted {label}")
            self.table.verticalHeaderItem(index).setToolTip(f"ground truth {label}")
        row_totals = np.maximum(data.matrix.sum(axis=1), 1)
        for row in range(size):
            for column in range(size):
                self._set_cell(row, column, int(data.matrix[row, column]), row_totals[row])
        self.caption.setText(
            f"Rows: ground truth · columns: prediction · IoU {data.iou:.2f}, "
            f"score ≥ {data.score_threshold:.2f}"
        )

    def _set_cell(self, row: int, column: int, count: int, row_total: int) -> None:
        item = QTableWidgetItem(str(count))
        item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        background = row == column == self.table.rowCount() - 1
        if not background:
            item.setBackground(cell_color(count / row_total, row == column))
        item.setForeground(QColor("black"))
        self.table.setItem(row, column, item)

    def show_cell(self, row: int, column: int) -> None:
        self.image_list.clear()
        if self.data is None:
            return
        truth, predicted = self.data.labels[row], self.data.labels[column]
        images = self.data.cell_breakdown(row, column)
        self.cell_label.setText(
            f"GT {truth} → predicted {predicted}: {len(images)} image(s). Click one to open it."
        )
        for image_id, count in images:
            item = QListWidgetItem(f"{self._names.get(image_id, image_id)}  ×{count}")
            item.setData(IMAGE_ROLE, image_id)
            self.image_list.addItem(item)
