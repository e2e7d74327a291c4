"""One model lock (app.model_controller.MODEL_LOCK) that every user of the torch module
takes: Detect, Detect all, Evaluate and Inspect all wait while it is held."""

from __future__ import annotations

import pytest

from app.model_controller import MODEL_LOCK

COCO = {
    "images": [
        {"id": i + 1, "file_name": f"img_{i}.png", "width": 160, "height": 120} for i in range(2)
    ],
    "categories": [{"id": 1, "name": "circle"}],
    "annotations": [
        {"id": i + 1, "image_id": i + 1, "category_id": 1, "bbox": [20, 20, 40, 30]}
        for i in range(2)
    ],
}


@pytest.fixture
def window(open_window, image_folder, small_model):
    window = open_window(image_folder("two", count=2, coco=COCO))
    window.state.models.set_model(small_model)
    return window


def waits_for_the_lock(qtbot, start, done) -> None:
    """``start()`` a job while the lock is held: it must not finish until it is released."""
    with MODEL_LOCK:
        start()
        qtbot.wait(600)
        assert not done(), "the job ran the model without the model lock"
    qtbot.waitUntil(done, timeout=60000)


def test_detect_takes_the_model_lock(qtbot, window):
    image_id = window.current_image_id
    waits_for_the_lock(qtbot, window.detect_current, lambda: image_id in window.detections)


def test_detect_all_takes_the_model_lock(qtbot, window):
    waits_for_the_lock(
        qtbot,
        window.assist.detect_all,
        lambda: not window.assist.detecting_all and set(window.detections) == {1, 2},
    )


def test_evaluate_takes_the_model_lock(qtbot, window):
    dock = window.docks["EvaluateDock"]
    dock.show()
    waits_for_the_lock(qtbot, dock.run, lambda: dock.live.result() is not None)
    assert "model ran on 2" in dock.controls.status_label.text()


def test_inspect_takes_the_model_lock(qtbot, window):
    dock = window.docks["inspect_dock"]
    waits_for_the_lock(qtbot, dock.show, lambda: dock.session.trace is not None)
