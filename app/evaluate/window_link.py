"""What the Evaluate dock needs from the main window, in one place.

The window's annotation API (``dataset``, ``current_image_id``, ``go_to``, ``image_changed``,
``image_dock.set_filter``) is used when present; older windows that only know folder
indices get a fallback here, so the dock works either way.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QRectF

from detector.store import open_dataset


class WindowLink:
    def __init__(self, window) -> None:
        self.window = window
        self._own_dataset = None  # fallback: opened here when the window has none
        self._own_folder: Path | None = None

    # ----- dataset -----------------------------------------------------------------------
    def dataset(self):
        dataset = getattr(self.window, "dataset", None)
        if dataset is not None:
            return dataset
        folder = getattr(self.window, "folder", None)
        if folder is None:
            return None
        if self._own_folder != Path(folder):
            self._own_dataset = open_dataset(folder)
            self._own_folder = Path(folder)
        return self._own_dataset

    def current_image_id(self) -> int | None:
        if hasattr(self.window, "current_image_id"):
            value = self.window.current_image_id
            return None if value is None or value < 0 else int(value)
        index = getattr(self.window, "current_index", -1)
        dataset = self.dataset()
        paths = getattr(self.window.images, "paths", [])
        if dataset is None or not 0 <= index < len(paths):
            return None
        root = Path(dataset.root)
        name = Path(paths[index]).relative_to(root).as_posix()
        record = dataset.image_by_name(name)
        return None if record is None else record.id

    # ----- navigation --------------------------------------------------------------------
    def go_to(self, image_id: int, box_xyxy: np.ndarray | None) -> None:
        """Show ``image_id`` and zoom on ``box_xyxy`` (the window's go_to when it has one)."""
        if hasattr(self.window, "go_to"):
            box = None if box_xyxy is None else tuple(float(v) for v in box_xyxy)
            self.window.go_to(image_id, box)
            return
        if self.current_image_id() == image_id:
            self.zoom_to(box_xyxy)
            return
        dataset = self.dataset()
        paths = [Path(p) for p in getattr(self.window.images, "paths", [])]
        target = dataset.image_path(image_id) if dataset is not None else None
        if target in paths:
            self.window.image_dock.select(paths.index(target))

    def zoom_to(self, box_xyxy: np.ndarray | None) -> None:
        if box_xyxy is None:
            return
        x1, y1, x2, y2 = (float(v) for v in box_xyxy)
        margin = max(x2 - x1, y2 - y1, 16.0)
        rect = QRectF(x1 - margin, y1 - margin, x2 - x1 + 2 * margin, y2 - y1 + 2 * margin)
        self.window.canvas.fitInView(rect, _keep_aspect())

    def set_image_filter(self, image_ids: list[int] | None, sort_key=None, label="") -> bool:
        """Narrow the window's image list; False when the window has no external filter."""
        dock = self.window.image_dock
        if not hasattr(dock, "set_filter"):
            return False
        dock.set_filter(image_ids, sort_key, label)
        return True

    def connect_image_changed(self, slot) -> None:
        """``slot()`` after every image the canvas shows (overlays are cleared then)."""
        self.window.canvas.image_shown.connect(slot)
        signal = getattr(self.window, "image_changed", None)
        if signal is not None:
            signal.connect(lambda _image_id: slot())


def _keep_aspect():
    from PySide6.QtCore import Qt

    return Qt.AspectRatioMode.KeepAspectRatio
