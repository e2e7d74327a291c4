"""Stage 8, Final detections: boxes, the 28x28 mask of one detection over its box and the
pasted masks, and keypoints when the model has them."""

from __future__ import annotations

from PySide6.QtGui import QColor

from app.inspect.items import HeatmapItem, PointsItem
from app.inspect.stage import Stage
from app.inspect.widgets import set_range, spin_row, table
from app.overlays import BoxSet
from app.palette import class_color
from detector.data.mask_layer import MaskLayer, compose, layer_step, on_grid
from detector.data.masks import MaskCrop


class FinalView(Stage):
    key = "final"
    title = "8 Final detections"
    help = (
        "What the detector outputs: boxes over the score threshold after NMS. Mask R-CNN "
        "predicts a 28x28 mask inside each box, then pastes it into the image."
    )

    def build(self) -> None:
        self.detection = spin_row(self.layout, "Detection (mask grid)", 0, self.refresh)
        self._layer: tuple[object, MaskLayer] | None = None  # (trace, its masks)

    def post_changed(self) -> None:
        self.refresh()

    def draw(self) -> None:
        trace, post = self.ctx.trace, self.ctx.session.post
        labels, scores = post.labels, post.scores
        boxes_image = self.ctx.to_image(post.boxes_resized)
        self.ctx.boxes("final.boxes", 30).set_boxes(
            BoxSet(
                boxes_image,
                [class_color(int(v)) for v in labels],
                [
                    f"{self.ctx.category(int(v))} {s:.2f}"
                    for v, s in zip(labels, scores, strict=True)
                ],
            )
        )
        exact = self.ctx.session.exact
        rows = [
            ("detections", f"{len(labels)}" + ("" if exact else " (preview; masks updating…)")),
            ("score threshold / NMS IoU", f"{post.score_thresh:.2f} / {post.nms_thresh:.2f}"),
        ]
        set_range(self.detection, max(len(labels) - 1, 0))
        if exact and trace.masks is not None and len(labels):
            rows += self._draw_mask(trace)
        if exact and trace.keypoints is not None and len(labels):
            points = trace.keypoints.keypoints_image[..., :2].reshape(-1, 2)
            self.ctx.item("final.keypoints", PointsItem, z=33).set_points(
                points, QColor("#ff00ff"), width=6
            )
            rows.append(("keypoints per detection", f"{trace.keypoints.keypoints_image.shape[1]}"))
        self.info.setText(table(rows))

    def _draw_mask(self, trace) -> list[tuple[str, str]]:
        index = min(self.detection.value(), len(trace.detections) - 1)
        if self._layer is None or self._layer[0] is not trace:
            colors = [class_color(int(v)) for v in trace.detections.labels]
            layer = mask_layer(trace.detections, colors)
            self._layer = (trace, layer)
        self.ctx.masks("final.masks").set_layer(self._layer[1])
        probs = trace.masks.mask_probs[index]
        box = trace.detections.boxes[index]
        size = probs.shape[0]
        item = self.ctx.item("final.mask_grid", HeatmapItem, z=32)
        item.set_values(probs, (box[2] - box[0]) / size, (box[3] - box[1]) / size, alpha=200)
        item.setPos(float(box[0]), float(box[1]))
        self.ctx.boxes("final.selected", 34).set_boxes(
            BoxSet(box.reshape(1, 4), [QColor("#ffffff")], [f"mask grid {size}x{size}"], width=3)
        )
        area = trace.detections.mask_area(index)
        return [
            ("mask grid", f"{size} x {size} over the box"),
            ("mask probability min / max", f"{probs.min():.3f} / {probs.max():.3f}"),
            ("pasted mask area (px > 0.5)", f"{area}"),
            ("mask pooled from level", f"{int(trace.masks.pool_level[index])}"),
        ]


def mask_layer(detections, colors: list[QColor], alpha: int = 110) -> MaskLayer:
    """The detections' pasted masks (on above 0.5), later ones on top: each mask is pasted
    one at a time over its box only (``Detections.mask_crop``), kept on the layer grid."""
    height, width = detections.image_size
    step = layer_step(height, width)
    crops, rgba = [], []
    for index, color in zip(range(len(detections)), colors, strict=False):
        crop = detections.mask_crop(index)
        piece = on_grid(MaskCrop(crop.x0, crop.y0, crop.binary), step)
        if piece is not None:
            crops.append(piece)
            rgba.append((color.red(), color.green(), color.blue(), alpha))
    return compose(crops, rgba, height, width, step)
