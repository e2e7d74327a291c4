"""Keeps the evaluation in step with the dataset: an edit re-matches only its image.

Subscribes to ``Dataset`` changes; edits arriving together (a drag, an undo of several
objects) are coalesced into one update on the next event-loop turn, then ``updated`` is
emitted so the views redraw. Category changes or newly annotated images need a new run
(``needs_run`` says why); detections come from the cache then, so it is quick.

Large sets (``BACKGROUND_IMAGES`` and more) re-evaluate in a worker: re-accumulating the
edited categories is linear in their detections (about 1.5 s for 100,000 images), so the
edited images' ground truth is read on the GUI thread (one image each) and the evaluator
is updated off it, one job at a time; ``result()`` is the last finished result meanwhile,
and edits made while a job runs go into the next one.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from detector.evaluation.from_dataset import ground_truth

BACKGROUND_IMAGES = 5_000  # evaluated images from which edits re-evaluate in a worker


def update_job(evaluator, updates: list):
    """Worker: apply ``updates`` ((image id, ground truth) pairs), then accumulate."""
    for image_id, gt in updates:
        evaluator.update_image(image_id, gt=gt)
    return evaluator.result()


class LiveEvaluation(QObject):
    updated = Signal()
    needs_run = Signal(str)

    def __init__(self, parent: QObject | None = None, pool=None) -> None:
        super().__init__(parent)
        self.pool = pool  # app.workers.WorkerPool: large sets update in a worker
        self.evaluator = None
        self.dataset = None
        self._result = None  # large sets: the last result a worker finished
        self._job = None  # large sets: the evaluator an update job is running on
        self._unsubscribe = None
        self._pending: set[int] = set()
        self._edited_during_run: set[int] | None = None  # a set while a run is going
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.apply_pending)

    @property
    def ready(self) -> bool:
        return self.evaluator is not None

    def result(self):
        if self.evaluator is None:
            return None
        if self.background:
            return self._result
        return self.evaluator.result()

    @property
    def background(self) -> bool:
        """Edits re-evaluate in a worker (a large set and a pool to run it)."""
        evaluator = self.evaluator
        return (
            self.pool is not None
            and evaluator is not None
            and len(evaluator.data.gt) >= BACKGROUND_IMAGES
        )

    @property
    def updating(self) -> bool:
        """An update job is running (large sets)."""
        return self._job is not None

    def watch(self, dataset) -> None:
        """Follow ``dataset`` (a new one drops the old evaluation)."""
        if dataset is self.dataset:
            return
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.dataset, self.evaluator = dataset, None
        self._pending.clear()
        self._unsubscribe = None if dataset is None else dataset.subscribe(self._on_change)

    def run_started(self) -> None:
        """The run snapshots ground truth now; remember what is edited until it ends."""
        self._edited_during_run = set()

    def run_ended(self) -> None:
        self._edited_during_run = None

    def set_evaluator(self, evaluator) -> None:
        """A finished run; edits made while it ran are applied on top."""
        self.evaluator = evaluator
        self._result = None if evaluator is None else evaluator.result()  # the run's, done
        self._pending |= self._edited_during_run or set()
        self._edited_during_run = None
        if not self.apply_pending():
            self.updated.emit()

    def _on_change(self, change) -> None:
        if change.categories:
            self.needs_run.emit("Categories changed: run the evaluation again.")
            return
        self._pending |= set(change.image_ids)
        if self._edited_during_run is not None:
            self._edited_during_run |= set(change.image_ids)
        if self._pending and not self._timer.isActive():
            self._timer.start()

    def apply_pending(self) -> bool:
        """Re-match the edited images now; True when anything changed."""
        self._timer.stop()
        if self.evaluator is None or not self._pending:
            return False
        if self.background and self._job is not None:
            return False  # the running job's end picks these up
        pending, self._pending = self._pending, set()
        evaluated = self.evaluator.data.gt
        iou_type = self.evaluator.iou_type
        updates = [
            (image_id, ground_truth(self.dataset, image_id, iou_type))
            for image_id in sorted(pending)
            if image_id in evaluated
        ]
        new = [i for i in pending if i not in evaluated and _annotated(self.dataset, i)]
        if new:
            self.needs_run.emit(f"{len(new)} newly annotated image(s): run again to include.")
        if not updates:
            return False
        if self.background:
            self._start(updates)
            return True
        for image_id, gt in updates:
            self.evaluator.update_image(image_id, gt=gt)
        self.updated.emit()
        return True

    def _start(self, updates: list) -> None:
        evaluator = self._job = self.evaluator
        self.pool.start(
            update_job,
            evaluator,
            updates,
            on_returned=lambda result: self._updated(evaluator, result),
            on_finished=lambda: self._ended(evaluator),
        )

    def _updated(self, evaluator, result) -> None:
        if evaluator is self.evaluator:  # not a new run's meanwhile
            self._result = result
            self.updated.emit()

    def _ended(self, evaluator) -> None:
        if self._job is evaluator:
            self._job = None
        if self._pending and not self._timer.isActive():
            self._timer.start()


def _annotated(dataset, image_id: int) -> bool:
    record = dataset.images.get(image_id)
    return record is not None and (record.verified or bool(dataset.objects_in(image_id)))
