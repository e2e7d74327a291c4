"""Stage 5, RoI pooling: a proposal's FPN level, RoIPool's snapped bins next to RoIAlign's
exact bins and sample points, and one sample's four neighbours with bilinear weights."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor

from app.inspect.items import LinesItem, PointsItem, grid_lines
from app.inspect.stage import Stage
from app.inspect.widgets import set_range, spin_row, table
from app.overlays import BoxSet


class RoiView(Stage):
    key = "roi"
    title = "5 RoI pooling"
    help = (
        "Each proposal is cropped from one FPN level (bigger boxes from coarser levels) "
        "into a fixed P x P grid. RoIPool snaps the box and bins to whole cells (red); "
        "RoIAlign keeps them exact (green) and reads sample points (dots) by bilinear "
        "interpolation of the 4 nearest cells: f = Σ f_ij max(0, 1-|x-x_i|) "
        "max(0, 1-|y-y_j|)."
    )

    def build(self) -> None:
        self.proposal = spin_row(self.layout, "Proposal", 0, self.refresh)
        self.sample = spin_row(self.layout, "Sample point", 0, self.refresh)
        self.channel = spin_row(self.layout, "Feature channel", 0, self.refresh)

    def geometry(self):
        """(level index, RoiAlignGeometry, RoiPoolGeometry) of the chosen proposal."""
        from detector.geometry.roi import roi_align_geometry, roi_pool_geometry

        roi = self.ctx.trace.roi
        index = self.proposal.value()
        level = int(roi.proposal_pool_level[index])
        feature = self.ctx.trace.features[level]
        height, width = feature.shape[1:]
        box = roi.proposals_resized[index]
        scale = roi.pool_scales[level]
        align = roi_align_geometry(
            box, scale, roi.pool_output_size, roi.pool_sampling_ratio, False, height, width
        )
        pool = roi_pool_geometry(box, scale, roi.pool_output_size, height, width)
        return level, align, pool

    def show_example(self) -> None:
        chain = self.ctx.trace.provenance
        if len(chain.proposal):
            self.proposal.setValue(int(chain.proposal[0]))
        self.sample.setValue(min(3, self.sample.maximum()))
        if len(chain.proposal):
            proposal = self.ctx.trace.roi.proposals_resized[chain.proposal[:1]]
            self.ctx.focus(self.ctx.to_image(proposal), margin=1.6)

    def draw(self) -> None:
        roi = self.ctx.trace.roi
        set_range(self.proposal, len(roi.proposals_resized) - 1)
        if len(roi.proposals_resized) == 0 or not roi.pool_scales:
            self.info.setText("No proposals (or no multi-scale RoIAlign) in this trace.")
            return
        level, align, pool = self.geometry()
        samples = align.sample_points_feature.reshape(-1, 2)
        set_range(self.sample, len(samples) - 1)
        self._draw_grids(align, pool)
        self.ctx.item("roi.samples", PointsItem, z=33).set_points(
            self._feature_to_image(align, samples), QColor("#33ff66"), width=3
        )
        self.ctx.boxes("roi.proposal", 30).set_boxes(
            BoxSet(
                self.ctx.to_image(roi.proposals_resized[[self.proposal.value()]]),
                [QColor("#ffd400")],
                ["proposal"],
                width=2,
            )
        )
        rows = [
            (
                "pooled from level",
                f"'{roi.pool_featmap_names[level]}' (scale {roi.pool_scales[level]:g})",
            ),
            ("output size", "x".join(str(s) for s in roi.pool_output_size)),
            ("samples per bin", f"{align.count} (sampling ratio {roi.pool_sampling_ratio})"),
            ("box on the feature grid", ", ".join(f"{v:.2f}" for v in align.box_feature)),
            ("RoIPool snapped box (cells)", ", ".join(str(int(v)) for v in pool.box_feature)),
        ]
        self.info.setText(table(rows) + "<br>" + self._bilinear(level, align))

    def _feature_to_image(self, align, points_feature: np.ndarray) -> np.ndarray:
        return self.ctx.to_image_points(align.feature_to_resized(points_feature))

    def _draw_grids(self, align, pool) -> None:
        info = self.ctx.trace.input
        xs_image = align.feature_to_resized(align.bin_edges_x) / info.scale_x
        ys_image = align.feature_to_resized(align.bin_edges_y) / info.scale_y
        self.ctx.item("roi.align", LinesItem, z=31).set_lines(
            grid_lines(xs_image, ys_image), QColor("#33ff66"), width=1
        )
        bins = pool.bins.reshape(-1, 4).astype(np.float64)  # cells, exclusive ends
        edges = np.concatenate(
            [
                bins[:, [0, 1, 2, 1]],
                bins[:, [2, 1, 2, 3]],
                bins[:, [2, 3, 0, 3]],
                bins[:, [0, 3, 0, 1]],
            ]
        )
        cell = 1.0 / pool.spatial_scale
        lines = edges * cell / np.array([info.scale_x, info.scale_y] * 2)
        self.ctx.item("roi.pool", LinesItem, z=30).set_lines(lines, QColor("#ff4040"), width=1)

    def _bilinear(self, level: int, align) -> str:
        """The chosen sample's 4 neighbours, weights and the interpolated value, in numbers."""
        index = self.sample.value()
        point = align.sample_points_feature.reshape(-1, 2)[index]
        neighbours = align.neighbours.reshape(-1, 4, 2)[index]
        weights = align.weights.reshape(-1, 4)[index]
        self.ctx.item("roi.neighbours", PointsItem, z=34).set_points(
            self._feature_to_image(align, neighbours[:, ::-1].astype(np.float32)),
            QColor("#ff00ff"),
            width=8,
        )
        self.ctx.item("roi.sample", PointsItem, z=35).set_points(
            self._feature_to_image(align, point.reshape(1, 2)), QColor("#ffffff"), width=7
        )
        lines = [f"sample {index}: x = {point[0]:.3f}, y = {point[1]:.3f} (feature cells)"]
        value_text = ""
        if self.ctx.trace.features_kept:
            feature = self.ctx.trace.feature_map(self.ctx.trace.features[level].name)
            set_range(self.channel, feature.shape[0] - 1)
            channel = feature[self.channel.value()]
            values = channel[neighbours[:, 0], neighbours[:, 1]]
            total = float((values * weights).sum())
            value_text = f"<br>f(x, y) = Σ w·f = <b>{total:.4f}</b>"
            for (row, col), weight, value in zip(neighbours, weights, values, strict=True):
                lines.append(f"cell (row {row}, col {col}): w = {weight:.4f}, f = {value:.4f}")
        else:
            for (row, col), weight in zip(neighbours, weights, strict=True):
                lines.append(f"cell (row {row}, col {col}): w = {weight:.4f}")
        return "<br>".join(lines) + value_text
