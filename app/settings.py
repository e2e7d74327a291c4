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
