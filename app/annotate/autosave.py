"""Never lose work: every edit is saved shortly after (atomic, through the data layer).

Each edit is also appended to a crash journal at once (app.annotate.journal), so a crash
inside the save delay loses nothing. When a save fails (the file changed on disk, the disk
is full, no permission, a bug), the dataset also goes to a recovery file in the settings
folder; the next time that folder is opened the user is offered to restore both
(app.annotate.recovery). The window title shows unsaved state.
"""

from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtCore import QObject, QTimer, Signal

from app.annotate.journal import Journal, journal_path, recovery_path

__all__ = ["DELAY_MS", "Autosave", "journal_path", "recovery_path"]

DELAY_MS = 300


class Autosave(QObject):
    """``dirty_changed(bool)``, ``saved(path)``, ``failed(message)``."""

    dirty_changed = Signal(bool)
    saved = Signal(str)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None, delay_ms: int = DELAY_MS) -> None:
        super().__init__(parent)
        self.dataset = None
        self.dirty = False
        self.force_next = False  # overwrite once after restoring a recovery file
        self._quiet = 0
        self._unsubscribe = None
        self.journal = Journal()
        self._timer = QTimer(self, singleShot=True, interval=delay_ms)
        self._timer.timeout.connect(self.flush)

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

    @contextmanager
    def quiet(self):
        """Changes made inside (model predictions) are not ground truth: nothing to save."""
        self._quiet += 1
        try:
            yield
        finally:
            self._quiet -= 1

    def mark_dirty(self) -> None:
        self._set_dirty(True)
        self._timer.start()

    def flush(self) -> bool:
        """Save now if anything changed; True when nothing is left unsaved."""
        self._timer.stop()
        if not self.dirty or self.dataset is None:
            return True
        try:
            path = self.dataset.save(force=self.force_next)
        except Exception as exc:  # noqa: BLE001 - whatever broke the save, keep the work
            self._write_recovery(str(exc) or type(exc).__name__)
            return False
        self.force_next = False
        self._set_dirty(False)
        recovery_path(self.dataset.root).unlink(missing_ok=True)
        self.journal.clear()
        self.saved.emit(str(path))
        return True

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
        if self._quiet:
            return
        try:
            self.journal.record(change)
        except OSError as exc:
            self.failed.emit(f"Could not write the crash journal: {exc}")
        self.mark_dirty()

    def _set_dirty(self, dirty: bool) -> None:
        if dirty != self.dirty:
            self.dirty = dirty
            self.dirty_changed.emit(dirty)
