"""The image list dock: every image of the dataset with its status, a filter box, a count.

Rows are keyed by image id. A view of :class:`app.state.AppState`: it lists the dataset of
``dataset_opened``, highlights ``current_image_id`` (``current_image_changed``) and writes
the user's pick back with ``state.set_current_image``; the rows it shows, top to bottom,
become ``state.order`` (what A / D step through). Other docks narrow the list with
:meth:`ImageListDock.set_filter` (a predicate or a list of image ids, an optional sort key
and a label shown above the list); the name filter box applies on top of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

IdFilter = Callable[[int], bool] | Iterable[int] | None
ID_ROLE = Qt.ItemDataRole.UserRole


class ImageListDock(QDockWidget):
    """The user's pick goes to ``state.set_current_image``; ``filter_changed`` after a filter."""

    filter_changed = Signal()

    def __init__(self, state, parent=None) -> None:
        super().__init__("Images", parent)
        self.state = state
        self.setObjectName("ImageListDock")
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.filter_edit = QLineEdit(placeholderText="Filter by name…")
        self.filter_edit.setClearButtonEnabled(True)
        self.external_label = QLabel("")
        self.clear_filter_button = QToolButton(text="✕")
        self.clear_filter_button.setToolTip("Show all images again")
        external = QHBoxLayout()
        external.addWidget(self.external_label, 1)
        external.addWidget(self.clear_filter_button)
        self.external_row = QWidget()
        self.external_row.setLayout(external)
        self.external_row.setVisible(False)
        self.list_widget = QListWidget()
        # a long name loses its middle, never the "6 obj · 3 pred" counts at the end
        self.list_widget.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.list_widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.count_label = QLabel("No folder open")
        for widget in (self.filter_edit, self.external_row, self.list_widget, self.count_label):
            layout.addWidget(widget, 1 if widget is self.list_widget else 0)
        self.setWidget(body)
        self._names: dict[int, str] = {}
        self._status: dict[int, str] = {}
        self._order: list[int] = []
        self._rows: dict[int, int] = {}
        self._external: Callable[[int], bool] | None = None
        self._sort_key: Callable[[int], object] | None = None
        self.filter_edit.textChanged.connect(lambda _t: self._refresh())
        self.clear_filter_button.clicked.connect(lambda: self.set_filter(None))
        self.list_widget.currentItemChanged.connect(self._on_current_changed)
        state.dataset_opened.connect(
            lambda dataset: self.set_images({i: r.file_name for i, r in dataset.images.items()})
        )
        state.current_image_changed.connect(self._show_current)

    # ----- content -----------------------------------------------------------------------
    def set_images(self, names: dict[int, str]) -> None:
        """``names``: image id -> file name, in dataset order. Clears any external filter."""
        self._names = dict(names)
        self._order = list(names)
        self._status = {}
        self._external, self._sort_key = None, None
        self.external_row.setVisible(False)
        self._rebuild()

    def set_status(self, image_id: int, text: str) -> None:
        self._status[image_id] = text
        item = self._item(image_id)
        if item is not None:
            item.setText(self._row_text(image_id))

    def set_filter(
        self, which: IdFilter, sort_key: Callable[[int], object] | None = None, label: str = ""
    ) -> None:
        """Show only the images ``which`` accepts (a predicate or ids); None shows all."""
        if which is None:
            self._external = None
        elif callable(which):
            self._external = which
        else:
            allowed = set(which)
            self._external = allowed.__contains__
        self._sort_key = sort_key
        self.external_label.setText(label or "Filtered")
        self.external_row.setVisible(which is not None)
        self._rebuild()
        self.filter_changed.emit()

    def visible_ids(self) -> list[int]:
        """Image ids as listed now (filtered and sorted), top to bottom."""
        rows = range(self.list_widget.count())
        items = [self.list_widget.item(row) for row in rows]
        return [int(item.data(ID_ROLE)) for item in items if not item.isHidden()]

    def select(self, image_id: int) -> None:
        """Make ``image_id`` the current image (shown even when filtered out)."""
        self.state.set_current_image(image_id)

    def current_id(self) -> int | None:
        item = self.list_widget.currentItem()
        return None if item is None else int(item.data(ID_ROLE))

    def _show_current(self, image_id: int | None) -> None:
        """Highlight the state's current image (no row when there is none or it is hidden)."""
        item = self._item(image_id) if image_id is not None else None
        self.list_widget.blockSignals(True)
        if item is None or item.isHidden():
            self.list_widget.setCurrentItem(None)
        else:
            self.list_widget.setCurrentItem(item)
            self.list_widget.scrollToItem(item)
        self.list_widget.blockSignals(False)

    # ----- internals ---------------------------------------------------------------------
    def _row_text(self, image_id: int) -> str:
        status = self._status.get(image_id, "")
        return f"{self._names[image_id]}  {status}" if status else self._names[image_id]

    def _item(self, image_id: int) -> QListWidgetItem | None:
        row = self._rows.get(image_id)
        return None if row is None else self.list_widget.item(row)

    def _rebuild(self) -> None:
        ids = [i for i in self._order if self._external is None or self._external(i)]
        if self._sort_key is not None:
            ids.sort(key=self._sort_key)
        self.list_widget.blockSignals(True)
        self.list_widget.clear()
        self._rows = {}
        for row, image_id in enumerate(ids):
            item = QListWidgetItem(self._row_text(image_id))
            item.setData(ID_ROLE, image_id)
            item.setToolTip(self._names[image_id])
            self.list_widget.addItem(item)
            self._rows[image_id] = row
        self.list_widget.blockSignals(False)
        self._refresh()

    def _refresh(self) -> None:
        needle = self.filter_edit.text().strip().lower()
        shown = 0
        for row in range(self.list_widget.count()):
            item = self.list_widget.item(row)
            hidden = bool(needle) and needle not in item.toolTip().lower()
            item.setHidden(hidden)
            shown += not hidden
        total = len(self._order)
        if not total and not self._names:
            self.count_label.setText("No images")
        elif shown == total:
            self.count_label.setText(f"{total} images")
        else:
            self.count_label.setText(f"{shown} of {total} images")
        self._show_current(self.state.current_image_id)
        self.state.set_order(self.visible_ids())

    def _on_current_changed(self, current: QListWidgetItem | None, _previous) -> None:
        if current is not None:
            self.state.set_current_image(int(current.data(ID_ROLE)))
