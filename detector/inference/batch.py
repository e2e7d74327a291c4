"""Batch detection over many files: decode ahead in threads while the model runs.

``detect_files`` is the engine of ``main.py detect`` (and of "detect all" in the GUI): it
keeps a bounded number of decodes in flight (OpenCV releases the GIL while decoding), so
the model never waits for the disk and memory stays flat however many images there are.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from detector.errors import ImageReadError
from detector.inference.detections import Detections
from detector.inference.run import detect
from detector.io.images import read_image
from detector.models import DetModel


@dataclass(kw_only=True)
class FileResult:
    """One input file: its detections and image size, or why it could not be read."""

    path: Path
    detections: Detections | None
    width: int = 0
    height: int = 0
    error: str | None = None


def _read(path: Path) -> np.ndarray | ImageReadError:
    try:
        return read_image(path)
    except ImageReadError as exc:
        return exc


def _decoded(
    paths: Iterable[Path], lookahead: int, threads: int
) -> Iterator[tuple[Path, np.ndarray | ImageReadError]]:
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="decode") as pool:
        pending: deque[tuple[Path, Future]] = deque()
        for path in paths:
            pending.append((path, pool.submit(_read, path)))
            if len(pending) >= lookahead:
                done_path, future = pending.popleft()
                yield done_path, future.result()
        while pending:
            done_path, future = pending.popleft()
            yield done_path, future.result()


def detect_files(
    model: DetModel, paths: list[Path], *, batch_size: int = 1, decode_threads: int = 2
) -> Iterator[FileResult]:
    """Yield one FileResult per path, in order; unreadable files carry ``error``."""
    batch: list[tuple[Path, np.ndarray]] = []
    lookahead = max(2, 2 * batch_size)
    for path, image in _decoded(paths, lookahead, decode_threads):
        if isinstance(image, ImageReadError):
            yield from _flush(model, batch)
            batch = []
            yield FileResult(path=path, detections=None, error=str(image))
            continue
        batch.append((path, image))
        if len(batch) >= batch_size:
            yield from _flush(model, batch)
            batch = []
    yield from _flush(model, batch)


def _flush(model: DetModel, batch: list[tuple[Path, np.ndarray]]) -> Iterator[FileResult]:
    if not batch:
        return
    outputs = detect(model, [image for _, image in batch])
    for (path, image), detections in zip(batch, outputs, strict=True):
        yield FileResult(
            path=path, detections=detections, width=image.shape[1], height=image.shape[0]
        )
