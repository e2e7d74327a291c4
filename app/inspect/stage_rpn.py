"""Stage 4, RPN: objectness per level and anchor shape, the top-k candidates before NMS,
the RPN NMS step by step, and the kept proposals (top-N)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from app.inspect.items import HeatmapItem
from app.inspect.stage import Stage
from app.inspect.widgets import combo_row, set_items, set_range, spin_row, table
from app.overlays import BoxSet

VIEWS = ["objectness heat map", "top-k before NMS", "RPN NMS stepper", "kept proposals"]


def score_colors(scores: np.ndarray) -> list[QColor]:
    """Blue (low) to red (high) for scores in 0-1."""
    return [QColor.fromHsvF(0.66 * (1 - float(np.clip(s, 0, 1))), 1.0, 1.0) for s in scores]


class RpnView(Stage):
    key = "rpn"
    title = "4 RPN"
    help = (
        "The RPN scores every anchor (objectness) and regresses it to a box. Per level it "
        "keeps the top-k by objectness, clips them, drops tiny / low ones, runs NMS per "
        "level, and passes the best N proposals to the box head."
    )

    def build(self) -> None:
        self.view = combo_row(self.layout, "View", VIEWS, self.refresh)
        self.level = combo_row(self.layout, "Level", [], self.refresh)
        self.shape = combo_row(self.layout, "Anchor shape", [], self.refresh)
        self.step = spin_row(self.layout, "RPN NMS step", 1, self.refresh)
        self.step.setMinimum(1)
        self._steps: tuple[object, list] | None = None  # (rpn stage, its NMS steps)
        buttons = QWidget()
        row = QHBoxLayout(buttons)
        row.setContentsMargins(0, 0, 0, 0)
        self.back_button = QPushButton("◀ Back")
        self.step_button = QPushButton("Step ▶")
        self.back_button.clicked.connect(self.step.stepDown)
        self.step_button.clicked.connect(self.step.stepUp)
        row.addWidget(self.back_button)
        row.addWidget(self.step_button)
        self.layout.addWidget(buttons)
        self._stepper_rows = [self.step.parentWidget(), buttons]
        self.shown = spin_row(self.layout, "Best N shown (0 = all)", 0, self.refresh)

    def draw(self) -> None:
        trace = self.ctx.trace
        levels = trace.anchors.levels
        set_items(self.level, [f"'{a.name}'" for a in levels])
        info = levels[max(self.level.currentIndex(), 0)]
        set_items(
            self.shape,
            [
                f"k={k}: {s:g}px, ratio {r:g}"
                for k, (s, r) in enumerate(zip(info.sizes, info.aspect_ratios, strict=True))
            ],
        )
        view = self.view.currentIndex()
        for widget in self._stepper_rows:
            widget.setVisible(view == 2)
        self.shown.parentWidget().setVisible(view in (1, 3))
        self.shape.parentWidget().setVisible(view == 0)
        rows = [
            ("anchors scored", f"{len(trace.rpn.objectness_logits):,}"),
            ("pre-NMS top-k per level", f"{trace.rpn.pre_nms_top_n}"),
            ("candidates (all levels)", f"{len(trace.rpn.topk_anchor):,}"),
            (
                "removed: small / low score",
                f"{int(trace.rpn.removed_small.sum())} / {int(trace.rpn.removed_score.sum())}",
            ),
            ("entered NMS", f"{len(trace.rpn.nms_input):,}"),
            ("kept by NMS", f"{len(trace.rpn.nms_keep):,}"),
            ("RPN NMS IoU / top-N", f"{trace.rpn.nms_thresh:.2f} / {trace.rpn.post_nms_top_n}"),
            ("proposals", f"{len(trace.rpn.proposals_resized):,}"),
        ]
        extra = [self._heat, self._topk, self._nms_step, self._kept][view]()
        self.info.setText(table(rows + extra))

    def objectness(self) -> np.ndarray:
        """float32[H, W]: sigmoid objectness of the chosen level and anchor shape."""
        trace = self.ctx.trace
        info = trace.anchors.levels[max(self.level.currentIndex(), 0)]
        logits = trace.rpn.objectness_logits[info.first : info.first + info.count]
        grid = logits.reshape(info.grid_size[0], info.grid_size[1], info.num_per_location)
        return 1.0 / (1.0 + np.exp(-grid[..., max(self.shape.currentIndex(), 0)]))

    def _heat(self) -> list[tuple[str, str]]:
        trace = self.ctx.trace
        info = trace.anchors.levels[max(self.level.currentIndex(), 0)]
        values = self.objectness()
        # anchor centres sit at col * stride: shift the blocks by half a cell to centre them
        item = self.ctx.item("rpn.heat", HeatmapItem, z=3)
        cell_w, cell_h = info.stride[1] / trace.input.scale_x, info.stride[0] / trace.input.scale_y
        item.set_values(values, cell_w, cell_h)
        item.setPos(-cell_w / 2, -cell_h / 2)
        return [
            ("colour scale (this map)", f"{values.min():.3f} black → {values.max():.3f} yellow"),
        ]

    def show_example(self) -> None:
        """The heat map of the level and anchor shape that respond most strongly."""
        trace = self.ctx.trace
        logits = trace.rpn.objectness_logits
        best = int(np.argmax(logits))
        level_index, _row, _col, shape = (int(v) for v in trace.anchors.locations[best])
        self.level.setCurrentIndex(level_index)
        self.refresh()
        self.shape.setCurrentIndex(shape)

    def _topk(self) -> list[tuple[str, str]]:
        rpn = self.ctx.trace.rpn
        order = np.argsort(-rpn.topk_scores, kind="stable")
        set_range(self.shown, len(order))
        shown = order[: self.shown.value() or len(order)]
        self.ctx.boxes("rpn.topk", 24).set_boxes(
            BoxSet(
                self.ctx.to_image(rpn.topk_boxes_resized[shown]),
                score_colors(rpn.topk_scores[shown]),
                width=1,
            )
        )
        return [("drawn (0 = all)", f"{len(shown):,}, coloured by objectness")]

    def nms_steps(self) -> list:
        """The RPN NMS steps of the shown trace (computed once per trace)."""
        rpn = self.ctx.trace.rpn
        if self._steps is None or self._steps[0] is not rpn:
            self._steps = (rpn, rpn.nms.steps)
        return self._steps[1]

    def _nms_step(self) -> list[tuple[str, str]]:
        rpn = self.ctx.trace.rpn
        steps = self.nms_steps()
        set_range(self.step, max(len(steps), 1))
        if not steps:
            return [("NMS steps", "0")]
        index = min(self.step.value(), len(steps)) - 1
        step = steps[index]
        boxes = rpn.topk_boxes_resized[rpn.nms_input]
        kept_before = rpn.nms.keep[:index]
        self.ctx.boxes("rpn.kept", 24).set_boxes(
            BoxSet(
                self.ctx.to_image(boxes[kept_before]),
                [QColor(0, 200, 0, 120)] * len(kept_before),
                width=1,
            )
        )
        self.ctx.boxes("rpn.suppressed", 26).set_boxes(
            BoxSet(
                self.ctx.to_image(boxes[step.suppressed]),
                [QColor("#ff4040")] * len(step.suppressed),
                [f"IoU {v:.2f}" for v in step.ious],
                dashed=True,
                width=1,
            )
        )
        self.ctx.boxes("rpn.current", 27).set_boxes(
            BoxSet(
                self.ctx.to_image(boxes[[step.kept]]),
                [QColor("#33ff66")],
                [f"kept at step {index + 1}: {rpn.topk_scores[rpn.nms_input[step.kept]]:.3f}"],
                width=3,
            )
        )
        level = int(rpn.topk_level[rpn.nms_input[step.kept]])
        return [
            ("step", f"{index + 1} / {len(steps)} (level {level})"),
            ("suppressed at this step", f"{len(step.suppressed)}"),
        ]

    def _kept(self) -> list[tuple[str, str]]:
        rpn = self.ctx.trace.rpn
        set_range(self.shown, len(rpn.proposals_resized))
        count = self.shown.value() or len(rpn.proposals_resized)
        self.ctx.boxes("rpn.proposals", 24).set_boxes(
            BoxSet(
                self.ctx.to_image(rpn.proposals_resized[:count]),
                score_colors(rpn.proposal_scores[:count]),
                width=1,
            )
        )
        return [("proposals drawn (0 = all)", f"{count}")]
