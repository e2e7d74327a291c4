"""Run the model over the annotated set in a worker, reusing cached detections.

The GUI thread snapshots what the job needs (ground truth arrays, which images still need
the model, the label mapping); the worker detects the rest with ``detect_files``, yielding
progress after each image so Cancel stops it, then matches and accumulates the whole set.
Detections land in a sink as they are made, so a cancelled run still fills the cache.
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
    segm_problem,
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
    iou_type: str = "bbox"


@dataclass
class RunOutput:
    evaluator: object  # detector.evaluation.IncrementalEvaluator
    detected: int  # images the model ran on
    reused: int  # images whose detections came from the cache
    unreadable: dict[int, str] = field(default_factory=dict)


def build_request(dataset, model, cache: DetectionCache, iou_type: str = "bbox") -> RunRequest:
    """Everything the worker needs, read from the dataset on the GUI thread."""
    key = model_key(model)
    categories = {c.id: c.name for c in dataset.categories.values()}
    todo, cached, gt = [], {}, {}
    for image_id in evaluated_image_ids(dataset):
        path = dataset.image_path(image_id)
        signature = file_signature(path)
        gt[image_id] = ground_truth(dataset, image_id, iou_type)
        hit = cache.get(image_id, signature, key)
        if hit is None:
            todo.append((image_id, path, signature))
        else:
            cached[image_id] = hit
    mapping = category_mapping(list(model.categories), categories)
    return RunRequest(model, key, todo, cached, gt, categories, mapping, iou_type)


def evaluation_job(request: RunRequest, sink: dict):
    """Generator job: detect what is missing, then evaluate everything; returns RunOutput."""
    total = len(request.todo) + 1
    unreadable: dict[int, str] = {}
    yield (0, total, "Starting…")
    if request.todo:
        from detector.inference.batch import detect_files

        paths = [path for _, path, _ in request.todo]
        results = detect_files(request.model, paths, batch_size=1)
        for done, (item, result) in enumerate(zip(request.todo, results, strict=True), 1):
            image_id, path, signature = item
            if result.detections is None:
                unreadable[image_id] = result.error or "unreadable"
            else:
                sink[image_id] = (signature, CachedDetections.from_detections(result.detections))
            yield (done, total, f"Detecting {done}/{total - 1}: {path.name}")
    yield (total - 1, total, "Matching detections to ground truth…")
    return RunOutput(
        evaluate_snapshot(request, sink, unreadable),
        len(request.todo),
        len(request.cached),
        unreadable,
    )


def evaluate_snapshot(request: RunRequest, sink: dict, unreadable: dict[int, str]):
    from detector.evaluation import IncrementalEvaluator, from_arrays

    detections = dict(request.cached)
    detections.update({image_id: dets for image_id, (_sig, dets) in sink.items()})
    gt = {i: inst for i, inst in request.gt.items() if i not in unreadable}
    iou_type = request.iou_type
    dt = {i: detections_instances(detections.get(i), request.mapping, iou_type) for i in gt}
    evaluator = IncrementalEvaluator(from_arrays(gt, dt, request.categories), iou_type)
    evaluator.result()  # accumulate here, off the GUI thread
    return evaluator


class RunController(QObject):
    """One evaluation run at a time; signals arrive on the GUI thread."""

    progress = Signal(int, int, str)
    finished = Signal(object)  # RunOutput
    failed = Signal(str)
    running_changed = Signal(bool)

    def __init__(self, pool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = pool
        self.cache = DetectionCache()
        self._worker = None
        self._sink: dict = {}
        self._key = ""
        self._run = 0  # callbacks of an older (cancelled) run are ignored
        self.refusal: str | None = None  # why the last start() did not run (segm w/o masks)

    @property
    def running(self) -> bool:
        return self._worker is not None

    def start(self, dataset, model, iou_type: str = "bbox") -> bool:
        """Start a run; False when one is running or ``refusal`` says why it cannot."""
        self.refusal = None
        if self.running:
            return False
        if iou_type == "segm":
            self.refusal = segm_problem(dataset, model, evaluated_image_ids(dataset))
            if self.refusal is not None:
                return False
        request = build_request(dataset, model, self.cache, iou_type)
        self._sink, self._key = {}, request.key
        self._run += 1
        run = self._run
        self._worker = self._pool.start(
            evaluation_job,
            request,
            self._sink,
            on_finished=lambda output: self._on_finished(run, output),
            on_failed=lambda message: self._on_failed(run, message),
            on_progress=lambda done, total, text: self._on_progress(run, done, total, text),
        )
        if self._worker is None:
            return False
        self.running_changed.emit(True)
        return True

    def cancel(self) -> None:
        """Stop at the next image; what was detected so far stays in the cache."""
        if self._worker is not None:
            self._worker.cancel()
            self._end()

    def _keep_detections(self) -> None:
        for image_id, (signature, dets) in list(self._sink.items()):
            self.cache.put(image_id, signature, self._key, dets)
        self._sink.clear()

    def _end(self) -> None:
        self._keep_detections()
        self._worker = None
        self.running_changed.emit(False)

    def _on_progress(self, run: int, done: int, total: int, text: str) -> None:
        if run == self._run and self.running:
            self.progress.emit(done, total, text)

    def _on_finished(self, run: int, output: RunOutput) -> None:
        if run == self._run and self.running:
            self._end()
            self.finished.emit(output)

    def _on_failed(self, run: int, message: str) -> None:
        if run == self._run and self.running:
            self._end()
            self.failed.emit(message)
