"""Masks on the canvas: ground truth (polygons, RLE) and predictions, in one overlay item."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage

TRIANGLE = [[20.0, 20.0, 100.0, 20.0, 20.0, 100.0]]  # lower-left half of a square


@pytest.fixture
def folder(tmp_path):
    from pycocotools import mask as mask_utils

    Image.fromarray(np.full((120, 160, 3), 128, np.uint8)).save(tmp_path / "img_0.png")
    square = np.zeros((120, 160), np.uint8, order="F")
    square[60:100, 120:150] = 1
    rle = mask_utils.encode(square)
    rle["counts"] = rle["counts"].decode("ascii")
    coco = {
        "images": [{"id": 1, "file_name": "img_0.png", "width": 160, "height": 120}],
        "categories": [
            {"id": 1, "name": "cat", "color": "#ff0000"},
            {"id": 2, "name": "dog", "color": "#0000ff"},
        ],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [20, 20, 80, 80],
             "segmentation": TRIANGLE, "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 2, "bbox": [120, 60, 30, 40],
             "segmentation": rle, "iscrowd": 0},
        ],
    }  # fmt: skip
    (tmp_path / "annotations.json").write_text(json.dumps(coco))
    return tmp_path


@pytest.fixture
def window(open_window, folder):
    return open_window(folder)


def mask_pixel(window, x: int, y: int) -> QColor:
    """The mask layer's colour over image pixel (x, y) (the layer covers the masks only)."""
    overlay = window.canvas.mask_overlay("masks")
    point = overlay.mapFromScene(QPointF(x + 0.5, y + 0.5)).toPoint()
    image = overlay.pixmap().toImage()
    if not image.rect().contains(point):
        return QColor(0, 0, 0, 0)
    return image.pixelColor(point)


def test_ground_truth_polygon_and_rle_masks_are_filled_in_the_class_colour(window):
    inside_triangle, outside_triangle = mask_pixel(window, 30, 30), mask_pixel(window, 90, 90)
    assert (inside_triangle.red(), inside_triangle.blue()) == (255, 0)
    assert 60 < inside_triangle.alpha() < 200  # translucent
    assert outside_triangle.alpha() == 0  # inside the box, outside the polygon
    inside_square = mask_pixel(window, 130, 80)
    assert (inside_square.red(), inside_square.blue(), inside_square.alpha() > 0) == (0, 255, True)
    assert mask_pixel(window, 110, 80).alpha() == 0


def test_masks_are_decoded_once_per_image_and_follow_edits(window, monkeypatch):
    from detector.data import mask_layer

    calls = []
    original = mask_layer.decode_mask_crop
    monkeypatch.setattr(mask_layer, "decode_mask_crop", lambda *a: calls.append(1) or original(*a))
    window.layer.redraw()
    window.editor.select([1])
    window.commands.relabel(2)  # the triangle turns blue: recomposed from the cached crop
    assert calls == []
    assert mask_pixel(window, 30, 30).blue() == 255
    window.classes_dock.set_hidden(2, True)
    assert window.canvas.mask_overlay("masks").pixmap().isNull()


def test_prediction_masks_are_faint_and_accepted_ones_keep_their_mask(qtbot, window):
    from detector.inference.detections import Detections, mask_rles

    class Model:
        categories = ["__background__", "cat"]
        device = "cpu"

    window.models.model = Model()
    detections = Detections(  # a mask filling its box [110, 5, 150, 15] of a 160 x 120 image
        boxes=np.array([[110, 5, 150, 15]], np.float32),
        labels=np.array([1]),
        scores=np.array([0.9], np.float32),
        mask_probs=np.ones((1, 28, 28), np.float32),
        image_size=(120, 160),
    )
    image_id = window.current_image_id
    window.assist.on_detections(image_id, detections, 0.01, mask_rles(detections))
    predicted = mask_pixel(window, 120, 10)
    assert predicted.red() == 255 and 0 < predicted.alpha() < mask_pixel(window, 30, 30).alpha()
    window.commands.accept_above(0.5)
    assert window.dataset.predictions_in(image_id) == []
    accepted = mask_pixel(window, 120, 10)
    assert accepted.alpha() == mask_pixel(window, 30, 30).alpha()  # drawn as ground truth now


def test_zoomed_out_view_draws_the_reduced_level_with_the_same_picture(qtbot):
    from app.canvas import ImageCanvas
    from app.overlays import reduced_levels

    image = np.zeros((1600, 2400, 3), np.uint8)
    image[:, :1200, 0] = 255  # red left half, blue right half
    image[:, 1200:, 2] = 255
    canvas = ImageCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(600, 400)
    from app.image_store import to_qimage

    qimage = to_qimage(image)
    levels = reduced_levels(qimage)
    assert [(level.width(), level.height()) for level in levels] == [(1200, 800), (600, 400)]
    canvas.set_image(image, qimage, levels=levels)
    item = canvas._pixmap_item
    assert item.level_for(1.0) is None and item.level_for(0.6) is None
    assert item.level_for(0.4) is levels[0] and item.level_for(0.2) is levels[1]
    target = QImage(canvas.viewport().size(), QImage.Format.Format_RGB32)
    target.fill(0)
    from PySide6.QtGui import QPainter

    painter = QPainter(target)
    canvas.render(painter)
    painter.end()
    left = canvas.mapFromScene(300, 800)
    right = canvas.mapFromScene(2100, 800)
    assert target.pixelColor(left).red() == 255 and target.pixelColor(right).blue() == 255


def test_moving_and_resizing_a_box_carries_its_mask(qtbot, window):
    """A mask that stayed behind its moved box would be saved wrong; both must move."""
    from detector.data.masks import bbox_from_mask

    dataset = window.dataset
    window.editor.select([1, 2])
    window.editor.move_to({1: (30.0, 25.0, 70.0, 65.0), 2: (100.0, 50.0, 130.0, 90.0)}, "Move")
    image = dataset.images[1]
    triangle, square = dataset.objects[1], dataset.objects[2]
    assert triangle.mask == [[30.0, 25.0, 70.0, 25.0, 30.0, 65.0]]  # polygon moved + halved
    x1, y1, x2, y2 = bbox_from_mask(square.mask, image)
    assert (x1, y1, x2, y2) == (100.0, 50.0, 130.0, 90.0)  # RLE moved with its box
    assert mask_pixel(window, 110, 70).alpha() > 0 and mask_pixel(window, 140, 70).alpha() == 0
    window.undo.undo()
    assert dataset.objects[1].mask == TRIANGLE
