"""The polygon tool with real mouse and key events: draw, close, cancel, vertex drag, edge
insert, vertex delete, undo/redo, RLE converted only when edited, flags, Mask from box."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt

from app.main_window import MainWindow
from detector.data.masks import encode_mask_rle

LEFT = Qt.MouseButton.LeftButton
SQUARE = [40.0, 40.0, 100.0, 40.0, 100.0, 100.0, 40.0, 100.0]


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(1)
    image = rng.integers(0, 60, (200, 300, 3), dtype=np.uint8)
    image[120:180, 170:260] = (230, 40, 40)
    Image.fromarray(image).save(tmp_path / "img_0.png")
    blob = np.zeros((200, 300), np.uint8)
    cv2.ellipse(blob, (215, 150), (34, 19), 0, 0, 360, 1, -1)  # inside box 180,130,250,170
    blob = blob.astype(bool)
    coco = {
        "images": [{"id": 1, "file_name": "img_0.png", "width": 300, "height": 200}],
        "categories": [{"id": 1, "name": "square"}, {"id": 2, "name": "circle"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [40, 40, 60, 60],
             "segmentation": [SQUARE], "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 2, "bbox": [180, 130, 70, 40],
             "segmentation": encode_mask_rle(blob), "iscrowd": 1},
            {"id": 3, "image_id": 1, "category_id": 1, "bbox": [165, 115, 100, 70],
             "iscrowd": 0},
        ],
    }  # fmt: skip
    (tmp_path / "annotations.json").write_text(json.dumps(coco))
    return tmp_path


@pytest.fixture
def window(qtbot, folder):
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1000, 700)
    window.show()
    window.open_folder(folder)
    qtbot.waitUntil(lambda: window.canvas.image is not None, timeout=10000)
    window.canvas.actual_size()  # 1 image pixel = 1 screen pixel
    window.canvas.setFocus()
    yield window
    window.close()


def at(window, x: float, y: float) -> QPoint:
    return window.canvas.mapFromScene(QPointF(x, y))


def click(qtbot, window, x, y) -> None:
    qtbot.mouseClick(window.canvas.viewport(), LEFT, pos=at(window, x, y))


def drag(qtbot, window, start, end) -> None:
    viewport = window.canvas.viewport()
    qtbot.mousePress(viewport, LEFT, pos=at(window, *start))
    qtbot.mouseMove(viewport, at(window, (start[0] + end[0]) / 2, (start[1] + end[1]) / 2))
    qtbot.mouseMove(viewport, at(window, *end))
    qtbot.mouseRelease(viewport, LEFT, pos=at(window, *end))


def key(qtbot, window, name, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(window.canvas, name, modifier)


def obj(window, object_id):
    return window.dataset.objects[object_id]


def select(qtbot, window, x, y, object_id) -> None:
    click(qtbot, window, x, y)
    assert window.editor.selected == [object_id]


def test_draw_with_backspace_and_double_click_then_undo_redo(qtbot, window):
    before = set(window.dataset.objects)
    key(qtbot, window, Qt.Key.Key_P)
    assert window.mask_toolbar.polygons.drawing
    for x, y in [(10, 10), (60, 12), (55, 70), (200, 190)]:
        click(qtbot, window, x, y)
    key(qtbot, window, Qt.Key.Key_Backspace)  # drops (200, 190), not the selection
    assert window.mask_toolbar.polygons.points == [(10, 10), (60, 12), (55, 70)]
    assert set(window.dataset.objects) == before
    qtbot.mouseDClick(window.canvas.viewport(), LEFT, pos=at(window, 15, 65))
    (new_id,) = set(window.dataset.objects) - before
    new = obj(window, new_id)
    assert new.mask == [[10.0, 10.0, 60.0, 12.0, 55.0, 70.0, 15.0, 65.0]]
    assert new.box == (10.0, 10.0, 60.0, 70.0)  # the box follows the mask's extent
    assert window.editor.selected == [new_id]
    window.undo.undo()
    assert new_id not in window.dataset.objects
    window.undo.redo()
    assert obj(window, new_id).mask == new.mask


def test_enter_closes_and_escape_cancels(qtbot, window):
    before = set(window.dataset.objects)
    key(qtbot, window, Qt.Key.Key_P)
    for x, y in [(10, 150), (60, 150), (30, 190)]:
        click(qtbot, window, x, y)
    key(qtbot, window, Qt.Key.Key_Escape)
    assert set(window.dataset.objects) == before and not window.mask_toolbar.polygons.drawing
    key(qtbot, window, Qt.Key.Key_P)
    for x, y in [(10, 150), (60, 150), (30, 190)]:
        click(qtbot, window, x, y)
    key(qtbot, window, Qt.Key.Key_Return)
    assert len(set(window.dataset.objects) - before) == 1


def test_vertex_drag_edge_insert_and_delete_are_undo_steps(qtbot, window):
    select(qtbot, window, 70, 70, 1)
    drag(qtbot, window, (100, 100), (120, 130))  # the bottom-right vertex
    assert obj(window, 1).mask == [[40.0, 40.0, 100.0, 40.0, 120.0, 130.0, 40.0, 100.0]]
    assert obj(window, 1).box == (40.0, 40.0, 120.0, 130.0)
    click(qtbot, window, 70, 40)  # on the top edge: a vertex is inserted there
    assert obj(window, 1).mask[0][:6] == [40.0, 40.0, 70.0, 40.0, 100.0, 40.0]
    click(qtbot, window, 100, 40)  # pick that vertex, then Del removes it
    key(qtbot, window, Qt.Key.Key_Delete)
    assert obj(window, 1).mask == [[40.0, 40.0, 70.0, 40.0, 120.0, 130.0, 40.0, 100.0]]
    assert 1 in window.dataset.objects  # Del removed a vertex, not the object
    for _ in range(3):
        window.undo.undo()
    assert obj(window, 1).mask == [SQUARE]
    assert obj(window, 1).box == (40.0, 40.0, 100.0, 100.0)


def test_rle_is_kept_until_edited_then_converted_with_a_message(qtbot, window, folder):
    rle = obj(window, 2).mask
    assert isinstance(rle, dict)
    select(qtbot, window, 240, 135, 2)
    polygons = window.mask_toolbar.polygons.item.edit_polygons
    assert polygons  # traced vertices shown
    window.save()
    saved = json.loads((folder / "annotations.json").read_text())
    assert next(a for a in saved["annotations"] if a["id"] == 2)["segmentation"]["counts"]
    x, y = polygons[0][0], polygons[0][1]
    drag(qtbot, window, (x, y), (x - 10, y - 10))
    edited = obj(window, 2)
    assert isinstance(edited.mask, list) and edited.iscrowd
    assert "converted" in window.statusBar().currentMessage()
    window.undo.undo()
    assert obj(window, 2).mask == rle


def test_add_part_and_flags(qtbot, window):
    select(qtbot, window, 70, 70, 1)
    key(qtbot, window, Qt.Key.Key_P, Qt.KeyboardModifier.ShiftModifier)
    for x, y in [(10, 150), (30, 150), (20, 190)]:
        click(qtbot, window, x, y)
    key(qtbot, window, Qt.Key.Key_Enter)
    assert len(obj(window, 1).mask) == 2
    assert obj(window, 1).box == (10.0, 40.0, 100.0, 190.0)
    window.editor.select([1])
    toolbar = window.mask_toolbar
    qtbot.mouseClick(toolbar.flags["difficult"], LEFT)
    assert obj(window, 1).extra["difficult"] == 1
    qtbot.mouseClick(toolbar.flags["iscrowd"], LEFT)
    assert obj(window, 1).iscrowd
    window.undo.undo()
    assert not obj(window, 1).iscrowd and toolbar.flags["difficult"].isChecked()


def test_mask_from_box_with_the_bundled_model(qtbot, window):
    from detector.geometry.polygons import mask_to_polygons
    from detector.models import load_model
    from detector.trace.mask_from_box import image_features, mask_from_box

    model = load_model("shapes")
    window.models.set_model(model)
    window.editor.select([3])
    window.mask_toolbar.mask_action.trigger()
    qtbot.waitUntil(lambda: obj(window, 3).mask is not None, timeout=30000)
    features = image_features(model, window.current_image(), exact=False)  # the GUI's path
    expected = mask_from_box(model, (165, 115, 265, 185), features=features, label=2)
    assert obj(window, 3).mask == mask_to_polygons(expected.binary(), 1.0)
    assert obj(window, 3).box == (165.0, 115.0, 265.0, 185.0)  # the drawn box is kept
    assert "Mask from box" in window.statusBar().currentMessage()
    grid = window.mask_toolbar.mask_from_box.grid
    assert grid.isVisible() and grid.values.shape == (28, 28)
    np.testing.assert_allclose(grid.values, expected.probs, atol=1e-6)
    features = window.mask_toolbar.mask_from_box._features
    assert features is not None  # kept: the next box skips the backbone
    window.undo.undo()
    assert obj(window, 3).mask is None


def test_export_labelme_from_the_window_keeps_polygons_rle_and_flags(window, tmp_path):
    from detector.formats.labelme import load_labelme

    window.export_annotations("LabelMe", tmp_path / "labelme")
    back = load_labelme(tmp_path / "labelme", image_root=window.dataset.root)
    objects = back.objects_in(1)
    assert [o.mask == [SQUARE] for o in objects] == [True, False, False]
    assert isinstance(objects[1].mask, dict) and objects[1].iscrowd
    assert objects[2].mask is None


def test_tolerance_changes_the_traced_rle_vertices(qtbot, window):
    select(qtbot, window, 240, 135, 2)
    tool = window.mask_toolbar.polygons
    default = sum(len(p) for p in tool.item.edit_polygons)  # 1 px
    window.mask_toolbar.tolerance.setValue(0.0)
    assert sum(len(p) for p in tool.item.edit_polygons) > default
    window.mask_toolbar.tolerance.setValue(6.0)
    assert sum(len(p) for p in tool.item.edit_polygons) < default
    assert isinstance(obj(window, 2).mask, dict)  # tracing alone never changes the object
