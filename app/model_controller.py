"""Owns the current detector: loads it and runs it in worker threads, never on the GUI thread.

``MODEL_LOCK`` is the one lock every user of the torch module takes while it runs it
(Detect, Detect all, Evaluate, Inspect's traces and training view): a job that flips the
module's mode or copies its weights never overlaps another one's forward pass.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from app.workers import WorkerPool, describe_error
from detector.inference.detections import mask_rles

MODEL_LOCK = threading.Lock()


@dataclass(frozen=True)
class NeedsArchitecture:
    """A checkpoint fits several architectures; the user picks one of ``candidates``."""

    path: str
    candidates: list[str]
    message: str


def _load(spec: str, device: str):
    """Load a :mod:`detector.models.spec` string (``ARCH@COCO_V1``, ``ARCH@none``, a path)."""
    from detector.models.infer import AmbiguousArchitectureError
    from detector.models.spec import load_choice, parse_model_spec

    choice = parse_model_spec(spec)
    try:
        return load_choice(choice, device)
    except AmbiguousArchitectureError as exc:
        return NeedsArchitecture(choice.weights, list(exc.candidates), str(exc))


def _run_detect(model, image):
    """``image``: a ``LoadedImage``; detections in its original pixels."""
    from detector.inference.run import detect_loaded

    started = time.perf_counter()
    with MODEL_LOCK:
        detections = detect_loaded(model, [image])[0]
    return detections, time.perf_counter() - started, mask_rles(detections)


class ModelController(QObject):
    """Signals: ``model_loaded(model)``, ``detections_ready(token, detections, seconds, rles)``
    (``rles``: one COCO RLE per mask, or None),
    ``failed(message)``, ``busy_changed(bool)``; ``load_failed(message, spec)`` after a load
    failed (``choice`` is back to the model still loaded), ``architecture_needed(path,
    candidates)`` when a checkpoint fits several architectures."""

    model_loaded = Signal(object)
    detections_ready = Signal(object, object, float, object)
    failed = Signal(str)
    busy_changed = Signal(bool)
    load_failed = Signal(str, str)  # message, the spec that failed (``choice`` is restored)
    architecture_needed = Signal(str, list)  # checkpoint path, candidate architectures
    fell_back = Signal(str)  # the remembered model failed at startup; the fallback loads

    lock = MODEL_LOCK  # take it around every use of ``model.module`` in a worker

    def __init__(self, pool: WorkerPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = pool
        self.model = None
        self.choice: tuple[str, str] = ("shapes", "auto")
        self.loaded_choice: tuple[str, str] | None = None  # the choice ``model`` came from
        self._queued_detect: tuple[object, object] | None = None
        self._busy = 0
        # set at launch when the model comes from last session's settings: if it cannot be
        # loaded (the checkpoint moved, weights never downloaded here), load this one
        # instead and say so in the status bar, rather than an error dialog at startup
        self.startup_fallback: tuple[str, str] | None = None

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
            on_returned=lambda model, c=(name, device): self._loaded(c, model),
            on_errored=lambda exc, c=(name, device): self._load_failed(c, exc),
            on_finished=lambda: self._set_busy(-1),
        )

    def set_model(self, model) -> None:
        """Use an already built DetModel (scripts, tests, a model trained in-process)."""
        self._pool.cancel("model.load")
        self.model = model
        self.loaded_choice = self.choice
        self.model_loaded.emit(model)

    def ensure_loaded(self) -> None:
        if self.model is None and not self.loading:
            self.load(*self.choice)

    def detect(self, token: object, image) -> None:
        """Run the model on ``image`` (a ``detector.io.images.LoadedImage``); ``token``
        comes back with the result (e.g. image index)."""
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

    def _loaded(self, choice: tuple[str, str], model) -> None:
        if isinstance(model, NeedsArchitecture):
            self._restore_choice()
            self._queued_detect = None
            self.architecture_needed.emit(model.path, model.candidates)
            return
        self.model = model
        self.loaded_choice = choice
        self.startup_fallback = None
        self.model_loaded.emit(model)
        if self._queued_detect is not None:
            token, image = self._queued_detect
            self._queued_detect = None
            self.detect(token, image)

    def _load_failed(self, choice: tuple[str, str], exc: Exception) -> None:
        message = describe_error(exc)
        fallback, self.startup_fallback = self.startup_fallback, None
        if fallback is not None and self.model is None and fallback[0] != choice[0]:
            self.choice = fallback
            self.load_failed.emit(message, choice[0])  # the dock shows the fallback
            self.fell_back.emit(
                f"The model used last time ({choice[0]}) could not be loaded ({message}); "
                f"loading {fallback[0]} instead."
            )
            self.load(*fallback)  # a detection asked for meanwhile stays queued for it
            return
        self._queued_detect = None
        self._restore_choice()
        self.failed.emit(message)
        self.load_failed.emit(message, choice[0])  # after: its status message stays on top

    def _restore_choice(self) -> None:
        """Back to the choice of the model still loaded (Ctrl+R runs that one)."""
        if self.loaded_choice is not None:
            self.choice = self.loaded_choice

    def list_weights(self, on_listed) -> None:
        """torchvision's weights list (imports torchvision) off the GUI thread."""
        from detector.models.weights import list_weights

        self._pool.start(list_weights, key="weights.list", on_returned=on_listed)

    def _detected(self, token: object, result) -> None:
        detections, seconds, rles = result
        self.detections_ready.emit(token, detections, seconds, rles)

    def _set_busy(self, delta: int) -> None:
        was = self._busy > 0
        self._busy += delta
        if (self._busy > 0) != was:
            self.busy_changed.emit(self._busy > 0)
