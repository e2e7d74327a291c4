"""The image list dock: every image of the folder, a filter box, a count."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)


class ImageListDock(QDockWidget):
    """Emits ``image_selected(index)`` with the index into the folder's image list."""

    image_selected = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__("Images", parent)
        self.setObjectName("ImageListDock")
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.filter_edit = QLineEdit(placeholderText="Filter by name…")
        self.filter_edit.setClearButtonEnabled(True)
        self.list_widget = QListWidget()
        self.count_label = QLabel("No folder open")
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.list_widget, 1)
        layout.addWidget(self.count_label)
        self.setWidget(body)
        self.filter_edit.textChanged.connect(self._apply_filter)
        self.list_widget.currentItemChanged.connect(self._on_current_changed)

    def set_images(self, paths: list[Path]) -> None:
        self.list_widget.blockSignals(True)
        self.list_widget.clear()
        for index, path in enumerate(paths):
            item = QListWidgetItem(path.name)
            item.setData(Qt.ItemDataRole.UserRole, index)
            item.setToolTip(str(path))
            self.list_widget.addItem(item)
        self.list_widget.blockSignals(False)
        self._apply_filter(self.filter_edit.text())

    def set_status(self, index: int, text: str) -> None:
        item = self.list_widget.item(index)
        if item is not None:
            name = item.toolTip().rsplit("/", 1)[-1]
            item.setText(f"{name}  {text}" if text else name)

    def select(self, index: int) -> None:
        item = self.list_widget.item(index)
        if item is not None and item.listWidget() is not None:
            self.list_widget.setCurrentItem(item)

    def current_index(self) -> int:
        item = self.list_widget.currentItem()
        return -1 if item is None else int(item.data(Qt.ItemDataRole.UserRole))

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        shown = 0
        for row in range(self.list_widget.count()):
            item = self.list_widget.item(row)
            hidden = bool(needle) and needle not in item.toolTip().rsplit("/", 1)[-1].lower()
            item.setHidden(hidden)
            shown += not hidden
        total = self.list_widget.count()
        self.count_label.setText(f"{shown} of {total} images" if needle else f"{total} images")

    def _on_current_changed(self, current: QListWidgetItem | None, _previous) -> None:
        if current is not None:
            self.image_selected.emit(int(current.data(Qt.ItemDataRole.UserRole)))
