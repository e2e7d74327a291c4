"""The window's model: what is open and what is shown, with no widgets.

napari's model/_qt split: :class:`AppState` holds the open dataset, its folder, the image
order, the current image id, the model controller, the undo stack, the image store and the
worker pool. Docks and overlays never ask each other: they subscribe to these signals and
write back through the setters here (``set_dataset``, ``set_current_image``, ``set_order``).

Signals, in the order a folder opens:

* ``dataset_opened(dataset)``: another dataset is open (``current_image_id`` is None now);
  every view drops what it showed of the previous one.
* ``current_image_changed(image_id | None)``: the current image changed (not decoded yet).
* ``image_loaded(image_id, Decoded)``: the current image's pixels are decoded
  (``current_image()``); the main window draws the canvas first (it connects first), so a
  dock's overlays drawn from this signal land on the new image.
* ``image_failed(image_id, message)``: the current image cannot be read.
* ``dataset_changed(change)``: every :class:`detector.data.dataset.Change` of the open dataset.
* ``model_changed(model)``: a model was loaded or set.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.annotate.undo import UndoStack
from app.image_store import ImageStore
from app.model_controller import ModelController
from app.workers import WorkerPool


def freeze_for_gc() -> None:
    """Move what is alive now (the open dataset's million records) out of the cyclic GC's
    reach: a full collection walked them all (~0.1 s per 200,000 boxes), a stall at random
    moments: a keystroke, a scroll, an autosave. Records die by reference counting as
    before (a dataset holds no cycles); no collection is run here (it would cost that
    scan once more while the folder opens)."""
    gc.freeze()


@contextlib.contextmanager
def loading_frozen() -> Iterator[None]:
    """Load a dataset with the cyclic GC off, then freeze what was built: the loaders
    pause the GC themselves, but the million records they make pile up in the youngest
    generation, and the first collection after it came back on walked them all (~1 s at
    1,000,000 boxes) before the first image was drawn."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


class ImagePaths(Mapping):
    """image id -> file, made when asked (100,000 Path objects up front cost ~0.3 s)."""

    def __init__(self, dataset) -> None:
        self.dataset = dataset

    def __getitem__(self, image_id: int) -> Path:
        return self.dataset.image_path(image_id)

    def __contains__(self, image_id: object) -> bool:
        return image_id in self.dataset.images

    def __iter__(self):
        return iter(self.dataset.images)

    def __len__(self) -> int:
        return len(self.dataset.images)


class AppState(QObject):
    """The one truth of the window (see the module docstring for the signals)."""

    dataset_opened = Signal(object)
    dataset_changed = Signal(object)
    current_image_changed = Signal(object)
    image_loaded = Signal(int, object)
    image_failed = Signal(int, str)
    model_changed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = WorkerPool(self)
        self.store = ImageStore(self.pool, self)
        self.models = ModelController(self.pool, self)
        self.undo = UndoStack(self)
        self.dataset = None
        self.folder: Path | None = None
        self.images: list[int] = []  # every image id, dataset order
        self.order: list[int] = []  # the navigation order (the image list's filter and sort)
        self.current_image_id: int | None = None
        self.detections: dict[int, object] = {}  # image id -> raw Detections of the model
        self.prediction_names: dict[int, str] = {}  # category ids predictions reserved
        self.unreadable: dict[int, str] = {}  # image id -> why it cannot be read
        self._unsubscribe = None
        self.store.image_ready.connect(self._on_image_ready)
        self.store.image_failed.connect(self._on_image_failed)
        self.models.model_loaded.connect(self.model_changed)

    # ----- dataset -----------------------------------------------------------------------
    def set_dataset(self, dataset, folder: Path) -> None:
        """Make ``dataset`` (opened from ``folder``) the open one and show its first image."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.dataset, self.folder = dataset, Path(folder)
        self.images = list(dataset.images)
        self.order = list(self.images)
        self.detections.clear()
        self.prediction_names.clear()
        self.unreadable.clear()
        self.current_image_id = None
        self.undo.reset(dataset)
        self._unsubscribe = dataset.subscribe(self.dataset_changed.emit)
        self.store.set_paths(ImagePaths(dataset))
        freeze_for_gc()
        self.dataset_opened.emit(dataset)
        self.current_image_changed.emit(None)
        if self.images:
            self.set_current_image(self.images[0])

    def set_predictions(self, image_id: int | None, annotations) -> None:
        """Replace an image's unaccepted predictions (not ground truth: not saved)."""
        if self.dataset is not None and image_id is not None:
            self.dataset.set_predictions(image_id, annotations)

    def mark_unreadable(self, image_id: int, message: str) -> None:
        self.unreadable[image_id] = message
        self.image_failed.emit(image_id, message)

    def unreadable_reason(self, image_id: int) -> str | None:
        """Why ``image_id`` could not be read (None while it reads fine)."""
        return self.unreadable.get(image_id)

    # ----- current image -----------------------------------------------------------------
    def set_current_image(self, image_id: int, *, reload: bool = False) -> None:
        """Make ``image_id`` current and decode it (``image_loaded`` follows)."""
        if self.dataset is None or image_id not in self.dataset.images:
            return
        if image_id == self.current_image_id and not reload:
            return
        self.current_image_id = image_id
        self.current_image_changed.emit(image_id)
        self.store.request(image_id, prefetch=self.neighbour(+1))

    def set_order(self, image_ids: list[int]) -> None:
        """The order images are stepped through (the image list writes its rows here)."""
        self.order = list(image_ids)

    def neighbour(self, step: int) -> int | None:
        """The image ``step`` places from the current one in ``order`` (clamped), or None."""
        order = self.order or self.images
        if not order:
            return None
        here = order.index(self.current_image_id) if self.current_image_id in order else -1
        target = min(max(here + step, 0), len(order) - 1)
        return None if target == here else order[target]

    def step(self, step: int) -> None:
        """Show the image ``step`` places away in ``order`` (A / D)."""
        order = self.order or self.images
        if self.current_image_id not in order and order:
            self.set_current_image(order[0] if step > 0 else order[-1])
            return
        target = self.neighbour(step)
        if target is not None:
            self.set_current_image(target)

    def current_image(self) -> np.ndarray | None:
        """The current image (H x W x 3 uint8 RGB) once decoded, else None. Above the pixel
        budget it is a reduced decode: see ``current_loaded``."""
        decoded = self.store.cached(self.current_image_id)
        return None if decoded is None else decoded.array

    def current_loaded(self):
        """The current image's ``detector.io.images.LoadedImage`` (pixels and original
        size) once decoded, else None."""
        decoded = self.store.cached(self.current_image_id)
        return None if decoded is None else decoded.image

    def current_path(self) -> Path | None:
        """The file of the current image (None before any)."""
        if self.dataset is None or self.current_image_id is None:
            return None
        return self.dataset.image_path(self.current_image_id)

    def _on_image_ready(self, image_id: int, decoded) -> None:
        if image_id == self.current_image_id:
            self.image_loaded.emit(image_id, decoded)

    def _on_image_failed(self, image_id: int, message: str) -> None:
        self.mark_unreadable(image_id, message)

    def close(self) -> None:
        """Stop every job (window closing)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.pool.shutdown()
