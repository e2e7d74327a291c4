"""A hard crash inside the autosave delay loses nothing: the journal brings the edits back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QMessageBox

from app.annotate.journal import journal_path

ROOT = Path(__file__).resolve().parents[2]

# Opens the folder in the real window, edits through the window's commands and undo stack,
# then dies by SIGKILL at once: the 300 ms autosave never fires.
CHILD = """
import os, signal, sys
from PySide6.QtWidgets import QApplication
from app.main_window import MainWindow
from app.annotate import journal

app = QApplication([])
window = MainWindow()
window.open_folder(sys.argv[1])
window.commands.add_box((50, 50, 90, 90))
window.commands.add_box((10, 10, 20, 20))
window.undo.undo()  # the second box is gone again
window.editor.select([1])
window.commands.relabel(2)
window.classes_dock.rename(2, "puppy")
assert window.autosave.dirty
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.fixture
def folder(tmp_path):
    Image.fromarray(np.zeros((100, 120, 3), np.uint8)).save(tmp_path / "img_0.png")
    coco = {
        "images": [{"id": 1, "file_name": "img_0.png", "width": 120, "height": 100}],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [5, 5, 30, 20], "iscrowd": 0}
        ],
    }
    (tmp_path / "annotations.json").write_text(json.dumps(coco))
    return tmp_path


@pytest.fixture
def window(open_window):
    return open_window()


def crash_while_editing(folder: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder)], cwd=ROOT, env=env, capture_output=True
    )
    assert result.returncode == -9, result.stderr.decode()[-2000:]


def test_edits_of_a_killed_session_are_offered_and_restored(window, folder):
    on_disk = (folder / "annotations.json").read_bytes()
    crash_while_editing(folder)
    assert (folder / "annotations.json").read_bytes() == on_disk  # the save never ran
    assert journal_path(folder).is_file()

    window.open_folder(folder)
    assert window.recovery_prompt is not None and window.recovery_prompt.isVisible()
    window.recovery_prompt.button(QMessageBox.StandardButton.Yes).click()

    objects = window.dataset.objects_in(1)
    assert [a.box for a in objects] == [(5.0, 5.0, 35.0, 25.0), (50.0, 50.0, 90.0, 90.0)]
    assert objects[0].category_id == 2  # the relabel
    assert window.dataset.categories[2].name == "puppy"
    saved = json.loads((folder / "annotations.json").read_text())
    assert len(saved["annotations"]) == 2 and saved["categories"][1]["name"] == "puppy"
    assert not journal_path(folder).exists() and window.recovery_prompt is None


def test_declining_keeps_the_file_and_drops_the_journal(window, folder):
    crash_while_editing(folder)
    window.open_folder(folder)
    window.recovery_prompt.button(QMessageBox.StandardButton.No).click()
    assert len(window.dataset.objects_in(1)) == 1 and not journal_path(folder).exists()
    window.open_folder(folder)
    assert window.recovery_prompt is None


def test_a_line_cut_short_by_the_crash_is_skipped(window, folder):
    window.open_folder(folder)
    window.commands.add_box((50, 50, 90, 90))
    path = journal_path(folder)
    path.write_text(path.read_text() + '{"revision": 9, "images": [{"rec')
    window.autosave.dataset = None  # crash: nothing saved
    window.open_folder(folder)
    window.recovery_prompt.button(QMessageBox.StandardButton.Yes).click()
    assert len(window.dataset.objects_in(1)) == 2
