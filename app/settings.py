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


def save_layout(window) -> None:
    """Window geometry, and the dock arrangement of the current workspace."""
    settings().setValue("geometry", window.saveGeometry())
    window.workspaces.remember()


def restore_layout(window) -> bool:
    """Last time's geometry and workspace (docks must exist already); True if any was saved."""
    store = settings()
    geometry = store.value("geometry")
    restored = geometry is not None and window.restoreGeometry(geometry)
    window.workspaces.switch(str(store.value("workspace/current", "annotate")))
    return bool(restored)


FIT_SCREEN = (1920, 1080)  # screens up to this size: the window opens maximised


def first_show(window) -> None:
    """Show the window: as it was last time, or, the first time, taking the whole screen
    (maximised up to 1920x1080, a comfortable 1600x1000 on bigger screens)."""
    screen = window.screen().availableGeometry()
    if settings().value("geometry") is not None:
        window.show()
    elif screen.width() <= FIT_SCREEN[0] and screen.height() <= FIT_SCREEN[1]:
        window.showMaximized()
    else:
        window.resize(1600, 1000)
        window.show()
