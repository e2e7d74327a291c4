"""Workspaces (Annotate / Inspect / Evaluate) and a window that fits a laptop screen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

ROOT = Path(__file__).resolve().parents[2]
CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier

# A real window on a virtual screen of the given size (Qt's offscreen platform, configured
# screen): first launch, every workspace, what the user sees measured.
SCREEN_PROBE = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from PySide6.QtWidgets import QApplication
    from PySide6.QtCore import QTimer
    from app.main_window import MainWindow
    from app.settings import first_show

    app = QApplication([])
    window = MainWindow()
    first_show(window)
    window.open_folder(Path(sys.argv[1]))

    def settle(ms=400):
        timer = QTimer(singleShot=True)
        timer.start(ms)
        while timer.isActive():
            app.processEvents()

    settle(800)
    screen = window.screen().availableGeometry()
    report = {"screen": [screen.width(), screen.height()], "workspaces": {}}
    for key in ("annotate", "inspect", "evaluate"):
        window.workspaces.switch(key)
        settle()
        frame = window.frameGeometry()
        inspect = window.docks["inspect_dock"]
        button = inspect.trace_button
        report["workspaces"][key] = {
            "frame": [frame.x(), frame.y(), frame.width(), frame.height()],
            "status_bar_bottom": window.statusBar().geometry().bottom(),
            "inspect_height": inspect.height() if inspect.isVisible() else 0,
            "trace_button_visible": button.isVisible() and not button.visibleRegion().isEmpty(),
            "canvas": [window.canvas.width(), window.canvas.height()],
        }
        if key == "annotate":
            window.model_dock.raise_()
            settle()
            bar = window.model_dock.widget().horizontalScrollBar()
            report["workspaces"][key]["model_dock_scrolls_sideways"] = bar.maximum() > 0
        if key == "evaluate":
            evaluate = window.docks["EvaluateDock"]
            table = evaluate.table
            report["workspaces"][key]["evaluate_scrolls"] = (
                evaluate.widget().verticalScrollBar().maximum() > 0
            )
            report["workspaces"][key]["ap_table_visible"] = (
                table.isVisible() and not table.visibleRegion().isEmpty()
            )
    print("REPORT " + json.dumps(report))
    """
)


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_every_workspace_fits_the_screen(tmp_path, sample_folder, size):
    width, height = size
    config = tmp_path / "screen.json"
    screen = {"name": "s", "x": 0, "y": 0, "width": width, "height": height}
    config.write_text(json.dumps({"screens": [{**screen, "logicalDpi": 96, "dpr": 1}]}))
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": f"offscreen:configfile={config}",
        "DETSCOPE_SETTINGS_DIR": str(tmp_path / "settings"),  # a first launch
        "DETSCOPE_NO_AUTOLOAD": "1",
        "PYTHONPATH": str(ROOT),
    }
    run = subprocess.run(
        [sys.executable, "-c", SCREEN_PROBE, str(sample_folder)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = next(x for x in run.stdout.splitlines() if x.startswith("REPORT "))
    report = json.loads(line.removeprefix("REPORT "))
    assert report["screen"] == [width, height]
    for key, seen in report["workspaces"].items():
        x, y, frame_w, frame_h = seen["frame"]
        assert x >= 0 and y >= 0 and x + frame_w <= width and y + frame_h <= height, key
        assert seen["status_bar_bottom"] < frame_h, key
        assert seen["canvas"][0] >= 500 and seen["canvas"][1] >= 400, key
    inspect = report["workspaces"]["inspect"]
    assert inspect["inspect_height"] >= 300 and inspect["trace_button_visible"]
    evaluate = report["workspaces"]["evaluate"]  # curves and the AP table both on screen
    assert evaluate["ap_table_visible"] and not evaluate["evaluate_scrolls"]
    assert not report["workspaces"]["annotate"]["model_dock_scrolls_sideways"]


def _visible(window) -> set[str]:
    return {name for name, dock in window.docks.items() if dock.isVisible()}


def test_shortcuts_switch_workspaces_and_inspect_hides_annotation_overlays(
    qtbot, open_window, sample_folder
):
    window = open_window(sample_folder, size=(1280, 720))
    assert window.workspaces.current == "annotate"
    assert {"ImageListDock", "ClassesDock"} <= _visible(window)
    assert "inspect_dock" not in _visible(window)
    objects = window.canvas.boxes_overlay("objects")
    assert objects.isVisible()
    qtbot.keyClick(window.canvas, Qt.Key.Key_I, CTRL)
    assert window.workspaces.current == "inspect"
    assert "inspect_dock" in _visible(window) and "ClassesDock" not in _visible(window)
    assert not objects.isVisible() and not window.canvas.boxes_overlay("predictions").isVisible()
    qtbot.keyClick(window.canvas, Qt.Key.Key_E, CTRL | SHIFT)
    assert window.workspaces.current == "evaluate" and "EvaluateDock" in _visible(window)
    assert objects.isVisible()  # back with the ground truth the marks refer to
    qtbot.keyClick(window.canvas, Qt.Key.Key_1, CTRL)
    assert window.workspaces.current == "annotate" and "ClassesDock" in _visible(window)


def test_the_users_own_arrangement_of_a_workspace_is_remembered(qtbot, open_window, sample_folder):
    window = open_window(sample_folder, size=(1280, 720))
    window.workspaces.switch("inspect")
    window.docks["ImageListDock"].close()  # the user wants the whole width for Inspect
    window.workspaces.switch("annotate")
    assert "ImageListDock" in _visible(window)  # Annotate keeps its own arrangement
    window.workspaces.switch("inspect")
    assert "ImageListDock" not in _visible(window) and "inspect_dock" in _visible(window)
    window.workspaces.reset()
    assert "ImageListDock" in _visible(window)


def test_no_dock_forces_a_minimum_height(open_window, sample_folder):
    window = open_window(sample_folder)
    for key in ("annotate", "inspect", "evaluate"):
        window.workspaces.switch(key)
        hint = window.minimumSizeHint()
        assert hint.width() <= 1280 and hint.height() <= 720, (key, hint)
