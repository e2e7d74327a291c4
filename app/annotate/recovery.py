"""Offer to restore unsaved work of a folder: its crash journal and/or recovery file.

The folder opens as saved on disk first; when work was left unsaved (a crash, a failed
save), a window-modal, non-blocking question asks whether to restore it. Yes rebuilds the
dataset (recovery file, else the saved file; then the journal replayed over it) and saves
it; No deletes the leftovers. Tests answer through ``window.recovery_prompt``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from app.annotate.journal import journal_path, recovery_path, replay
from detector.store import open_dataset


def leftovers(folder: Path) -> list[Path]:
    """The recovery file and journal of ``folder`` that exist."""
    return [p for p in (recovery_path(folder), journal_path(folder)) if p.is_file()]


def restored_dataset(folder: Path):
    """The folder's dataset with its unsaved work put back (raises DetScopeError, OSError)."""
    from detector.store import ANNOTATION_FILE

    recovery, journal = recovery_path(folder), journal_path(folder)
    if recovery.is_file():
        dataset = open_dataset(folder, annotation_path=recovery)
        dataset.annotation_path = Path(folder) / ANNOTATION_FILE
        dataset.file_state = None
    else:
        dataset = open_dataset(folder)
    if journal.is_file():
        replay(dataset, journal)
    return dataset


def discard(folder: Path) -> None:
    for path in leftovers(folder):
        path.unlink(missing_ok=True)


def offer(window, folder: Path) -> QMessageBox | None:
    """Ask (without blocking) whether to restore ``folder``'s unsaved work, if it has any."""
    found = leftovers(folder)
    if not found:
        return None
    when = datetime.fromtimestamp(max(p.stat().st_mtime for p in found))
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Restore unsaved work?",
        f"Edits of {Path(folder).name} from {when:%Y-%m-%d %H:%M} were not saved "
        "(the program stopped, or saving failed).\n\nRestore them? No keeps the file on "
        "disk as it is and discards the unsaved edits.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        window,
    )
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.buttonClicked.connect(lambda button: _answer(window, folder, box.standardButton(button)))
    box.open()
    return box


def _answer(window, folder: Path, button) -> None:
    window.recovery_prompt = None
    if button != QMessageBox.StandardButton.Yes:
        discard(folder)
        window.statusBar().showMessage("Discarded the unsaved edits", 5000)
        return
    from detector.errors import DetScopeError

    try:
        dataset = restored_dataset(folder)
    except (DetScopeError, OSError, ValueError, KeyError, TypeError) as exc:
        window.show_error("Cannot restore unsaved work", f"{folder}: {exc}")
        return
    window.set_dataset(dataset, folder)
    window.autosave.force_next = True
    window.autosave.mark_dirty()
    saved = window.autosave.flush()
    note = "" if saved else " (not saved yet: see the message)"
    window.statusBar().showMessage(f"Restored the unsaved edits{note}", 8000)
