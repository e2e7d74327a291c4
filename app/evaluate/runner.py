"""Run the model over the annotated set in a worker, reusing cached detections.

The GUI thread snapshots what the job needs (ground truth arrays, which images still need
the model, the label mapping); the worker detects the rest with ``detect_files``, yielding
progress after each image so Cancel stops it, then matches and accumulates the whole set.
Each image's detections are yielded as they are made and cached on the GUI thread, so a
cancelled run still fills the cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.evaluate.inputs import (
    CachedDetections,
    DetectionCache,
    category_mapping,
    detections_instances,
    evaluated_image_ids,
    file_signature,
    ground_truth,
    model_key,
)


@dataclass
class RunRequest:
    model: object
    key: str
    todo: list[tuple[int, Path, tuple]]  # (image id, path, file signature) to detect
    cached: dict[int, CachedDetections]
    gt: dict
    categories: dict[int, str]
    mapping: np.ndarray


@dataclass
class RunOutput:
    evaluator: object  # detector.evaluation.IncrementalEvaluator
    detected: int  # images the model ran on
    reused: int  # images whose detections came from the cache
    unreadable: dict[int, str] = field(default_factory=dict)


def build_request(dataset, model, cache: DetectionCache) -> RunRequest:
    """Everything the worker needs, read from the dataset on the GUI thread."""
    key = model_key(model)
    categories = {c.id: c.name for c in dataset.categories.values()}
    todo, cached, gt = [], {}, {}
    for image_id in evaluated_image_ids(dataset):
        path = dataset.image_path(image_id)
        signature = file_signature(path)
        gt[image_id] = ground_truth(dataset, image_id)
        hit = cache.get(image_id, signature, key)
        if hit is None:
            todo.append((image_id, path, signature))
        else:
            cached[image_id] = hit
    mapping = category_mapping(list(model.categories), categories)
    return RunRequest(model, key, todo, cached, gt, categories, mapping)


@dataclass(frozen=True)
class Detected:
    """One image the worker ran the model on (yielded as soon as it is done)."""

    image_id: int
    signature: tuple
    detections: CachedDetections


def evaluation_job(request: RunRequest):
    """Generator job: detect what is missing (a :class:`Detected` and a :class:`Progress`
    per image, the model lock held per image), then evaluate everything; returns RunOutput."""
    from app.model_controller import MODEL_LOCK
    from app.workers import Progress, locked_steps

    total = len(request.todo) + 1
    detected: dict[int, CachedDetections] = {}
    unreadable: dict[int, str] = {}
    yield Progress(0, total, "Starting…")
    if request.todo:
        from detector.inference.batch import detect_files

        paths = [path for _, path, _ in request.todo]
        results = locked_steps(iter(detect_files(request.model, paths, batch_size=1)), MODEL_LOCK)
        for done, (item, result) in enumerate(zip(request.todo, results, strict=True), 1):
            image_id, path, signature = item
            if result.detections is None:
                unreadable[image_id] = result.error or "unreadable"
            else:
                detected[image_id] = CachedDetections.from_detections(result.detections)
                yield Detected(image_id, signature, detected[image_id])
            yield Progress(done, total, f"Detecting {done}/{total - 1}: {path.name}")
    yield Progress(total - 1, total, "Matching detections to ground truth…")
    evaluator = evaluate_snapshot(request, detected, unreadable)
    return RunOutput(evaluator, len(request.todo), len(request.cached), unreadable)


def evaluate_snapshot(request: RunRequest, detected: dict, unreadable: dict[int, str]):
    from detector.evaluation import IncrementalEvaluator, from_arrays

    detections = {**request.cached, **detected}
    gt = {i: inst for i, inst in request.gt.items() if i not in unreadable}
    dt = {i: detections_instances(detections.get(i), request.mapping) for i in gt}
    evaluator = IncrementalEvaluator(from_arrays(gt, dt, request.categories))
    evaluator.result()  # accumulate here, off the GUI thread
    return evaluator


RUN = "evaluate.run"


class RunController(QObject):
    """One evaluation run at a time; signals arrive on the GUI thread. Each image's
    detections go to the cache as they arrive, so a cancelled run still fills it."""

    progress = Signal(int, int, str)
    finished = Signal(object)  # RunOutput
    failed = Signal(str)
    running_changed = Signal(bool)

    def __init__(self, pool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = pool
        self.cache = DetectionCache()
        self._key = ""

    @property
    def running(self) -> bool:
        return self._pool.running(RUN)

    def start(self, dataset, model) -> bool:
        if self.running:
            return False
        request = build_request(dataset, model, self.cache)
        self._key = key = request.key
        worker = self._pool.start(
            evaluation_job,
            request,
            key=RUN,
            on_yielded=lambda found: self.cache.put(
                found.image_id, found.signature, key, found.detections
            ),
            on_progress=self._on_progress,
            on_returned=self._on_finished,
            on_errored=self._on_failed,
        )
        if worker is None:
            return False
        self.running_changed.emit(True)
        return True

    def cancel(self) -> None:
        """Stop at the next image; what was detected so far still reaches the cache."""
        if self.running:
            self._pool.cancel(RUN, drop=False)
            self.running_changed.emit(False)

    def _on_progress(self, done: int, total: int, text: str) -> None:
        if self.running:
            self.progress.emit(done, total, text)

    def _on_finished(self, output: RunOutput) -> None:
        if not self.running:
            return  # cancelled just as it finished
        self._pool.cancel(RUN)  # done: no longer running (the thread ends on its own)
        self.running_changed.emit(False)
        self.finished.emit(output)

    def _on_failed(self, exc: Exception) -> None:
        from app.workers import describe_error

        if not self.running:
            return
        self._pool.cancel(RUN)
        self.running_changed.emit(False)
        self.failed.emit(describe_error(exc))
