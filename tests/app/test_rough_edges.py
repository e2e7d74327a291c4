"""Rough edges a first-time user hits (issue 17): each one driven through the real window."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog


def _select_first_object(window):
    image_id = window.current_image_id
    first = window.dataset.objects_in(image_id)[0]
    window.editor.select([first.id])
    return first


def test_relabel_dialog_preselects_the_boxs_own_class(qtbot, open_window, sample_folder):
    window = open_window(sample_folder)
    objects = window.dataset.objects_in(window.current_image_id)
    chosen = next(o for o in objects if o.category_id != min(window.dataset.categories))
    window.editor.select([chosen.id])
    qtbot.keyClick(window.canvas, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    own = window.dataset.categories[chosen.category_id].name
    assert window.relabel_dialog.textValue() == own
    window.relabel_dialog.close()


def test_shortcut_sheet_has_a_close_button(qtbot, open_window, sample_folder):
    window = open_window(sample_folder)
    qtbot.keyClick(window.canvas, Qt.Key.Key_F1)
    sheet = window.shortcut_sheet
    assert sheet.isVisible()
    close = sheet.buttons.button(QDialogButtonBox.StandardButton.Close)
    qtbot.mouseClick(close, Qt.MouseButton.LeftButton)
    assert not sheet.isVisible()


def test_evaluate_export_starts_in_the_dataset_folder(
    qtbot, open_window, sample_folder, monkeypatch
):
    window = open_window(sample_folder)
    dock = window.docks["EvaluateDock"]
    dock.live.watch(window.dataset)
    asked = []
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *args: (asked.append(args[2]), ("", ""))[1]
    )
    dock.export_button._export("png")
    assert asked and asked[0].startswith(str(sample_folder))


def test_boxes_drawn_and_moved_by_hand_are_saved_with_two_decimals(
    qtbot, open_window, sample_folder
):
    import json

    from test_annotate import drag

    window = open_window(sample_folder, size=(1033, 777))  # a fit scale with long fractions
    before = {o.id for o in window.dataset.objects_in(window.current_image_id)}
    qtbot.keyClick(window.canvas, Qt.Key.Key_W)
    drag(qtbot, window, (101.3, 80.7), (163.9, 121.1))
    (new_id,) = {o.id for o in window.dataset.objects_in(window.current_image_id)} - before
    drag(qtbot, window, (130.2, 100.4), (151.7, 113.3))  # move it
    box = window.dataset.objects[new_id].box
    assert box == tuple(round(v, 2) for v in box)
    assert any(v != round(v) for v in box)  # the scale really gave fractions
    window.save()
    saved = json.loads((sample_folder / "annotations.json").read_text())
    (entry,) = [a for a in saved["annotations"] if a["id"] == new_id]
    assert all(len(repr(v).split(".")[-1]) <= 2 for v in entry["bbox"][:2])
