"""Help > Getting started walks the lecture: every step opens its stage on the current image,
the lecture stages measure in workers and show their numbers, no error reaches the person."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.app.conftest import SAMPLES


@pytest.fixture
def small_folder(tmp_path):
    """The first three sample images and their annotations (a quick evaluation)."""
    data = json.loads((SAMPLES / "annotations.json").read_text())
    images = data["images"][:3]
    ids = {image["id"] for image in images}
    data["images"] = images
    data["annotations"] = [a for a in data["annotations"] if a["image_id"] in ids]
    target = tmp_path / "three"
    target.mkdir()
    for image in images:
        shutil.copy(SAMPLES / image["file_name"], target / image["file_name"])
    (target / "annotations.json").write_text(json.dumps(data))
    return target


@pytest.fixture
def window(qtbot, open_window, small_folder, monkeypatch):
    from detector.models import load_model

    window = open_window(small_folder, size=(1400, 900))
    errors: list[tuple[str, str]] = []
    monkeypatch.setattr(
        window, "show_error", lambda title, message: errors.append((title, message))
    )
    window.errors_seen = errors
    window.state.models.set_model(
        load_model(
            "shapes", weights=None, device="cpu", min_size=192, max_size=192, box_score_thresh=0.001
        )
    )
    return window


def _settled(window) -> bool:
    inspect = window.docks["inspect_dock"]
    return not window.pool.busy() and not inspect.session.busy and inspect.session.trace is not None


def test_tour_visits_every_stage_without_errors(window, qtbot):
    from PySide6.QtCore import Qt

    from app.tour import STEPS
    from detector.lecture import box_count

    help_menu = next(a.menu() for a in window.menuBar().actions() if "Help" in a.text())
    tour_action = next(a for a in help_menu.actions() if "Getting Started" in a.text())
    tour_action.trigger()
    tour = window.tour
    assert tour.isVisible()
    for number, step in enumerate(STEPS):
        if number:
            qtbot.mouseClick(tour.next_button, Qt.MouseButton.LeftButton)
        assert tour.counter.text() == f"Step {number + 1} of {len(STEPS)}"
        if step.stage == "pr_walk":
            dock = window.docks["EvaluateDock"]
            qtbot.waitUntil(lambda d=dock: d.walk.ready and not window.pool.busy(), timeout=120000)
            assert dock.tabs.currentWidget() is dock.walk
            qtbot.mouseClick(dock.walk.next_button, Qt.MouseButton.LeftButton)
            assert "Precision = " in dock.walk.text.text()
            continue
        qtbot.waitUntil(lambda: _settled(window), timeout=120000)
        inspect = window.docks["inspect_dock"]
        assert inspect.current_stage().key == step.stage
        text = inspect.current_stage().info.text()
        assert text and "Could not measure" not in text and "Measuring" not in text, step
        if step.stage == "sliding_windows":
            height, width = window.current_image().shape[:2]
            assert f"{box_count(height, width):,}" in text
        if step.stage == "selective_search":
            assert "recall@100, IoU 0.5" in text
        if step.stage == "rcnn":
            assert "R-CNN / Fast R-CNN" in text
    assert not tour.next_button.isEnabled()
    assert window.errors_seen == []


def test_a_measurement_finishing_under_another_stage_does_not_draw_over_it(window, qtbot):
    dock = window.docks["inspect_dock"]
    window.workspaces.switch("inspect")
    qtbot.waitUntil(lambda: _settled(window), timeout=120000)
    dock.select_stage("rcnn")
    rcnn = dock.current_stage()
    assert "Measuring" in rcnn.info.text()
    dock.select_stage("nms")  # before the R-CNN measurement ends
    nms_text = dock.current_stage().info.text()
    qtbot.waitUntil(lambda: not window.pool.busy(), timeout=120000)
    overlay = window.canvas.boxes_overlay("inspect.rcnn.positive", 23)
    assert len(overlay.boxes) == 0  # nothing of R-CNN's on the NMS picture
    assert dock.current_stage().info.text() == nms_text
    dock.select_stage("rcnn")  # the finished measurement is shown at once, from the cache
    assert "R-CNN / Fast R-CNN" in rcnn.info.text()
    assert len(overlay.boxes) > 0
