"""Owns the current detector: loads it and runs it in worker threads, never on the GUI thread.

``MODEL_LOCK`` is the one lock every user of the torch module takes while it runs it
(Detect, Detect all, Evaluate, Inspect's traces and training view): a job that flips the
module's mode or copies its weights never overlaps another one's forward pass.
"""

from __future__ import annotations

import threading
import time

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.workers import WorkerPool, describe_error

MODEL_LOCK = threading.Lock()


def _load(name: str, device: str):
    from detector.models import load_model

    return load_model(name, device=device)


def _run_detect(model, image: np.ndarray):
    from detector.inference.run import detect

    started = time.perf_counter()
    with MODEL_LOCK:
        detections = detect(model, [image])[0]
    return detections, time.perf_counter() - started, mask_rles(detections)


def mask_rles(detections) -> list | None:
    """COCO RLE of each mask at 0.5 (what an accepted prediction keeps), or None."""
    if not detections.has_masks:
        return None
    return [detections.mask_rle(i) for i in range(len(detections))]


class ModelController(QObject):
    """Signals: ``model_loaded(model)``, ``detections_ready(token, detections, seconds, rles)``
    (``rles``: one COCO RLE per mask, or None),
    ``failed(message)``, ``busy_changed(bool)``."""

    model_loaded = Signal(object)
    detections_ready = Signal(object, object, float, object)
    failed = Signal(str)
    busy_changed = Signal(bool)

    lock = MODEL_LOCK  # take it around every use of ``model.module`` in a worker

    def __init__(self, pool: WorkerPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = pool
        self.model = None
        self.choice: tuple[str, str] = ("shapes", "auto")
        self._queued_detect: tuple[object, np.ndarray] | None = None
        self._busy = 0

    @property
    def loading(self) -> bool:
        return self._pool.running("model.load")

    def load(self, name: str, device: str) -> None:
        """Load ``name`` on ``device`` in a worker; a newer choice supersedes this one."""
        self.choice = (name, device)
        self._set_busy(+1)
        self._pool.start(
            _load,
            name,
            device,
            key="model.load",
            on_returned=self._loaded,
            on_errored=self._load_failed,
            on_finished=lambda: self._set_busy(-1),
        )

    def set_model(self, model) -> None:
        """Use an already built DetModel (scripts, tests, a model trained in-process)."""
        self._pool.cancel("model.load")
        self.model = model
        self.model_loaded.emit(model)

    def ensure_loaded(self) -> None:
        if self.model is None and not self.loading:
            self.load(*self.choice)

    def detect(self, token: object, image: np.ndarray) -> None:
        """Run the model on ``image``; ``token`` comes back with the result (e.g. image index)."""
        if self.model is None:
            self._queued_detect = (token, image)
            self.ensure_loaded()
            return
        self._set_busy(+1)
        self._pool.start(
            _run_detect,
            self.model,
            image,
            on_returned=lambda result, t=token: self._detected(t, result),
            on_errored=lambda exc: self.failed.emit(describe_error(exc)),
            on_finished=lambda: self._set_busy(-1),
        )

    def _loaded(self, model) -> None:
        self.model = model
        self.model_loaded.emit(model)
        if self._queued_detect is not None:
            token, image = self._queued_detect
            self._queued_detect = None
            self.detect(token, image)

    def _load_failed(self, exc: Exception) -> None:
        self._queued_detect = None
        self.failed.emit(describe_error(exc))

    def _detected(self, token: object, result) -> None:
        detections, seconds, rles = result
        self.detections_ready.emit(token, detections, seconds, rles)

    def _set_busy(self, delta: int) -> None:
        was = self._busy > 0
        self._busy += delta
        if (self._busy > 0) != was:
            self.busy_changed.emit(self._busy > 0)
