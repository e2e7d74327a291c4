"""Images by their errors: only those with false positives, with misses, or either,
sorted by the number of errors; the same filter narrows the window's image list."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QListView, QVBoxLayout, QWidget

FILTERS = {
    "all": "All evaluated images",
    "fp": "Only images with false positives",
    "fn": "Only images with misses",
    "any": "Images with any error",
}
IMAGE_ROLE = Qt.ItemDataRole.UserRole


def filtered_images(errors: dict[int, tuple[int, int]], mode: str) -> list[int]:
    """Image ids the filter keeps, most errors first (ties by id); numpy, so 100,000
    evaluated images take milliseconds on the GUI thread."""
    return _filtered(*_arrays(errors), mode)


def _filtered(ids: np.ndarray, counts: np.ndarray, mode: str) -> list[int]:
    fp, fn = counts[:, 0], counts[:, 1]
    count = fp if mode == "fp" else fn if mode == "fn" else fp + fn
    if mode != "all":
        keep = count > 0
        ids, count = ids[keep], count[keep]
    return ids[np.lexsort((ids, -count))].tolist()


def _arrays(errors: dict[int, tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """int64[N] image ids and int64[N, 2] (false positives, misses)."""
    ids = np.fromiter(errors.keys(), np.int64, len(errors))
    counts = np.array(list(errors.values()), np.int64).reshape(-1, 2)
    return ids, counts


class _ErrorModel(QAbstractListModel):
    """Rows are image ids; one reset per update instead of thousands of list items."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.ids: list[int] = []
        self.errors: dict[int, tuple[int, int]] = {}
        self.names: dict[int, str] = {}

    def set_rows(self, ids: list[int], errors, names) -> None:
        self.beginResetModel()
        self.ids, self.errors, self.names = ids, errors, names
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.ids)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, IMAGE_ROLE):
            return None
        image_id = self.ids[index.row()]
        if role == IMAGE_ROLE:
            return image_id
        fp, fn = self.errors[image_id]
        return f"{self.names.get(image_id, str(image_id))}   FP {fp} · FN {fn}"


class ErrorList(QWidget):
    """Emits ``image_requested(id)`` on a click, ``filter_changed(mode, ids)`` on a change."""

    image_requested = Signal(int)
    filter_changed = Signal(str, list)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.mode_combo = QComboBox()
        for mode, text in FILTERS.items():
            self.mode_combo.addItem(text, mode)
        self.summary = QLabel("")
        self.model = _ErrorModel(self)
        self.list_view = QListView()
        self.list_view.setModel(self.model)
        self.list_view.setUniformItemSizes(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.mode_combo)
        layout.addWidget(self.summary)
        layout.addWidget(self.list_view, 1)
        self._errors: dict[int, tuple[int, int]] = {}
        self._names: dict[int, str] = {}
        self.mode_combo.currentIndexChanged.connect(lambda _i: self._refresh(emit=True))
        self.list_view.clicked.connect(
            lambda index: self.image_requested.emit(int(index.data(IMAGE_ROLE)))
        )

    @property
    def mode(self) -> str:
        return str(self.mode_combo.currentData())

    def set_mode(self, mode: str) -> None:
        self.mode_combo.setCurrentIndex(list(FILTERS).index(mode))

    def set_errors(self, errors: dict[int, tuple[int, int]], names: dict[int, str]) -> None:
        changed = errors != self._errors
        self._errors, self._names = errors, names
        self._refresh(emit=changed and self.mode != "all")

    def shown_ids(self) -> list[int]:
        return list(self.model.ids)

    def _refresh(self, emit: bool) -> None:
        all_ids, counts = _arrays(self._errors)
        ids = _filtered(all_ids, counts, self.mode)
        self.model.set_rows(ids, self._errors, self._names)
        total_fp, total_fn = (int(v) for v in counts.sum(axis=0))
        self.summary.setText(
            f"{len(ids)} of {len(self._errors)} images · {total_fp} false positives, "
            f"{total_fn} misses in all"
        )
        if emit:
            self.filter_changed.emit(self.mode, ids)
