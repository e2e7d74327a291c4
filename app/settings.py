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
