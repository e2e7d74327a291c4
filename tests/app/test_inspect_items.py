"""The Inspect dock's bulk scene items paint what they were given, at the right pixels."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QGraphicsScene

from app.inspect.items import PointsItem, dot_offsets


def render(scene: QGraphicsScene, size: int, source: QRectF) -> np.ndarray:
    """uint8[size, size, 4] BGRA of ``source`` (scene frame) rendered into a square image."""
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    scene.render(painter, QRectF(0, 0, size, size), source)
    painter.end()
    return np.array(image.constBits(), np.uint8).reshape(size, size, 4).copy()


def test_points_are_dots_of_screen_size_at_mapped_pixels(qapp):
    scene = QGraphicsScene(0, 0, 100, 100)
    item = PointsItem()
    scene.addItem(item)
    item.set_points(np.array([[10.0, 10.0], [50.0, 60.0]]), [QColor("red"), QColor("blue")], 2)
    pixels = render(scene, 400, QRectF(0, 0, 100, 100))  # scene scaled 4x
    rows, cols = np.nonzero(pixels[..., 3])
    assert sorted(zip(cols.tolist(), rows.tolist(), strict=True)) == [
        (39, 39),
        (39, 40),
        (40, 39),
        (40, 40),
        (199, 239),
        (199, 240),
        (200, 239),
        (200, 240),
    ]
    assert pixels[40, 40].tolist() == [0, 0, 255, 255]  # BGRA red
    assert pixels[240, 200].tolist() == [255, 0, 0, 255]
    zoomed = render(scene, 400, QRectF(40, 50, 25, 25))  # 16x, only the second point visible
    rows, cols = np.nonzero(zoomed[..., 3])
    assert len(rows) == 4 and rows.min() == 159 and cols.min() == 159


def test_translucent_colour_is_premultiplied_and_empty_set_paints_nothing(qapp):
    scene = QGraphicsScene(0, 0, 10, 10)
    item = PointsItem()
    scene.addItem(item)
    item.set_points(np.array([[5.0, 5.0]]), QColor(255, 0, 0, 128), 1)
    pixels = render(scene, 10, QRectF(0, 0, 10, 10))
    assert pixels[5, 5].tolist() == [0, 0, 255, 128]  # un-premultiplied on read back
    item.set_points(np.zeros((0, 2)), [], 1)
    assert not render(scene, 10, QRectF(0, 0, 10, 10))[..., 3].any()


def test_dot_offsets_are_round_and_centred():
    assert len(dot_offsets(1)) == 1
    assert len(dot_offsets(2)) == 4
    four = dot_offsets(4)
    assert len(four) == 12 and four.min() == -2 and four.max() == 1
