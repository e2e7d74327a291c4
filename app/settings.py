"""QSettings in one place; tests point it at a temp folder with DETSCOPE_SETTINGS_DIR."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings


def settings() -> QSettings:
    folder = os.environ.get("DETSCOPE_SETTINGS_DIR")
    if folder:
        return QSettings(str(Path(folder) / "detscope.ini"), QSettings.Format.IniFormat)
    return QSettings("DetScope", "DetScope")


MAX_RECENT = 8


def remember_folder(folder: Path) -> None:
    """Last folder and the recent-folders list (most recent first)."""
    store = settings()
    store.setValue("last_folder", str(folder))
    recent = [
        str(folder),
        *[f for f in (store.value("recent_folders", []) or []) if f != str(folder)],
    ]
    store.setValue("recent_folders", recent[:MAX_RECENT])


LAYOUT_VERSION = 1  # bump when the docks change so an old saved layout is not applied


def save_layout(window) -> None:
    """Window geometry and dock layout (``QMainWindow.saveState``)."""
    store = settings()
    store.setValue("geometry", window.saveGeometry())
    store.setValue("window_state", window.saveState(LAYOUT_VERSION))


def restore_layout(window) -> bool:
    """Apply what ``save_layout`` stored last time (docks must exist already); True if any."""
    store = settings()
    geometry, state = store.value("geometry"), store.value("window_state")
    restored = False
    if geometry is not None:
        restored = window.restoreGeometry(geometry)
    if state is not None:
        restored = window.restoreState(state, LAYOUT_VERSION) or restored
    return restored
