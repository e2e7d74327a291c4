"""The window driven like a person would: open a folder, Detect, see the boxes."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from app.main_window import MainWindow


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    for index in range(3):
        Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(
            tmp_path / f"img_{index}.png"
        )
    (tmp_path / "img_3_corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    return tmp_path


@pytest.fixture
def window(open_window):
    return open_window()


def test_open_folder_detect_and_draw(qtbot, window, folder):
    from detector.models import load_model

    window.open_folder(folder)
    dock = window.image_dock
    assert dock.visible_ids() == window.images and len(window.images) == 3
    assert dock.row_count() == 4  # the corrupt file stays listed, greyed, with the reason
    assert "img_3_corrupt.png" in dock.row_text(3) and "⚠" in dock.row_text(3)
    assert dock.count_label.text() == "3 images · 1 unreadable"
    assert "img_3_corrupt.png" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: window.canvas.image is not None, timeout=10000)
    assert window.canvas.image.shape == (120, 160, 3)
    first = window.current_image_id

    model = load_model(
        "fasterrcnn_mobilenet_v3_large_320_fpn", weights=None, device="cpu", box_score_thresh=0.0
    )
    window.models.set_model(model)
    assert "UNTRAINED" in window.model_dock.info_label.text()
    window.predictions_dock.set_threshold(0.0)
    qtbot.keyClick(window.canvas, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: first in window.detections, timeout=30000)
    detections = window.detections[first]
    overlay = window.canvas.boxes_overlay("predictions")
    assert len(detections) > 0
    predictions = window.dataset.predictions_in(first)
    assert len(predictions) == len(overlay.boxes) == len(detections)
    np.testing.assert_allclose(
        np.sort(overlay.boxes, axis=0), np.sort(detections.boxes, axis=0), rtol=1e-5
    )
    assert overlay.labels[0].startswith(model.categories[int(detections.labels[0])])
    assert "detections in" in window.statusBar().currentMessage()
    assert not window.autosave.dirty  # predictions are not ground truth: nothing to save

    window.predictions_dock.set_threshold(1.0)  # hides every prediction
    assert len(overlay.boxes) == 0


def test_image_broken_after_opening_shows_message_and_others_still_open(qtbot, window, folder):
    window.open_folder(folder)
    qtbot.waitUntil(lambda: window.canvas.image is not None, timeout=10000)
    (folder / "img_2.png").write_bytes(b"\x89PNG\r\n\x1a\n broken since")
    broken = window.dataset.image_by_name("img_2.png").id
    window.image_dock.select(broken)
    qtbot.waitUntil(lambda: broken in window.unreadable, timeout=10000)
    assert "img_2.png" in window.statusBar().currentMessage()
    assert "unreadable" in window.image_dock.current_text()
    row = window.image_dock.model.index(window.image_dock.model.row_of(broken))
    assert "img_2.png" in window.image_dock.model.data(row, Qt.ItemDataRole.ToolTipRole)
    other = window.dataset.image_by_name("img_1.png").id
    window.image_dock.select(other)
    qtbot.waitUntil(lambda: window.canvas.image is not None, timeout=10000)
    assert window.current_image_id == other


def test_bad_checkpoint_is_a_dialog_not_a_crash(qtbot, window, tmp_path):
    bad = tmp_path / "bad.pth"
    bad.write_text("not a checkpoint")
    window.choose_model(str(bad), "cpu")
    qtbot.waitUntil(lambda: "bad.pth" in window.statusBar().currentMessage(), timeout=60000)
    assert window.isVisible() and window.models.model is None


def test_filter_box_counts(qtbot, window, folder):
    window.open_folder(folder)
    qtbot.keyClicks(window.image_dock.filter_edit, "_1")
    assert window.image_dock.count_label.text() == "1 of 3 images · 1 unreadable"


def test_external_filter_and_go_to(qtbot, window, folder):
    window.open_folder(folder)
    ids = window.images
    window.image_dock.set_filter([ids[2], ids[0]], sort_key=lambda i: -i, label="only two")
    assert window.image_dock.visible_ids() == [ids[2], ids[0]]
    assert window.image_dock.count_label.text() == "2 of 3 images · 1 unreadable"
    assert window.image_dock.external_label.text() == "only two"
    shown = []
    window.state.image_loaded.connect(lambda image_id, _decoded: shown.append(image_id))
    window.go_to(ids[1], box=(10, 10, 50, 40))  # filtered out: still shown
    qtbot.waitUntil(lambda: shown == [ids[1]], timeout=10000)
    assert window.canvas.scale_factor() > 2  # zoomed on the box
    window.image_dock.set_filter(None)
    assert len(window.image_dock.visible_ids()) == 3


def test_window_geometry_and_dock_layout_persist_between_runs(qtbot, monkeypatch):
    from app.settings import settings

    first = MainWindow()
    qtbot.addWidget(first)
    first.show()
    first.model_dock.hide()
    first.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, first.classes_dock)
    first.close()  # saves the layout
    saved_geometry = bytes(settings().value("geometry"))

    restored = []  # the offscreen screen (800 x 800) clamps sizes: check what is applied
    original = MainWindow.restoreGeometry
    monkeypatch.setattr(
        MainWindow,
        "restoreGeometry",
        lambda self, g: restored.append(bytes(g)) or original(self, g),
    )
    second = MainWindow()
    qtbot.addWidget(second)
    second.show()
    assert restored == [saved_geometry]
    assert second.model_dock.isHidden() and not second.predictions_dock.isHidden()
    assert second.dockWidgetArea(second.classes_dock) == Qt.DockWidgetArea.LeftDockWidgetArea
    second.close()


def test_screenshot_flag_saves_a_picture_of_the_window(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "DETSCOPE_NO_AUTOLOAD": "1"}
    command = [sys.executable, "main.py", "resources/samples/shapes", "--screenshot", str(out)]
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"saved to {out}" in result.stdout
    picture = np.asarray(Image.open(out).convert("RGB"))
    assert picture.shape[0] > 300 and picture.shape[1] > 500
    assert len(np.unique(picture.reshape(-1, 3), axis=0)) > 1000  # the image, not a blank


def test_the_window_opens_without_importing_torch():
    """Launch stays well under 2 s: torch (1-2 s to import) loads only when a model is asked for."""
    import os
    import subprocess
    import sys

    code = (
        "import sys; from PySide6.QtWidgets import QApplication; app = QApplication([]); "
        "from app.main_window import MainWindow; w = MainWindow(); w.show(); app.processEvents(); "
        "w.open_folder(__import__('pathlib').Path('resources/samples/shapes')); "
        "app.processEvents(); print(sorted(m for m in ('torch', 'torchvision') if m in sys.modules))"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "DETSCOPE_NO_AUTOLOAD": "1"}
    root = __import__("pathlib").Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stderr[-2000:]
