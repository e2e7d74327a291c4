"""The Inspect dock end to end, offscreen: sample set, trace, every stage, the numbers shown."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.main_window import MainWindow

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples" / "shapes"


@pytest.fixture(scope="module")
def small_model():
    from detector.models import load_model

    return load_model(
        "shapes", weights=None, device="cpu", min_size=256, max_size=256, box_score_thresh=0.05
    )


@pytest.fixture
def dock(qtbot, small_model):
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.open_folder(SAMPLES)
    qtbot.waitUntil(lambda: window.canvas.image is not None, timeout=20000)
    window.models.set_model(small_model)
    dock = window.inspect_dock
    dock.show()
    qtbot.waitUntil(lambda: dock.session.trace is not None and not dock.session.busy, timeout=60000)
    yield dock
    window.close()


def wait_idle(qtbot, dock) -> None:
    qtbot.waitUntil(lambda: not dock.session.busy, timeout=60000)


def test_trace_matches_model_output(dock, small_model):
    trace = dock.session.trace
    from detector.trace import trace_image

    reference = trace_image(small_model, dock.window.current_image())
    np.testing.assert_array_equal(trace.detections.boxes, reference.detections.boxes)
    assert str(len(trace.detections)) in dock.status.text()


def test_every_stage_draws(dock, qtbot):
    for key in [stage.key for stage in dock.stages]:
        dock.select_stage(key)
        assert dock.panels.currentIndex() == dock.stage_list.currentRow()
        assert dock.current_stage().info.text()
        dock.window.canvas.cursor_moved.emit(100.0, 120.0)
