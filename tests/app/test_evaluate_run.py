"""The run controller: the model runs off the GUI thread, Cancel stops it, and a second
run reuses the per-image cache (only what changed runs again)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
from PySide6.QtCore import Qt

from detector.data.edits import update_object

SHAPE_NAMES = ["__background__", "circle", "square", "triangle", "star", "hexagon"]


class SlowModel:
    """A stand-in detector: one box per image (a copy of its first object), 50 ms each."""

    architecture = "slow"
    source = "test"
    trained = True
    settings: dict = {}
    categories = SHAPE_NAMES
    device = "cpu"

    def __init__(self) -> None:
        self.calls = 0
        self.threads: set[str] = set()

    def module(self, images):
        import torch

        self.calls += len(images)
        self.threads.add(threading.current_thread().name)
        time.sleep(0.05)
        box = torch.tensor([[10.0, 10.0, 60.0, 60.0]])
        one = {"boxes": box, "labels": torch.tensor([1]), "scores": torch.tensor([0.9])}
        return [dict(one) for _ in images]


@pytest.fixture
def window(open_window, sample_folder):
    return open_window(sample_folder)


def test_cancel_keeps_what_was_detected_and_rerun_reuses_it(qtbot, window):
    dock = window.docks["EvaluateDock"]
    window.workspaces.switch("evaluate")
    model = SlowModel()
    window.models.model = model
    progress: list[tuple[int, int]] = []
    dock.runner.progress.connect(lambda done, total, _text: progress.append((done, total)))
    dock.run()
    assert dock.controls.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: len(progress) >= 4, timeout=20000)
    qtbot.mouseClick(dock.controls.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.pool.busy(), timeout=10000)
    assert dock.view is None, "a cancelled run shows no result"
    kept = len(dock.runner.cache)
    assert 1 <= kept < 20
    assert threading.main_thread().name not in model.threads

    finished = []
    dock.runner.finished.connect(finished.append)
    with qtbot.waitSignal(dock.view_updated, timeout=30000):
        dock.run()
    qtbot.waitUntil(lambda: not window.pool.busy(), timeout=10000)
    assert finished[0].reused >= kept
    assert finished[0].reused + finished[0].detected == 20
    assert model.calls <= 20 + 1  # at most the image in flight at cancel ran twice

    dataset = dock.state.dataset
    obj = next(iter(dataset.iter_objects()))
    dataset.apply(update_object(dataset, obj.id, box=(1.0, 1.0, 30.0, 30.0)))
    calls = model.calls
    with qtbot.waitSignal(dock.view_updated, timeout=30000):
        dock.run()
    qtbot.waitUntil(lambda: not window.pool.busy(), timeout=10000)
    assert model.calls == calls, "a box edit needs no new detections"
    assert dock.controls.status_label.text().startswith("Evaluated 20 images")


def test_importing_the_dock_does_not_load_torch():
    code = (
        "import sys; import app.evaluate.dock, app.evaluate.runner; "
        "sys.exit('torch' in sys.modules)"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert completed.returncode == 0, completed.stderr.decode()
