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

from detector.errors import ImageReadError
from detector.inference.detections import Detections
from detector.inference.run import detect_loaded
from detector.io.images import LoadedImage, load_image
from detector.models import DetModel


@dataclass(kw_only=True)
class FileResult:
    """One input file: its detections and image size, or why it could not be read.

    Images over the pixel budget are detected on a reduced decode; ``detections`` are
    in the original pixel frame all the same, and ``note`` says so (else '').
    """

    path: Path
    detections: Detections | None
    width: int = 0
    height: int = 0
    error: str | None = None
    note: str = ""


def _read(path: Path) -> LoadedImage | ImageReadError:
    try:
        return load_image(path)
    except ImageReadError as exc:
        return exc


def _decoded(
    paths: Iterable[Path], lookahead: int, threads: int
) -> Iterator[tuple[Path, LoadedImage | ImageReadError]]:
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
    batch: list[tuple[Path, LoadedImage]] = []
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


def _flush(model: DetModel, batch: list[tuple[Path, LoadedImage]]) -> Iterator[FileResult]:
    if not batch:
        return
    outputs = detect_loaded(model, [image for _, image in batch])
    for (path, image), detections in zip(batch, outputs, strict=True):
        note = f"detected on a reduced decode: {image.describe()}" if image.reduced else ""
        yield FileResult(
            path=path, detections=detections, width=image.width, height=image.height, note=note
        )
