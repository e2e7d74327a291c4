"""Never lose work: every edit is saved shortly after (atomic, through the data layer).

Each edit is also appended to a crash journal at once (app.annotate.journal), so a crash
inside the save delay loses nothing. When a save fails (the file changed on disk, the disk
is full, no permission, a bug), the dataset also goes to a recovery file in the settings
folder; the next time that folder is opened the user is offered to restore both
(app.annotate.recovery). The window title shows unsaved state.

The timed autosave and ``save_in_background`` serialise and write in a worker
(app.annotate.save_job: snapshot on the GUI thread, one save at a time); ``flush`` saves
synchronously (closing, switching folders, Ctrl+S), waiting for a save in flight first.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from app.annotate.journal import Journal, journal_path, recovery_path
from app.annotate.save_job import SaveJob, run_job

__all__ = ["DELAY_MS", "Autosave", "journal_path", "recovery_path"]

DELAY_MS = 300


class Autosave(QObject):
    """``dirty_changed(bool)``, ``saved(path)``, ``failed(message)``."""

    dirty_changed = Signal(bool)
    saved = Signal(str)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None, delay_ms: int = DELAY_MS, pool=None) -> None:
        super().__init__(parent)
        self.dataset = None
        self.dirty = False
        self.force_next = False  # overwrite once after restoring a recovery file
        self.pool = pool  # app.workers.WorkerPool for saves in the background, or None
        self._edits = 0  # ground-truth edits seen: a save covers those up to its snapshot
        self._job: SaveJob | None = None
        self._again = False  # edits arrived while a save ran: save again when it ends
        self._unsubscribe = None
        self.journal = Journal()
        self._timer = QTimer(self, singleShot=True, interval=delay_ms)
        self._timer.timeout.connect(self.save_in_background)

    def attach(self, dataset) -> None:
        """Watch ``dataset`` (after flushing the previous one)."""
        self.flush()
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.journal.start(dataset)  # a journal left by a failed save stays on disk
        self.dataset = dataset
        self.force_next = False
        self._unsubscribe = dataset.subscribe(self._on_change) if dataset is not None else None
        self._set_dirty(False)

    def mark_dirty(self) -> None:
        self._set_dirty(True)
        self._timer.start()

    def flush(self) -> bool:
        """Save now, on this thread, if anything changed; True when nothing is left unsaved."""
        self._timer.stop()
        self._finish_running()
        if not self.dirty or self.dataset is None:
            return True
        job = SaveJob(self.dataset, self._edits, self.force_next)
        return self._apply(job.run())

    def save_in_background(self) -> None:
        """Snapshot now, serialise and write in a worker; ``saved``/``failed`` tell the end."""
        self._timer.stop()
        if not self.dirty or self.dataset is None:
            return
        if self._job is not None:
            self._again = True
            return
        if self.pool is None:
            self.flush()
            return
        job = SaveJob(self.dataset.snapshot(), self._edits, self.force_next)
        worker = self.pool.start(run_job, job, on_returned=self._on_job_done)
        if worker is None:  # the window is closing: save here
            self.flush()
            return
        self._job = job

    def _on_job_done(self, job: SaveJob) -> None:
        if job is self._job:
            self._job = None
            self._apply(job)
        if self._again and self._job is None:
            self._again = False
            self.save_in_background()

    def _finish_running(self) -> None:
        """Wait for the save in flight (if any) and take its result."""
        job, self._job = self._job, None
        if job is not None:
            job.done.wait()
            self._apply(job)

    def _apply(self, job: SaveJob) -> bool:
        """Record a finished save (GUI thread); True when nothing is left unsaved."""
        if job.handled:
            return not self.dirty
        job.handled = True
        dataset = self.dataset
        if dataset is None or (job.copy is not dataset and job.copy.root != dataset.root):
            return not self.dirty
        if job.error is not None:
            self._write_recovery(job.error)
            return False
        dataset.annotation_path, dataset.file_state = job.path, job.file_state
        self.force_next = False
        if job.edits == self._edits:
            dataset.mark_saved()
            self._set_dirty(False)
            recovery_path(dataset.root).unlink(missing_ok=True)
            self.journal.clear()
        self.saved.emit(str(job.path))
        return not self.dirty

    def _write_recovery(self, reason: str) -> None:
        from detector.formats.coco import save_coco

        target = recovery_path(self.dataset.root)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            save_coco(self.dataset, target, backup=False)
        except Exception as exc:  # noqa: BLE001 - the journal still holds every edit
            kept = self.journal.path
            self.failed.emit(
                f"Could not save: {reason}; recovery file failed ({exc}); edits kept in {kept}"
            )
            return
        self.failed.emit(f"Could not save: {reason}. Your work is kept in {target}.")

    def _on_change(self, change) -> None:
        if not change.ground_truth:  # new model predictions: nothing to save
            return
        self._edits += 1
        try:
            self.journal.record(change)
        except OSError as exc:
            self.failed.emit(f"Could not write the crash journal: {exc}")
        self.mark_dirty()

    def _set_dirty(self, dirty: bool) -> None:
        if dirty != self.dirty:
            self.dirty = dirty
            self.dirty_changed.emit(dirty)
