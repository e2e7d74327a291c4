"""Stage 2, Backbone features: one heat map per FPN level, and where a cell projects to."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor

from app.inspect.items import HeatmapItem
from app.inspect.stage import Stage
from app.inspect.widgets import combo_row, set_items, set_range, spin_row, table
from app.overlays import BoxSet


class FeaturesView(Stage):
    key = "features"
    title = "2 Backbone features"
    help = (
        "Each FPN level is a grid of C-channel feature vectors; a cell at stride s "
        "projects back to an s x s patch of the model input (the lecture's 'projecting "
        "points'). Hover the image to see the cell under the cursor."
    )

    def build(self) -> None:
        self.level = combo_row(self.layout, "Level", [], self.refresh)
        self.mode = combo_row(self.layout, "Show", ["mean activation", "one channel"], self.refresh)
        self.channel = spin_row(self.layout, "Channel", 0, self.refresh)
        self._map: np.ndarray | None = None
        self._hover_text = ""

    def level_index(self) -> int:
        return max(self.level.currentIndex(), 0)

    def values(self) -> np.ndarray:
        """float32[H, W]: what the heat map shows for the chosen level and mode."""
        trace = self.ctx.trace
        feature = trace.feature_map(trace.features[self.level_index()].name)
        if self.mode.currentIndex() == 1:
            return feature[min(self.channel.value(), feature.shape[0] - 1)]
        return feature.mean(axis=0)

    def draw(self) -> None:
        trace = self.ctx.trace
        set_items(
            self.level,
            [f"P{i + 2} ('{f.name}'), stride {f.stride[1]}" for i, f in enumerate(trace.features)],
        )
        level = trace.features[self.level_index()]
        set_range(self.channel, level.shape[0] - 1)
        if not trace.features_kept:
            self.info.setText("Features were dropped from this trace.")
            return
        self._map = self.values()
        stride_y, stride_x = level.stride
        info = trace.input
        item = self.ctx.item("features.heat", HeatmapItem, z=3)
        item.set_values(self._map, stride_x / info.scale_x, stride_y / info.scale_y)
        self._show_info()

    def _show_info(self) -> None:
        level = self.ctx.trace.features[self.level_index()]
        rows = [
            ("channels x height x width", " x ".join(str(s) for s in level.shape)),
            ("stride (y, x)", f"{level.stride[0]}, {level.stride[1]} px"),
            ("min / max shown", f"{self._map.min():.3f} / {self._map.max():.3f}"),
        ]
        self.info.setText(table(rows) + self._hover_text)

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        level = self.ctx.trace.features[self.level_index()]
        x_resized, y_resized = self.ctx.to_resized_point(x, y)
        col, row = int(x_resized // level.stride[1]), int(y_resized // level.stride[0])
        if 0 <= row < level.shape[1] and 0 <= col < level.shape[2] and x >= 0 and y >= 0:
            return row, col
        return None

    def hover(self, x: float, y: float) -> None:
        if self.ctx.trace is None or self._map is None:
            return
        cell = self.cell_at(x, y)
        if cell is None:
            return
        row, col = cell
        level = self.ctx.trace.features[self.level_index()]
        sy, sx = level.stride
        patch = self.ctx.to_image(
            np.array([[col * sx, row * sy, (col + 1) * sx, (row + 1) * sy]], np.float32)
        )
        self.ctx.boxes("features.cell").set_boxes(BoxSet(patch, [QColor("#00ff88")], width=2))
        self._hover_text = "<br>" + table(
            [
                ("cell (row, col)", f"{row}, {col}"),
                ("value", f"{self._map[row, col]:.4f}"),
                (
                    "projects to (resized px)",
                    f"x {col * sx}-{(col + 1) * sx}, y {row * sy}-{(row + 1) * sy}",
                ),
            ]
        )
        self._show_info()
