"""The classes dock: add, rename, recolour, delete (with its objects), merge; visibility.

A view of :class:`app.state.AppState`: rows (and their object counts) follow
``dataset_opened`` and every ``dataset_changed`` (relabel, draw, accept, undo, ...); edits go
through ``state.undo``.
"""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QColorDialog,
    QDockWidget,
    QGridLayout,
    QInputDialog,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from detector.data.dataset import Category
from detector.data.edits import (
    AddCategory,
    DeleteCategory,
    MergeCategories,
    recolor_category,
    rename_category,
)
from detector.data.palette import palette_color

ID_ROLE = Qt.ItemDataRole.UserRole


COUNT_IN_WORKER = 50_000  # objects; fewer are counted on the GUI thread (< ~20 ms)


def count_categories(copy) -> Counter:
    """category id -> number of objects of ``copy``, a dataset snapshot (in a worker)."""
    return copy.category_counts()


def swatch(color: str) -> QIcon:
    pixmap = QPixmap(14, 14)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)


class ClassesDock(QDockWidget):
    """Rows: colour, name (shortcut 1-9), object count; the check box shows or hides a class."""

    visibility_changed = Signal(set)  # hidden category ids
    current_changed = Signal(int)  # the class new boxes get
    message = Signal(str)  # a hint for the status bar

    def __init__(self, state, parent=None) -> None:
        super().__init__("Classes", parent)
        self.setObjectName("ClassesDock")
        self.state = state
        # edits arriving together (a drag, an undo of many objects) recount once
        self._recount = QTimer(self, singleShot=True, interval=0)
        self._recount.timeout.connect(self.refresh)
        body = QWidget()
        layout = QVBoxLayout(body)
        self.list_widget = QListWidget()
        self.list_widget.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list_widget.setMinimumHeight(150)
        layout.addWidget(self.list_widget, 1)
        grid = QGridLayout()
        actions = {
            "Add…": self._ask_add,
            "Rename…": self._ask_rename,
            "Colour…": self._ask_recolor,
            "Delete…": self._ask_delete,
            "Merge into first": self._merge_selected,
        }
        for index, (text, slot) in enumerate(actions.items()):
            button = QPushButton(text)
            button.clicked.connect(slot)
            grid.addWidget(button, index // 3, index % 3)
        layout.addLayout(grid)
        self.setWidget(body)
        self.hidden: set[int] = set()
        self._counts: Counter = Counter()
        self._counted = None  # the dataset _counts belong to
        self.list_widget.itemChanged.connect(self._on_item_changed)
        self.list_widget.currentItemChanged.connect(self._on_current)
        state.dataset_opened.connect(lambda _dataset: self.refresh())
        state.dataset_changed.connect(self._on_change)

    @property
    def dataset(self):
        return self.state.dataset

    def _on_change(self, change) -> None:
        if change.categories:
            self.refresh()
        elif change.ground_truth:
            self._recount.start()

    # ----- view --------------------------------------------------------------------------
    def refresh(self) -> None:
        """Rows now, with the dataset's counts (kept up to date by every edit, see
        ``Dataset.category_counts``). Counted the first time: on this thread up to
        COUNT_IN_WORKER objects, else (a million boxes take ~0.1-0.4 s) in a worker over a
        snapshot, the rows showing the previous counts until then."""
        self._recount.stop()
        dataset = self.dataset
        if dataset is None:
            self._fill(Counter())
            return
        pool = getattr(self.state, "pool", None)
        counts = dataset.category_counts(count=False)
        if counts is None and (len(dataset.objects) < COUNT_IN_WORKER or pool is None):
            counts = dataset.category_counts()
        if counts is not None:
            self._fill(Counter(counts))
            return
        self._fill(self._counts if self._counted is dataset else None)
        copy = dataset.snapshot()  # O(images), never O(objects): the worker counts it
        pool.start(
            count_categories,
            copy,
            key=("class-counts", id(self)),
            on_returned=lambda counted: self._counted_in_worker(dataset, copy, counted),
        )

    def _counted_in_worker(self, dataset, copy, counts: Counter) -> None:
        if self.dataset is not dataset:
            return
        if dataset.adopt_category_counts(copy):
            counts = Counter(dataset.category_counts())
        else:  # edited meanwhile: show these, count again
            self._recount.start()
        self._fill(counts)

    def _fill(self, counts: Counter | None) -> None:
        """Rebuild the rows; ``counts`` None: not counted yet, shown as "(…)"."""
        if counts is not None:
            self._counts, self._counted = counts, self.dataset
        current = self.selected_ids()[:1]
        self.list_widget.blockSignals(True)
        self.list_widget.clear()
        if self.dataset is not None:
            for index, category in enumerate(self.dataset.categories.values()):
                key = f"{index + 1}  " if index < 9 else "   "
                item = QListWidgetItem(swatch(category.color), "")
                count = "…" if counts is None else counts.get(category.id, 0)
                item.setText(f"{key}{category.name}  ({count})")
                item.setData(ID_ROLE, category.id)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                hidden = category.id in self.hidden
                item.setCheckState(Qt.CheckState.Unchecked if hidden else Qt.CheckState.Checked)
                self.list_widget.addItem(item)
                if category.id in current:
                    self.list_widget.setCurrentItem(item)
        self.list_widget.blockSignals(False)

    def selected_ids(self) -> list[int]:
        return [int(item.data(ID_ROLE)) for item in self.list_widget.selectedItems()]

    # ----- operations (undoable; dialogs only ask) ---------------------------------------
    def add_class(self, name: str) -> int | None:
        category = Category(
            self.dataset.new_category_id(),
            name.strip(),
            palette_color(len(self.dataset.categories)),
        )
        return category.id if self.state.undo.push(AddCategory(category)) else None

    def rename(self, category_id: int, name: str) -> bool:
        return self.state.undo.push(rename_category(self.dataset, category_id, name.strip()))

    def recolor(self, category_id: int, color: str) -> bool:
        return self.state.undo.push(recolor_category(self.dataset, category_id, color))

    def delete(self, category_id: int) -> bool:
        return self.state.undo.push(DeleteCategory(category_id))

    def merge(self, source_ids: list[int], target_id: int) -> bool:
        return self.state.undo.push(MergeCategories(tuple(source_ids), target_id))

    def set_hidden(self, category_id: int, hidden: bool) -> None:
        (self.hidden.add if hidden else self.hidden.discard)(category_id)
        self.refresh()
        self.visibility_changed.emit(set(self.hidden))

    # ----- dialogs -----------------------------------------------------------------------
    def _ask_add(self) -> None:
        if self.dataset is None:
            return
        name, ok = QInputDialog.getText(self, "Add class", "Name:")
        if ok and name.strip():
            self.add_class(name)

    def _ask_rename(self) -> None:
        ids = self.selected_ids()
        if ids:
            old = self.dataset.categories[ids[0]].name
            name, ok = QInputDialog.getText(self, "Rename class", "Name:", text=old)
            if ok and name.strip():
                self.rename(ids[0], name)

    def _ask_recolor(self) -> None:
        ids = self.selected_ids()
        if ids:
            old = QColor(self.dataset.categories[ids[0]].color)
            color = QColorDialog.getColor(old, self, "Class colour")
            if color.isValid():
                self.recolor(ids[0], color.name())

    def _ask_delete(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        category = self.dataset.categories[ids[0]]
        count = sum(1 for a in self.dataset.objects.values() if a.category_id == category.id)
        answer = QMessageBox.question(
            self,
            "Delete class",
            f"Delete class {category.name!r} and its {count} object(s)? (Ctrl+Z undoes it)",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.delete(category.id)

    def _merge_selected(self) -> None:
        ids = self.selected_ids()
        if len(ids) < 2:
            self.message.emit("Select two or more classes to merge")
            return
        self.merge(ids[1:], ids[0])

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        category_id = int(item.data(ID_ROLE))
        if item.checkState() == Qt.CheckState.Checked:
            self.hidden.discard(category_id)
        else:
            self.hidden.add(category_id)
        self.visibility_changed.emit(set(self.hidden))

    def _on_current(self, item: QListWidgetItem | None, _previous) -> None:
        if item is not None:
            self.current_changed.emit(int(item.data(ID_ROLE)))
