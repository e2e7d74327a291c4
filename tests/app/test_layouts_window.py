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


def test_an_edit_in_a_yolo_export_is_saved_to_its_label_file(qtbot, open_window, tmp_path):
    from detector.data.edits import update_object

    root = tmp_path / "yolo"
    yolo(root)
    window = open_window()
    assert window.open_folder(root, split="train")
    qtbot.waitUntil(lambda: window.canvas.image is not None, timeout=20000)
    before = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    obj = next(iter(window.dataset.objects.values()))
    window.dataset.apply(update_object(window.dataset, obj.id, box=(8.0, 6.0, 40.0, 30.0)))
    assert window.autosave.flush()
    after = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    assert after == before  # no annotations.json, no classes.txt: the same files, rewritten
    label = (
        root / "labels" / "train" / (window.dataset.images[obj.image_id].file_name[:-4] + ".txt")
    )
    x1, y1, x2, y2 = 8.0 / 64, 6.0 / 48, 40.0 / 64, 30.0 / 48
    expected = [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]
    values = [float(v) for v in label.read_text().split()[1:]]
    assert values == [round(v, 6) for v in expected]
