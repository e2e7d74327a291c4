"""Never lose work: every edit is saved shortly after (atomic, through the data layer).

When a save fails (the file changed on disk, the disk is full, no permission), the dataset
goes to a recovery file in the settings folder instead, and the next time that folder is
opened the user is offered to restore it. The window title shows unsaved state.
"""

from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal

DELAY_MS = 300


def recovery_path(folder: Path) -> Path:
    """Where unsaved work of ``folder`` goes when its own file cannot be written."""
    base = os.environ.get("DETSCOPE_SETTINGS_DIR") or QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.AppDataLocation
    )
    digest = hashlib.sha1(str(Path(folder).resolve()).encode()).hexdigest()[:16]
    return Path(base) / "recovery" / f"{digest}.json"


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
        self._timer = QTimer(self, singleShot=True, interval=delay_ms)
        self._timer.timeout.connect(self.flush)

    def attach(self, dataset) -> None:
        """Watch ``dataset`` (after flushing the previous one)."""
        self.flush()
        if self._unsubscribe is not None:
            self._unsubscribe()
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
        from detector.errors import DetScopeError

        try:
            path = self.dataset.save(force=self.force_next)
        except (DetScopeError, OSError) as exc:
            self._write_recovery(str(exc))
            return False
        self.force_next = False
        self._set_dirty(False)
        recovery_path(self.dataset.root).unlink(missing_ok=True)
        self.saved.emit(str(path))
        return True

    def _write_recovery(self, reason: str) -> None:
        from detector.formats.coco import save_coco

        target = recovery_path(self.dataset.root)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            save_coco(self.dataset, target, backup=False)
        except OSError as exc:
            self.failed.emit(f"Could not save: {reason}; the recovery file failed too: {exc}")
            return
        self.failed.emit(f"Could not save: {reason}. Your work is kept in {target}.")

    def _on_change(self, _change) -> None:
        if not self._quiet:
            self.mark_dirty()

    def _set_dirty(self, dirty: bool) -> None:
        if dirty != self.dirty:
            self.dirty = dirty
            self.dirty_changed.emit(dirty)
