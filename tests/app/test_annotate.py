"""Annotating end to end: mouse and keys on the real window, then the file on disk."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QMessageBox

from detector.store import save_dataset

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(1)
    for index in range(3):
        Image.fromarray(rng.integers(0, 255, (200, 300, 3), dtype=np.uint8)).save(
            tmp_path / f"img_{index}.png"
        )
    coco = {
        "images": [
            {"id": i + 1, "file_name": f"img_{i}.png", "width": 300, "height": 200}
            for i in range(3)
        ],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [20, 20, 40, 30], "iscrowd": 0}
        ],
    }
    (tmp_path / "annotations.json").write_text(json.dumps(coco))
    return tmp_path


@pytest.fixture
def window(open_window, folder):
    window = open_window(folder, size=(1000, 700))
    window.canvas.actual_size()  # 1 image pixel = 1 screen pixel, image at the origin
    window.canvas.horizontalScrollBar().setValue(window.canvas.horizontalScrollBar().minimum())
    window.canvas.verticalScrollBar().setValue(window.canvas.verticalScrollBar().minimum())
    window.canvas.setFocus()
    return window


def view_point(window, x: float, y: float) -> QPoint:
    return window.canvas.mapFromScene(QPointF(x, y))


def drag(qtbot, window, start, end) -> None:
    viewport = window.canvas.viewport()
    qtbot.mousePress(viewport, LEFT, pos=view_point(window, *start))
    qtbot.mouseMove(viewport, view_point(window, (start[0] + end[0]) / 2, (start[1] + end[1]) / 2))
    qtbot.mouseMove(viewport, view_point(window, *end))
    qtbot.mouseRelease(viewport, LEFT, pos=view_point(window, *end))


def boxes(window) -> dict[int, tuple]:
    return {a.id: a.box for a in window.dataset.objects_in(window.current_image_id)}


def key(qtbot, window, k, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(window.canvas, k, modifier)


def test_draw_move_resize_relabel_with_undo_redo_each(qtbot, window):
    assert boxes(window) == {1: (20.0, 20.0, 60.0, 50.0)}
    key(qtbot, window, Qt.Key.Key_W)
    drag(qtbot, window, (100, 80), (160, 120))
    (new_id,) = set(boxes(window)) - {1}
    assert boxes(window)[new_id] == pytest.approx((100, 80, 160, 120), abs=1)
    assert window.editor.selected == [new_id]

    drag(qtbot, window, (130, 100), (150, 110))  # move by (20, 10)
    assert boxes(window)[new_id] == pytest.approx((120, 90, 180, 130), abs=1)
    drag(qtbot, window, (180, 130), (200, 150))  # bottom-right handle
    assert boxes(window)[new_id] == pytest.approx((120, 90, 200, 150), abs=1)
    key(qtbot, window, Qt.Key.Key_2)  # relabel as class 2
    assert window.dataset.objects[new_id].category_id == 2

    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert window.dataset.objects[new_id].category_id == 1
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert boxes(window)[new_id] == pytest.approx((120, 90, 180, 130), abs=1)
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert boxes(window)[new_id] == pytest.approx((100, 80, 160, 120), abs=1)
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert new_id not in boxes(window)
    key(qtbot, window, Qt.Key.Key_Y, CTRL)  # redo draw
    key(qtbot, window, Qt.Key.Key_Z, CTRL | SHIFT)  # redo move
    key(qtbot, window, Qt.Key.Key_Y, CTRL)  # redo resize
    key(qtbot, window, Qt.Key.Key_Y, CTRL)  # redo relabel
    assert boxes(window)[new_id] == pytest.approx((120, 90, 200, 150), abs=1)
    assert window.dataset.objects[new_id].category_id == 2


def test_escape_cancels_a_drawing(qtbot, window):
    key(qtbot, window, Qt.Key.Key_R)  # labelme hands
    assert window.editor.mode == "draw"
    viewport = window.canvas.viewport()
    qtbot.mousePress(viewport, LEFT, pos=view_point(window, 100, 100))
    qtbot.mouseMove(viewport, view_point(window, 150, 150))
    key(qtbot, window, Qt.Key.Key_Escape)
    qtbot.mouseRelease(viewport, LEFT, pos=view_point(window, 150, 150))
    assert window.editor.mode == "select" and list(boxes(window)) == [1]


def test_switch_save_and_reopen_gives_the_same_file(qtbot, window, folder):
    first = window.current_image_id
    key(qtbot, window, Qt.Key.Key_W)
    drag(qtbot, window, (200, 100), (250, 150))
    key(qtbot, window, Qt.Key.Key_D)  # next image: the edit is saved on the way
    qtbot.waitUntil(lambda: window.current_image_id != first and window.canvas.image is not None)
    qtbot.waitUntil(lambda: not window.autosave.dirty)  # saved in a worker
    key(qtbot, window, Qt.Key.Key_A)
    qtbot.waitUntil(lambda: window.current_image_id == first)
    assert len(boxes(window)) == 2
    key(qtbot, window, Qt.Key.Key_S, CTRL)
    saved = (folder / "annotations.json").read_bytes()
    window.open_folder(folder)  # reopen: same content, and saving again changes nothing
    assert len(window.dataset.objects_in(first)) == 2
    save_dataset(window.dataset)
    assert (folder / "annotations.json").read_bytes() == saved


def test_edit_shortcuts(qtbot, window):
    drag(qtbot, window, (40, 35), (40, 35))  # click selects object 1
    assert window.editor.selected == [1]
    key(qtbot, window, Qt.Key.Key_Right)
    key(qtbot, window, Qt.Key.Key_Down, SHIFT)
    assert boxes(window)[1] == (21.0, 30.0, 61.0, 60.0)
    key(qtbot, window, Qt.Key.Key_D, CTRL)  # duplicate
    assert len(boxes(window)) == 2
    (copy_id,) = window.editor.selected
    drag(qtbot, window, (25, 35), (25, 35))  # smallest box under the cursor wins: click it
    window.editor.select([1, copy_id])
    assert window.status.selection_label.text().startswith("IoU ")
    iou = float(window.status.selection_label.text().split()[1])
    assert iou == pytest.approx((30 * 20) / (40 * 30 * 2 - 30 * 20), abs=1e-3)
    key(qtbot, window, Qt.Key.Key_Delete)
    assert boxes(window) == {}
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    window.editor.select([1])
    key(qtbot, window, Qt.Key.Key_C, CTRL)
    key(qtbot, window, Qt.Key.Key_D)
    qtbot.waitUntil(lambda: window.current_image_id == 2 and window.canvas.image is not None)
    key(qtbot, window, Qt.Key.Key_V, CTRL)  # paste onto another image, same place
    assert list(boxes(window).values()) == [(21.0, 30.0, 61.0, 60.0)]
    key(qtbot, window, Qt.Key.Key_Space)
    assert window.dataset.images[2].verified
    assert "✓" in window.image_dock.current_text()
    key(qtbot, window, Qt.Key.Key_T)
    assert not window.canvas.boxes_overlay("objects").show_labels
    key(qtbot, window, Qt.Key.Key_F1)
    assert window.shortcut_sheet.isVisible() and window.shortcut_sheet.table.rowCount() > 20
    window.shortcut_sheet.close()
    key(qtbot, window, Qt.Key.Key_F, CTRL)
    assert window.canvas._fit_mode
    key(qtbot, window, Qt.Key.Key_0, CTRL)
    assert window.canvas.scale_factor() == 1.0
    window.editor.select(list(boxes(window)))
    key(qtbot, window, Qt.Key.Key_E, CTRL)
    window.relabel_dialog.textValueSelected.emit("dog")
    assert {a.category_id for a in window.dataset.objects_in(2)} == {2}


def test_classes_dock_add_rename_recolor_merge_delete_and_hide(qtbot, window):
    dock = window.classes_dock
    bird = dock.add_class("bird")
    assert window.dataset.categories[bird].name == "bird"
    assert dock.rename(bird, "parrot") and window.dataset.categories[bird].name == "parrot"
    assert not dock.rename(bird, "cat")  # refused with a message, not an exception
    assert "already exists" in window.statusBar().currentMessage()
    assert dock.recolor(bird, "#123456")
    assert dock.merge([1], 2)  # cat objects become dog, cat is gone
    assert 1 not in window.dataset.categories and window.dataset.objects[1].category_id == 2
    dock.set_hidden(2, True)
    assert len(window.canvas.boxes_overlay("objects").boxes) == 0
    dock.set_hidden(2, False)
    assert dock.delete(2) and window.dataset.objects_in(1) == []
    window.undo.undo()
    assert window.dataset.objects[1].category_id == 2


def _fake_detections(window, boxes_xyxy, scores, labels, mask_probs=None, image_size=None):
    from detector.inference.detections import Detections

    return Detections(
        boxes=np.array(boxes_xyxy, np.float32),
        labels=np.array(labels, np.int64),
        scores=np.array(scores, np.float32),
        mask_probs=mask_probs,
        image_size=image_size,
    )


class _Model:
    categories = ["__background__", "cat", "zebra"]
    device = "cpu"


def test_accept_predictions_keeps_masks_and_never_saves_unaccepted(qtbot, window, folder):
    from detector.inference.detections import mask_rles

    window.models.model = _Model()
    mask_probs = np.zeros((3, 28, 28), np.float32)
    mask_probs[0] = 1  # the first detection's mask fills its box
    detections = _fake_detections(
        window,
        [[100, 100, 140, 120], [200, 50, 260, 90], [10, 150, 30, 170]],
        [0.9, 0.7, 0.2],
        [1, 2, 1],
        mask_probs,
        (200, 300),
    )
    image_id = window.current_image_id
    window.assist.on_detections(image_id, detections, 0.01, mask_rles(detections))
    assert len(window.canvas.boxes_overlay("predictions").boxes) == 2  # 0.2 is under 0.5
    window.predictions_dock.set_threshold(0.1)
    assert len(window.canvas.boxes_overlay("predictions").boxes) == 3
    assert not window.autosave.dirty
    drag(qtbot, window, (120, 110), (120, 110))  # click the best prediction
    key(qtbot, window, Qt.Key.Key_Return)
    accepted = [a for a in window.dataset.objects_in(image_id) if a.source == "model"]
    assert (
        len(accepted) == 1
        and accepted[0].mask is not None
        and accepted[0].score == pytest.approx(0.9)
    )
    window.predictions_dock.set_threshold(0.5)
    window.predictions_dock.accept_all_requested.emit()  # the zebra, a class the set lacks
    prompt = window.commands.new_classes_prompt  # asked first, never created silently
    assert "zebra" in prompt.text() and window.dataset.category_by_name("zebra") is None
    qtbot.mouseClick(prompt.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    zebra = window.dataset.category_by_name("zebra")
    assert zebra is not None
    assert [
        a.category_id for a in window.dataset.objects_in(image_id) if a.score == pytest.approx(0.7)
    ] == [zebra.id]
    window.predictions_dock.set_threshold(0.1)
    drag(qtbot, window, (20, 160), (20, 160))
    key(qtbot, window, Qt.Key.Key_Delete)  # reject the last one
    assert window.dataset.predictions_in(image_id) == []
    window.save()
    saved = json.loads((folder / "annotations.json").read_text())
    assert len(saved["annotations"]) == 3  # the original + two accepted, no rejected one
    key(qtbot, window, Qt.Key.Key_Z, CTRL)  # undo accept-all
    assert window.dataset.category_by_name("zebra") is None


def test_detect_all_with_progress(qtbot, window):
    from detector.models import load_model

    model = load_model(
        "fasterrcnn_mobilenet_v3_large_320_fpn", weights=None, device="cpu", box_score_thresh=0.0
    )
    window.models.set_model(model)
    window.assist.detect_all()
    qtbot.waitUntil(lambda: not window.assist.detecting_all, timeout=60000)
    assert set(window.detections) == set(window.images)
    assert "Detected all" in window.statusBar().currentMessage()


def test_failed_save_goes_to_recovery_and_is_restored(qtbot, window, folder):
    from PySide6.QtWidgets import QMessageBox

    from app.annotate.autosave import recovery_path

    (folder / "annotations.json").write_text((folder / "annotations.json").read_text() + " ")
    window.commands.add_box((50, 50, 90, 90))  # the file changed on disk: save refuses
    assert not window.autosave.flush()
    assert "recovery" not in window.windowTitle() and "unsaved" in window.windowTitle()
    assert recovery_path(folder).is_file()
    window.autosave.dataset = None  # as if the program crashed here
    assert window.open_folder(folder)
    assert len(window.dataset.objects_in(1)) == 1  # as on disk, until the user answers
    window.recovery_prompt.button(QMessageBox.StandardButton.Yes).click()
    assert len(window.dataset.objects_in(1)) == 2 and not window.autosave.dirty
    assert not recovery_path(folder).exists()
    assert len(json.loads((folder / "annotations.json").read_text())["annotations"]) == 2


def _menu_action(window, *path: str):
    menu = window.menuBar()
    for name in path[:-1]:
        menu = next(a.menu() for a in menu.actions() if a.text().replace("&", "") == name)
    return next(a for a in menu.actions() if a.text() == path[-1])


def test_export_coco_voc_yolo_from_the_file_menu(qtbot, window, folder, tmp_path, monkeypatch):
    from pycocotools.coco import COCO

    from app.annotate import file_actions
    from detector.formats.voc import load_voc
    from detector.formats.yolo import load_yolo

    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(
        file_actions.QFileDialog,
        "getSaveFileName",
        lambda *_a, **_k: (str(out / "export.json"), "COCO JSON (*.json)"),
    )
    monkeypatch.setattr(
        file_actions.QFileDialog,
        "getExistingDirectory",
        lambda _w, title, _s: str(out / title[7:10]),
    )
    window.commands.add_box((100, 100, 150, 160))
    _menu_action(window, "File", "Export", "COCO…").trigger()
    coco = COCO(str(out / "export.json"))
    assert len(coco.getImgIds()) == 3 and len(coco.getAnnIds()) == 2
    assert sorted(c["name"] for c in coco.loadCats(coco.getCatIds())) == ["cat", "dog"]

    _menu_action(window, "File", "Export", "VOC…").trigger()
    assert "Exported 3 images as VOC" in window.statusBar().currentMessage()
    voc = load_voc(out / "VOC", image_root=folder)
    assert sorted(a.box for a in voc.iter_objects()) == [(20, 20, 60, 50), (100, 100, 150, 160)]

    _menu_action(window, "File", "Export", "YOLO…").trigger()
    yolo = load_yolo(out / "YOL", image_root=folder)
    boxes_yolo = np.array(sorted(a.box for a in yolo.iter_objects()))
    np.testing.assert_allclose(boxes_yolo, [(20, 20, 60, 50), (100, 100, 150, 160)], atol=0.01)
    assert [c.name for c in yolo.categories.values()] == ["cat", "dog"]


def test_mouse_wheel_zooms_around_the_cursor(qtbot, window):
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    canvas = window.canvas
    canvas.zoom(4.0)  # the image is larger than the view: it can scroll under the cursor
    canvas.centerOn(100, 80)
    before = canvas.scale_factor()
    cursor = view_point(window, 150, 100)
    under_cursor = canvas.mapToScene(cursor)
    event = QWheelEvent(
        QPointF(cursor),
        QPointF(canvas.viewport().mapToGlobal(cursor)),
        QPoint(0, 0),
        QPoint(0, 120),  # one notch away from the user: zoom in
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(canvas.viewport(), event)
    assert canvas.scale_factor() == pytest.approx(before * 1.25)
    after = canvas.mapToScene(cursor)
    assert (after.x(), after.y()) == pytest.approx((under_cursor.x(), under_cursor.y()), abs=1.0)


def test_autosave_writes_in_a_worker_from_a_snapshot(qtbot, window, folder, monkeypatch):
    import threading

    from app.annotate import autosave

    gate = threading.Event()
    monkeypatch.setattr(autosave, "run_job", lambda job: gate.wait(10) and job.run())
    window.commands.add_box((100, 100, 150, 150))
    window.autosave.save_in_background()  # returns at once: the worker waits at the gate
    assert window.autosave._job is not None and window.pool.busy()
    window.commands.add_box((200, 100, 250, 150))  # the GUI thread goes on editing
    gate.set()
    qtbot.waitUntil(lambda: window.autosave._job is None and not window.pool.busy())
    written = json.loads((folder / "annotations.json").read_text())["annotations"]
    assert len(written) == 2 and window.autosave.dirty  # the snapshot held 2, not 3 objects
    qtbot.waitUntil(lambda: not window.autosave.dirty, timeout=5000)
    assert len(json.loads((folder / "annotations.json").read_text())["annotations"]) == 3


def test_edits_during_a_background_save_are_not_in_it_and_the_next_save_has_them(
    qtbot, window, folder, monkeypatch
):
    """The worker writes exactly the state at snapshot time while the GUI thread moves,
    relabels, deletes and adds objects of the same image (its dict is copied on write)."""
    import threading
    from dataclasses import replace

    from pycocotools.coco import COCO

    from app.annotate import autosave
    from detector.data.edits import RemoveObjects, UpdateObjects
    from detector.formats.coco import to_coco_dict

    gate = threading.Event()
    monkeypatch.setattr(autosave, "run_job", lambda job: gate.wait(10) and job.run())
    window.commands.add_box((100, 100, 150, 150))
    dataset = window.dataset
    at_snapshot = json.loads(json.dumps(to_coco_dict(dataset)))
    window.autosave.save_in_background()  # the worker waits at the gate
    assert window.autosave._job is not None
    first, added = dataset.objects_in(1)
    window.undo.push(UpdateObjects((replace(first, box=(21.0, 20.0, 61.0, 50.0), category_id=2),)))
    window.undo.push(RemoveObjects((added.id,)))
    window.commands.add_box((200, 100, 250, 150))
    after_edits = json.loads(json.dumps(to_coco_dict(dataset)))
    gate.set()
    qtbot.waitUntil(lambda: window.autosave._job is None and not window.pool.busy())
    assert json.loads((folder / "annotations.json").read_text()) == at_snapshot
    coco = COCO(str(folder / "annotations.json"))
    assert sorted(coco.anns) == [1, added.id] and coco.anns[1]["category_id"] == 1
    assert window.autosave.dirty  # the edits made during the save are not saved yet
    qtbot.waitUntil(lambda: not window.autosave.dirty, timeout=5000)
    assert json.loads((folder / "annotations.json").read_text()) == after_edits
    coco = COCO(str(folder / "annotations.json"))
    assert coco.anns[1]["bbox"] == [21.0, 20.0, 40.0, 30.0] and coco.anns[1]["category_id"] == 2
    assert added.id not in coco.anns and len(coco.anns) == 2


def test_a_save_job_hands_the_gil_over_every_millisecond_and_restores_the_interval(
    tmp_path, monkeypatch
):
    import sys

    from app.annotate import save_job
    from detector.data.dataset import Dataset

    seen = []
    monkeypatch.setattr(
        save_job, "save_dataset", lambda *a, **k: seen.append(sys.getswitchinterval()) or None
    )
    before = sys.getswitchinterval()
    job = save_job.SaveJob(Dataset(root=tmp_path).snapshot(), 0, False).run()
    assert job.error is None and seen == [pytest.approx(save_job.SAVE_SWITCH_INTERVAL)]
    assert sys.getswitchinterval() == before
