"""Shared GUI fixtures: the real main window, opened on a folder like a person would."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples" / "shapes"


@pytest.fixture
def sample_folder(tmp_path) -> Path:
    """A private copy of the bundled sample set: autosave never touches the repository."""
    target = tmp_path / "shapes"
    shutil.copytree(SAMPLES, target)
    return target


@pytest.fixture
def open_window(qtbot):
    """``open_window(folder=None, size=None)`` -> a shown MainWindow, first image drawn."""
    from app.main_window import MainWindow

    windows = []

    def factory(folder: Path | None = None, size: tuple[int, int] | None = None):
        window = MainWindow()
        qtbot.addWidget(window)
        if size is not None:
            window.resize(*size)
        window.show()
        windows.append(window)
        if folder is not None:
            window.open_folder(folder)
            qtbot.waitUntil(lambda: window.canvas.image is not None, timeout=20000)
        return window

    yield factory
    for window in windows:
        window.close()
