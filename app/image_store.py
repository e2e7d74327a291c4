"""Decodes the folder's images off the GUI thread, keeps a few, prefetches the next."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.workers import WorkerPool

CACHE_SIZE = 4


def _decode(path: Path) -> np.ndarray:
    from detector.imageio import read_image

    return read_image(path)


class ImageStore(QObject):
    """``request(index)`` -> ``image_ready(index, array)`` or ``image_failed(index, message)``."""

    image_ready = Signal(int, object)
    image_failed = Signal(int, str)

    def __init__(self, pool: WorkerPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = pool
        self.paths: list[Path] = []
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._pending: set[int] = set()
        self._wanted = -1

    def set_paths(self, paths: list[Path]) -> None:
        self.paths = list(paths)
        self._cache.clear()
        self._pending.clear()
        self._wanted = -1

    def cached(self, index: int) -> np.ndarray | None:
        return self._cache.get(index)

    def request(self, index: int) -> None:
        """Show ``index`` as soon as it is decoded; then prefetch its neighbour."""
        self._wanted = index
        if index in self._cache:
            self._cache.move_to_end(index)
            self.image_ready.emit(index, self._cache[index])
            self._prefetch(index + 1)
        else:
            self._load(index)

    def _prefetch(self, index: int) -> None:
        if 0 <= index < len(self.paths) and index not in self._cache:
            self._load(index)

    def _load(self, index: int) -> None:
        if index in self._pending or not 0 <= index < len(self.paths):
            return
        self._pending.add(index)
        paths = self.paths
        self._pool.start(
            _decode,
            paths[index],
            on_finished=lambda image, i=index, p=paths: self._loaded(i, p, image),
            on_failed=lambda message, i=index: self._failed(i, message),
        )

    def _loaded(self, index: int, paths: list[Path], image: np.ndarray) -> None:
        self._pending.discard(index)
        if paths is not self.paths:
            return  # a different folder was opened meanwhile
        self._cache[index] = image
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        if index == self._wanted:
            self.image_ready.emit(index, image)
            self._prefetch(index + 1)

    def _failed(self, index: int, message: str) -> None:
        self._pending.discard(index)
        if index == self._wanted:
            self.image_failed.emit(index, message)
