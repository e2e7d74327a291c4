"""The Evaluate dock follows the open dataset: another folder resets what it shows."""

from __future__ import annotations


def test_opening_another_folder_resets_the_evaluate_dock(
    qtbot, open_window, sample_folder, copy_samples, evaluated_dock
):
    """Regression: evaluate folder A, open folder B (same image ids): the dock must not show
    A's "Evaluated N images" / mAP, nor draw A's TP/FP marks on B's images."""
    window = open_window(sample_folder, size=(1400, 900))
    dock = evaluated_dock(window)
    marks = window.canvas.boxes_overlay("evaluation")
    assert "Evaluated" in dock.controls.status_label.text()
    assert dock.controls.headline.text() != "mAP –"
    assert len(marks.boxes) > 0

    other = copy_samples("other")
    window.open_folder(other)
    second = window.images[1]  # evaluated in A too, under the same id
    window.go_to(second)
    qtbot.waitUntil(lambda: window.current_image_id == second, timeout=10000)
    qtbot.waitUntil(lambda: window.canvas.image is not None, timeout=10000)
    assert "Evaluated" not in dock.controls.status_label.text()
    assert dock.controls.headline.text() == "mAP –"
    assert dock.view is None and dock.live.result() is None
    assert dock.table.rowCount() == 0
    assert len(marks.boxes) == 0
