"""Stage 1, Input: the image as given and as the model sees it (resized, normalised)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPixmap, QTransform
from PySide6.QtWidgets import QCheckBox, QGraphicsPixmapItem

from app.inspect.stage import Stage
from app.inspect.widgets import table
from app.overlays import BoxSet


def normalised_view(image: np.ndarray, size_hw: tuple[int, int], mean, std) -> np.ndarray:
    """The model input (image resized to ``size_hw``, (x/255 - mean) / std), stretched to
    0-255 per channel for display."""
    height, width = size_hw
    qimage = QImage(
        np.ascontiguousarray(image).data,
        image.shape[1],
        image.shape[0],
        3 * image.shape[1],
        QImage.Format.Format_RGB888,
    )
    resized = qimage.scaled(
        width,
        height,
        Qt.AspectRatioMode.IgnoreAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )
    resized = resized.convertToFormat(QImage.Format.Format_RGB888)
    stride = resized.bytesPerLine()
    raw = np.frombuffer(resized.constBits(), np.uint8).reshape(height, stride)
    pixels = raw[:, : 3 * width].reshape(height, width, 3).astype(np.float32)
    normalised = (pixels / 255.0 - np.array(mean, np.float32)) / np.array(std, np.float32)
    low, high = normalised.min(axis=(0, 1)), normalised.max(axis=(0, 1))
    return ((normalised - low) / np.maximum(high - low, 1e-6) * 255).astype(np.uint8)


class InputView(Stage):
    key = "input"
    title = "1 Input"
    help = (
        "The model first resizes the image (shorter side to min_size, longer side at most "
        "max_size), normalises each channel with the ImageNet mean / std, and pads the "
        "batch to a multiple of 32. Anchors, proposals and RoIs live in the resized frame."
    )

    def build(self) -> None:
        self.show_input = QCheckBox("Show the normalised model input")
        self.show_input.toggled.connect(lambda _on: self.refresh())
        self.layout.addWidget(self.show_input)

    def draw(self) -> None:
        info = self.ctx.trace.input
        (oh, ow), (rh, rw), (ph, pw) = info.original_size, info.resized_size, info.padded_size
        padded_image = self.ctx.to_image(np.array([[0, 0, pw, ph]], np.float32))
        self.ctx.boxes("input.frame").set_boxes(
            BoxSet(padded_image, [QColor("#ffcc00")], [f"padded batch {pw}x{ph}"], dashed=True)
        )
        image = self.ctx.window.canvas.image
        if self.show_input.isChecked() and image is not None:
            view = np.ascontiguousarray(
                normalised_view(image, (rh, rw), info.image_mean, info.image_std)
            )
            item = self.ctx.item("input.normalised", QGraphicsPixmapItem, z=2)
            qimage = QImage(view.data, rw, rh, 3 * rw, QImage.Format.Format_RGB888)
            item.setPixmap(QPixmap.fromImage(qimage.copy()))
            item.setTransform(QTransform.fromScale(ow / rw, oh / rh))
        self.info.setText(
            table(
                [
                    ("original (w x h)", f"{ow} x {oh}"),
                    ("resized (model input)", f"{rw} x {rh}"),
                    ("padded batch", f"{pw} x {ph}"),
                    ("scale factor", f"{info.resize_scale:.4f}"),
                    ("applied scale x / y", f"{info.scale_x:.4f} / {info.scale_y:.4f}"),
                    ("padding right / bottom", f"{pw - rw} / {ph - rh} px"),
                    ("mean (R, G, B)", ", ".join(f"{v:.3f}" for v in info.image_mean)),
                    ("std (R, G, B)", ", ".join(f"{v:.3f}" for v in info.image_std)),
                ]
            )
        )
