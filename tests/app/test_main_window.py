"""The first window, driven like a person would: open a folder, Detect, see the boxes."""

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
def window(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    yield window
    window.close()


def test_open_folder_detect_and_draw(qtbot, window, folder):
    from detector.models import load_model

    window.open_folder(folder)
    assert window.image_dock.list_widget.count() == 4
    qtbot.waitUntil(lambda: window.canvas.image is not None, timeout=10000)
    assert window.canvas.image.shape == (120, 160, 3)

    model = load_model(
        "fasterrcnn_mobilenet_v3_large_320_fpn", weights=None, device="cpu", box_score_thresh=0.0
    )
    window.models.set_model(model)
    assert "UNTRAINED" in window.model_dock.info_label.text()
    window.model_dock.threshold_spin.setValue(0.0)
    qtbot.keyClick(window.canvas, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: 0 in window.detections, timeout=30000)
    detections = window.detections[0]
    overlay = window.canvas.boxes_overlay("predictions")
    assert len(detections) > 0
    np.testing.assert_array_equal(overlay.boxes, detections.boxes)
    assert overlay.labels[0].startswith(model.categories[int(detections.labels[0])])
    assert "detections in" in window.statusBar().currentMessage()

    window.model_dock.threshold_spin.setValue(1.0)  # hides every prediction
    assert len(overlay.boxes) == 0


def test_corrupt_image_shows_message_and_others_still_open(qtbot, window, folder):
    window.open_folder(folder)
    window.image_dock.select(3)
    qtbot.waitUntil(lambda: 3 in window.unreadable, timeout=10000)
    assert "img_3_corrupt.png" in window.statusBar().currentMessage()
    window.image_dock.select(1)
    qtbot.waitUntil(lambda: window.canvas.image is not None, timeout=10000)


def test_bad_checkpoint_is_a_dialog_not_a_crash(qtbot, window, tmp_path):
    bad = tmp_path / "bad.pth"
    bad.write_text("not a checkpoint")
    window.choose_model(str(bad), "cpu")
    qtbot.waitUntil(lambda: "bad.pth" in window.statusBar().currentMessage(), timeout=60000)
    assert window.isVisible() and window.models.model is None


def test_filter_box_counts(qtbot, window, folder):
    window.open_folder(folder)
    qtbot.keyClicks(window.image_dock.filter_edit, "corrupt")
    assert window.image_dock.count_label.text() == "1 of 4 images"
