"""The window opens exported dataset layouts; a folder with several splits asks which."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QInputDialog

from tests.detector.exported_layouts import roboflow, yolo


def test_a_multi_split_export_asks_for_the_split(qtbot, open_window, tmp_path):
    roboflow(tmp_path / "export")
    window = open_window()
    asked = []

    def pick_valid():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QInputDialog):
            QTimer.singleShot(20, pick_valid)
            return
        asked.append(dialog.comboBoxItems())
        dialog.setTextValue("valid")
        dialog.accept()

    QTimer.singleShot(0, pick_valid)
    assert window.open_folder(tmp_path / "export")
    assert asked == [["train", "valid", "test"]]
    assert sorted(r.file_name for r in window.dataset.images.values()) == [
        "valid_0.jpg",
        "valid_1.jpg",
    ]
    qtbot.waitUntil(lambda: window.canvas.image is not None, timeout=20000)
    assert len(window.dataset.objects) == 2


def test_a_yolo_export_opens_on_the_given_split_and_draws_its_boxes(qtbot, open_window, tmp_path):
    yolo(tmp_path / "yolo")
    window = open_window()
    assert window.open_folder(tmp_path / "yolo", split="train")
    qtbot.waitUntil(lambda: window.canvas.image is not None, timeout=20000)
    assert window.dataset.annotation_format == "yolo"
    assert len(window.canvas.boxes_overlay("objects").boxes) == 1
