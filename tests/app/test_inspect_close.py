"""Closing the Inspect dock takes every drawing of its stages off the canvas."""

from __future__ import annotations

import pytest


def inspect_drawings(dock) -> list[str]:
    """Names of the Inspect layers that still show something on the canvas."""
    canvas, context = dock.window.canvas, dock.context
    drawn = [
        name
        for name, overlay in canvas._overlays.items()
        if name.startswith("inspect.") and len(overlay.boxes)
    ]
    drawn += [name for name, item in context._items.items() if item.isVisible()]
    drawn += [name for name, mask in context._masks.items() if not mask.pixmap().isNull()]
    return drawn


@pytest.mark.parametrize("stage", ["training", "final"])
def test_closing_the_dock_removes_its_drawings(qtbot, inspect_dock, stage):
    """Regression: training-view rectangles, final labels and the 28x28 mask grid stayed
    on the canvas after the Inspect dock was closed."""
    dock = inspect_dock
    dock.select_stage(stage)
    view = dock.current_stage()
    if stage == "training":
        qtbot.waitUntil(lambda: view.view is not None and not view.running, timeout=60000)
        expected = {"inspect.training.positive", "inspect.training.negative"}
    else:
        assert len(dock.session.trace.detections) > 0
        expected = {"inspect.final.boxes", "final.mask_grid"}
    qtbot.waitUntil(lambda: expected <= set(inspect_drawings(dock)), timeout=10000)

    dock.close()
    qtbot.waitUntil(lambda: not dock.window.pool.busy(), timeout=60000)
    assert inspect_drawings(dock) == []
    dock.window.canvas.cursor_moved.emit(100.0, 100.0)  # hovering draws nothing either
    assert inspect_drawings(dock) == []


def test_a_training_view_finishing_after_close_draws_nothing(qtbot, inspect_dock):
    dock = inspect_dock
    dock.select_stage("training")
    view = dock.current_stage()
    assert view.running  # computing in a worker
    dock.close()
    qtbot.waitUntil(lambda: view.view is not None and not view.running, timeout=60000)
    assert inspect_drawings(dock) == []
    dock.show()  # shown again: the stage draws again
    qtbot.waitUntil(lambda: "inspect.training.positive" in inspect_drawings(dock), timeout=10000)
