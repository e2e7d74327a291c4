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


class _ShapesModel:
    """The category names of the bundled shapes model (never run: detections are given)."""

    categories = ["__background__", "circle", "square", "triangle", "star", "hexagon"]
    device = "cpu"


def _predict(window, boxes, labels, scores):
    import numpy as np

    from detector.inference.detections import Detections

    window.models.model = _ShapesModel()
    detections = Detections(
        np.array(boxes, np.float32), np.array(labels), np.array(scores, np.float32), None
    )
    window.assist.on_detections(window.current_image_id, detections, 0.01, None)


def test_accept_all_on_an_annotated_image_adds_only_what_is_new(qtbot, open_window, sample_folder):
    window = open_window(sample_folder)
    image_id = window.current_image_id
    truth = window.dataset.objects_in(image_id)
    names = _ShapesModel.categories
    repeats = [tuple(v + 1.5 for v in o.box) for o in truth]  # the model found them again
    labels = [names.index(window.dataset.categories[o.category_id].name) for o in truth]
    _predict(window, [*repeats, (5, 5, 40, 40)], [*labels, 2], [0.9] * (len(truth) + 1))
    dock = window.predictions_dock
    qtbot.mouseClick(dock.buttons["Accept all ≥ threshold"], Qt.MouseButton.LeftButton)
    after = window.dataset.objects_in(image_id)
    assert len(after) == len(truth) + 1  # not 2x: the repeats were skipped
    assert f"{len(truth)} skipped" in window.statusBar().currentMessage()
    assert all(o.category_id in window.dataset.categories for o in after)


def test_accept_all_asks_before_creating_classes(qtbot, open_window, sample_folder):
    from PySide6.QtWidgets import QMessageBox

    window = open_window(sample_folder)
    from detector.data.edits import DeleteCategory

    hexagon = window.dataset.category_by_name("hexagon")  # a set without hexagons
    window.undo.push(DeleteCategory(hexagon.id))
    before = set(window.dataset.categories)
    _predict(window, [(5, 5, 40, 40), (50, 50, 90, 90)], [5, 2], [0.9, 0.9])
    qtbot.mouseClick(
        window.predictions_dock.buttons["Accept all ≥ threshold"], Qt.MouseButton.LeftButton
    )
    prompt = window.commands.new_classes_prompt
    assert prompt.isVisible() and "hexagon" in prompt.text()
    assert set(window.dataset.categories) == before  # nothing created behind the user's back
    qtbot.mouseClick(prompt.button(QMessageBox.StandardButton.No), Qt.MouseButton.LeftButton)
    assert set(window.dataset.categories) == before
    accepted = [o for o in window.dataset.objects_in(window.current_image_id) if o.score]
    assert [window.dataset.categories[o.category_id].name for o in accepted] == ["square"]


def test_a_click_selects_the_prediction_over_the_object_and_tab_cycles(
    qtbot, open_window, sample_folder
):
    from test_annotate import view_point

    window = open_window(sample_folder)
    target = max(
        window.dataset.objects_in(window.current_image_id),
        key=lambda o: (o.box[2] - o.box[0]) * (o.box[3] - o.box[1]),
    )
    x1, y1, x2, y2 = target.box
    label = _ShapesModel.categories.index(window.dataset.categories[target.category_id].name)
    _predict(window, [(x1 + 2, y1 + 2, x2 - 2, y2 - 2)], [label], [0.8])
    prediction = window.dataset.predictions_in(window.current_image_id)[0].id
    centre = ((x1 + x2) / 2, (y1 + y2) / 2)
    qtbot.mouseClick(
        window.canvas.viewport(), Qt.MouseButton.LeftButton, pos=view_point(window, *centre)
    )
    assert window.editor.selected_prediction == prediction and window.editor.selected == []
    status = window.status.selection_label.text()
    assert "prediction" in status and "0.80" in status
    under = window.layer.objects_at(*centre)  # smallest first; the target among them
    assert target.id in under
    for object_id in under:
        qtbot.keyClick(window.canvas, Qt.Key.Key_Tab)
        assert window.editor.selected == [object_id] and window.editor.selected_prediction is None
    qtbot.keyClick(window.canvas, Qt.Key.Key_Tab)  # round again to the prediction
    assert window.editor.selected_prediction == prediction


def test_labels_of_a_crowd_never_hide_each_other(qtbot):
    from PySide6.QtCore import QRectF

    from app.overlays import stack_labels

    wanted = [QRectF(10 + (i % 3), 20, 60, 15) for i in range(9)]  # nine boxes at one place
    placed = stack_labels(wanted, step=15)
    for i, a in enumerate(placed):
        for b in placed[i + 1 :]:
            assert not a.intersects(b)
    assert placed[0] == wanted[0]  # the first label stays where it wanted to be


def test_detect_all_from_the_menu_shows_progress_and_cancel_in_the_status_bar(
    qtbot, open_window, sample_folder, small_model
):
    window = open_window(sample_folder)
    window.models.set_model(small_model)
    window.workspaces.switch("evaluate")  # the Predictions dock is not on screen
    action = next(a for a in window.model_menu.actions() if a.text() == "Detect &All Images")
    action.trigger()
    status = window.status
    qtbot.waitUntil(
        lambda: status.job_bar.isVisible() and status.job_bar.value() >= 1, timeout=60000
    )
    assert "Detect all" in status.job_bar.format()
    qtbot.mouseClick(status.job_cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not status.job_bar.isVisible(), timeout=10000)
    assert not window.assist.detecting_all
    qtbot.waitUntil(lambda: not window.state.pool.busy(), timeout=30000)


def test_first_run_hint_shows_once_and_goes_at_the_first_click(qtbot, open_window, sample_folder):
    window = open_window(sample_folder)
    hint = window.first_run_hint
    assert hint.show_if_first_run()
    assert hint.label.isVisible() and "Ctrl+O" in hint.label.text()
    qtbot.mouseClick(window.canvas.viewport(), Qt.MouseButton.LeftButton)
    assert not hint.label.isVisible()
    assert not hint.show_if_first_run()  # never again for this user


def test_about_names_the_versions_a_bug_report_needs(qtbot, open_window):
    import torch

    window = open_window()
    action = next(a for a in window.help_menu.actions() if "About" in a.text())
    action.trigger()
    text = window.about_box.text()
    assert torch.__version__ in text and "torchvision" in text and "Qt" in text
    window.about_box.close()
