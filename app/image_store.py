"""Decodes the dataset's images off the GUI thread, keeps a few, prefetches the next.

A decoded image is a :class:`Decoded`: the numpy RGB array (for pixel values, the model)
and a QImage already in the screen's native 32-bit format, converted in the worker too, so
the GUI thread only wraps it in a pixmap (a 12 MP image shows in a few milliseconds). The
worker also builds an image pyramid (halved copies): a zoomed-out view of a 12 MP image
then draws a ~1 MP copy per frame instead of resampling 12 MP.

Images above the pixel budget (``detector.io.images.load_image``: 40 MP) are decoded
reduced (a 20000 x 20000 JPEG as 2500 x 2500, inside libjpeg, in about a second): the
canvas draws them stretched to their original size, so boxes and masks stay in original
pixels, and ``Decoded.image`` says by how much they were reduced.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from app.overlays import reduced_levels
from app.workers import WorkerPool, describe_error

if TYPE_CHECKING:  # OpenCV is imported by the first decode, not at launch
    from detector.io.images import LoadedImage

CACHE_SIZE = 4  # decoded images kept (the current one, the prefetched next, two behind) ...
CACHE_BYTES = 640_000_000  # ... and at most this much of them besides the current one


@dataclass
class Decoded:
    image: LoadedImage  # pixels (H x W x 3 uint8 RGB, maybe reduced) and the original size
    qimage: QImage  # Format_RGB32, ready for QPixmap.fromImage
    levels: list[QImage] = field(default_factory=list)  # halved copies, for zoomed-out views

    @property
    def array(self) -> np.ndarray:
        return self.image.pixels

    @property
    def nbytes(self) -> int:
        """Memory held: the array, the QImage and the pyramid."""
        return self.array.nbytes + sum(q.sizeInBytes() for q in (self.qimage, *self.levels))

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the original image (the canvas's coordinate frame)."""
        return self.image.width, self.image.height


def to_qimage(image: np.ndarray) -> QImage:
    """H x W x 3 uint8 RGB -> QImage in Format_RGB32 (a copy; safe to use from any thread)."""
    height, width = image.shape[:2]
    bgrx = np.empty((height, width, 4), np.uint8)
    bgrx[..., 0] = image[..., 2]
    bgrx[..., 1] = image[..., 1]
    bgrx[..., 2] = image[..., 0]
    bgrx[..., 3] = 255
    qimage = QImage(bgrx.data, width, height, 4 * width, QImage.Format.Format_RGB32)
    return qimage.copy()


def decode(path: Path) -> Decoded:
    from detector.io.images import load_image

    image = load_image(path)
    qimage = to_qimage(image.pixels)
    return Decoded(image, qimage, reduced_levels(qimage))


class ImageStore(QObject):
    """``request(image_id)`` -> ``image_ready(image_id, Decoded)`` or ``image_failed(id, msg)``."""

    image_ready = Signal(int, object)
    image_failed = Signal(int, str)

    def __init__(self, pool: WorkerPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = pool
        self.paths: dict[int, Path] = {}
        self._cache: OrderedDict[int, Decoded] = OrderedDict()
        self._pending: set[int] = set()
        self._wanted: int | None = None
        self._prefetch_next: int | None = None

    def set_paths(self, paths: Mapping[int, Path]) -> None:
        """Another folder: forget the cache; decodes still running for the old one are
        cancelled (their results never arrive)."""
        for image_id in self._pending:
            self._pool.cancel(("decode", image_id))
        self.paths = paths if not isinstance(paths, dict) else dict(paths)
        self._cache.clear()
        self._pending.clear()
        self._wanted = None

    def cached(self, image_id: int | None) -> Decoded | None:
        return None if image_id is None else self._cache.get(image_id)

    def request(self, image_id: int, prefetch: int | None = None) -> None:
        """Emit ``image_ready`` as soon as ``image_id`` is decoded; then decode ``prefetch``."""
        self._wanted = image_id
        self._prefetch_next = prefetch
        if image_id in self._cache:
            self._cache.move_to_end(image_id)
            self.image_ready.emit(image_id, self._cache[image_id])
            self._load(prefetch)
        else:
            self._load(image_id)

    def _load(self, image_id: int | None) -> None:
        if image_id is None or image_id in self._pending or image_id in self._cache:
            return
        if image_id not in self.paths:
            return
        self._pending.add(image_id)
        self._pool.start(
            decode,
            self.paths[image_id],
            key=("decode", image_id),
            on_returned=lambda image, i=image_id: self._loaded(i, image),
            on_errored=lambda exc, i=image_id: self._failed(i, describe_error(exc)),
        )

    def _loaded(self, image_id: int, image: Decoded) -> None:
        self._pending.discard(image_id)
        self._cache[image_id] = image
        # oldest first, never the image the user is looking at: four 24 MP photos would
        # hold 800 MB, so big ones are kept fewer
        others = [i for i in self._cache if i != self._wanted]
        while others and (
            len(self._cache) > CACHE_SIZE
            or sum(d.nbytes for d in self._cache.values()) > CACHE_BYTES
        ):
            del self._cache[others.pop(0)]
        if image_id == self._wanted:
            self.image_ready.emit(image_id, image)
            self._load(self._prefetch_next)

    def _failed(self, image_id: int, message: str) -> None:
        self._pending.discard(image_id)
        if image_id == self._wanted:
            self.image_failed.emit(image_id, message)
