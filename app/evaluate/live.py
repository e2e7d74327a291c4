"""Keeps the evaluation in step with the dataset: an edit re-matches only its image.

Subscribes to ``Dataset`` changes; edits arriving together (a drag, an undo of several
objects) are coalesced into one update on the next event-loop turn, then ``updated`` is
emitted so the views redraw. Category changes or newly annotated images need a new run
(``needs_run`` says why); detections come from the cache then, so it is quick.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from detector.evaluation.from_dataset import ground_truth


class LiveEvaluation(QObject):
    updated = Signal()
    needs_run = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.evaluator = None
        self.dataset = None
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
        return None if self.evaluator is None else self.evaluator.result()

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
        pending, self._pending = self._pending, set()
        evaluated = set(self.evaluator.data.gt)
        changed = False
        for image_id in sorted(pending):
            if image_id in evaluated:
                gt = ground_truth(self.dataset, image_id, self.evaluator.iou_type)
                self.evaluator.update_image(image_id, gt=gt)
                changed = True
        new = [i for i in pending - evaluated if _annotated(self.dataset, i)]
        if new:
            self.needs_run.emit(f"{len(new)} newly annotated image(s): run again to include.")
        if changed:
            self.updated.emit()
        return changed


def _annotated(dataset, image_id: int) -> bool:
    record = dataset.images.get(image_id)
    return record is not None and (record.verified or bool(dataset.objects_in(image_id)))
