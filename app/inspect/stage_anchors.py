"""Stage 3, Anchors: K boxes (sizes x aspect ratios) on every cell of every level, and
with ground truth, the RPN's positive / neutral / negative labels (0.7 / 0.3 rule)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QCheckBox

from app.inspect.items import ManyBoxesItem, PointsItem
from app.inspect.stage import Stage
from app.inspect.widgets import combo_row, set_items, table
from app.overlays import BoxSet
from detector.trace.labels import NEGATIVE, NEUTRAL, POSITIVE, BoxLabels, label_boxes

LABEL_COLORS = {
    POSITIVE: QColor("#33ff66"),
    NEUTRAL: QColor("#ffd400"),
    NEGATIVE: QColor("#ff4d4d"),
}
LABEL_NAMES = {POSITIVE: "positive", NEUTRAL: "neutral", NEGATIVE: "negative"}


class AnchorsView(Stage):
    key = "anchors"
    title = "3 Anchors"
    help = (
        "At every cell of every level the RPN places K anchors (sizes x aspect ratios). "
        "Hover a cell to draw its K anchors. With ground truth, an anchor is positive at "
        "IoU >= 0.7, negative below 0.3, neutral between; each object's best anchors are "
        "positive too (low-quality matches)."
    )

    def build(self) -> None:
        self.level = combo_row(self.layout, "Level", [], self.refresh)
        self.draw_all = QCheckBox("Draw every anchor of this level")
        self.draw_all.toggled.connect(lambda _on: self.refresh())
        self.layout.addWidget(self.draw_all)
        self._labels: tuple[object, BoxLabels | None] | None = None
        self._hover_text = ""

    def labels(self) -> BoxLabels | None:
        """RPN labels of every anchor, or None without ground truth (cached per trace)."""
        trace = self.ctx.trace
        if self._labels is None or self._labels[0] is not trace:
            truth = self.ctx.truth_resized()
            value = label_boxes(trace.anchors.anchors_resized, truth) if len(truth) else None
            self._labels = (trace, value)
        return self._labels[1]

    def level_slice(self) -> slice:
        info = self.ctx.trace.anchors.levels[max(self.level.currentIndex(), 0)]
        return slice(info.first, info.first + info.count)

    def draw(self) -> None:
        anchors = self.ctx.trace.anchors
        set_items(
            self.level,
            [
                f"'{a.name}': {a.grid_size[1]}x{a.grid_size[0]} cells, stride {a.stride[1]}"
                for a in anchors.levels
            ],
        )
        info = anchors.levels[max(self.level.currentIndex(), 0)]
        boxes = anchors.anchors_resized[self.level_slice()]
        centres = (boxes[:: info.num_per_location, :2] + boxes[:: info.num_per_location, 2:]) / 2
        self.ctx.item("anchors.centres", PointsItem, z=26).set_points(
            self.ctx.to_image_points(centres), QColor("#80d0ff"), width=2
        )
        labels = self.labels()
        self.ctx.draw_truth()
        if self.draw_all.isChecked():
            self._draw_level_boxes(
                boxes, None if labels is None else labels.labels[self.level_slice()]
            )
        elif labels is not None:
            chosen = np.nonzero(labels.labels[self.level_slice()] == POSITIVE)[0]
            self._draw_level_boxes(boxes[chosen], np.full(len(chosen), POSITIVE))
        self._show_info()

    def _draw_level_boxes(self, boxes: np.ndarray, labels: np.ndarray | None) -> None:
        colors = (
            [QColor(80, 200, 255, 90)] * len(boxes)
            if labels is None
            else [LABEL_COLORS[int(v)] for v in labels]
        )
        self.ctx.item("anchors.level", ManyBoxesItem, z=24).set_boxes(
            self.ctx.to_image(boxes), colors
        )

    def _show_info(self) -> None:
        anchors = self.ctx.trace.anchors
        info = anchors.levels[max(self.level.currentIndex(), 0)]
        rows = [
            (
                f"level '{a.name}' anchors",
                f"{a.count:,} ({a.grid_size[0]}x{a.grid_size[1]}x{a.num_per_location})",
            )
            for a in anchors.levels
        ]
        rows.append(("all levels", f"{len(anchors.anchors_resized):,}"))
        rows.append(
            ("sizes of this level", ", ".join(f"{s:g}" for s in sorted(set(info.sizes.tolist()))))
        )
        rows.append(
            (
                "aspect ratios (h/w)",
                ", ".join(f"{r:g}" for r in sorted(set(info.aspect_ratios.tolist()))),
            )
        )
        labels = self.labels()
        if labels is not None:
            level_labels = labels.labels[self.level_slice()]
            for value in (POSITIVE, NEUTRAL, NEGATIVE):
                rows.append(
                    (
                        f"{LABEL_NAMES[value]} (this level / all)",
                        f"{int((level_labels == value).sum()):,} / {labels.count(value):,}",
                    )
                )
            rows.append(("positive by low-quality rule", f"{int(labels.low_quality.sum())}"))
        else:
            rows.append(("ground truth", "none for this image: no labels"))
        self.info.setText(table(rows) + self._hover_text)

    def show_example(self) -> None:
        """Hover the cell of the anchor that best matches a ground-truth box, on its level."""
        labels = self.labels()
        if labels is None:
            super().show_example()
            return
        best = int(np.argmax(labels.best_iou))
        level_index = int(self.ctx.trace.anchors.locations[best][0])
        self.level.setCurrentIndex(level_index)
        box = self.ctx.to_image(self.ctx.trace.anchors.anchors_resized[[best]])[0]
        self.hover(float(box[0] + box[2]) / 2, float(box[1] + box[3]) / 2)
        self.ctx.focus(box[None], margin=4.0)

    def cell_anchor_indices(self, x: float, y: float) -> np.ndarray:
        """Flat indices of the K anchors of the chosen level's cell under image (x, y)."""
        anchors = self.ctx.trace.anchors
        level_index = max(self.level.currentIndex(), 0)
        info = anchors.levels[level_index]
        x_resized, y_resized = self.ctx.to_resized_point(x, y)
        col = int(np.clip(round(x_resized / info.stride[1]), 0, info.grid_size[1] - 1))
        row = int(np.clip(round(y_resized / info.stride[0]), 0, info.grid_size[0] - 1))
        first = anchors.flat_index(level_index, row, col, 0)
        return np.arange(first, first + info.num_per_location)

    def hover(self, x: float, y: float) -> None:
        if self.ctx.trace is None:
            return
        indices = self.cell_anchor_indices(x, y)
        anchors = self.ctx.trace.anchors
        info = anchors.levels[max(self.level.currentIndex(), 0)]
        labels = self.labels()
        texts, colors = [], []
        for k, index in enumerate(indices):
            name = f"{info.sizes[k]:g}px r{info.aspect_ratios[k]:g}"
            if labels is None:
                texts.append(name)
                colors.append(QColor("#ffffff"))
            else:
                texts.append(f"{name} IoU {labels.best_iou[index]:.2f}")
                colors.append(LABEL_COLORS[int(labels.labels[index])])
        self.ctx.boxes("anchors.cell", 32).set_boxes(
            BoxSet(self.ctx.to_image(anchors.anchors_resized[indices]), colors, texts, width=2)
        )
        _level, row, col, _k = anchors.locations[indices[0]]
        self._hover_text = f"<br>cell row {row}, col {col}: " + ", ".join(texts)
        self._show_info()
