"""Lecture 1, Sliding windows: how many boxes this image has, windows at a few scales
drawn, and what classifying them with the model's box head costs (measured, extrapolated)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtGui import QColor

from app.inspect.lecture_stage import LectureView, seconds_text
from app.inspect.widgets import combo_row, table
from app.overlays import BoxSet

FRACTIONS = (0.125, 0.25, 0.5)
OBJECT_SCORE = 0.5
COST_WINDOWS = 1000


@dataclass
class SlidingResult:
    """Numpy only: the pyramid, each window's best foreground class and score, the cost."""

    scales: list
    best_label: list[np.ndarray]
    best_score: list[np.ndarray]
    cost: object


def sliding_job(model, trace, image, truth_boxes):  # noqa: ARG001
    from detector.lecture import classify_boxes, sliding_windows, window_cost, window_pyramid
    from detector.lecture.windows import trace_features

    height, width = image.shape[:2]
    scales = window_pyramid(height, width, FRACTIONS)
    features = {k: v.to(model.device) for k, v in trace_features(trace).items()}
    labels, scores = [], []
    for scale in scales:
        resized = trace.input.boxes_to_resized(scale.boxes_image)
        probs = classify_boxes(model.module, features, resized, trace.input.resized_size)
        foreground = probs[:, 1:] if probs.shape[1] > 1 else probs
        labels.append(foreground.argmax(axis=1) + 1)
        scores.append(foreground.max(axis=1))
    side = max(min(height, width) // 16, 8)
    dense = sliding_windows(height, width, (side, side), max(side // 4, 1))
    return SlidingResult(scales, labels, scores, window_cost(model, trace, dense, COST_WINDOWS))


class SlidingWindowsView(LectureView):
    key = "sliding_windows"
    title = "Lecture 1 · Sliding windows"
    help = (
        "Before proposals: slide a window over the image and classify every crop as an "
        "object or background. A box of size h x w fits at (W-w+1)(H-h+1) places, so an "
        "H x W image holds H(H+1)/2 · W(W+1)/2 boxes. Far too many to classify one by one."
    )
    job = sliding_job

    def build(self) -> None:
        names = [f"window = {int(f * 100)}% of the short side" for f in FRACTIONS]
        self.scale = combo_row(self.layout, "Draw", names, self.refresh)
        self.scale.setCurrentIndex(1)

    def render(self, result: SlidingResult) -> None:
        hits = self._draw_windows(result)
        self.ctx.draw_truth()
        model = self.ctx.state.models.model
        self.info.setText(
            table(self._rows(result, hits))
            + "<br>The cost counts only the cheapest per-window work: RoIAlign from features "
            "computed once, then the box head (an R-CNN would also run the backbone on every "
            "window). The lecture's 800 x 600 image: 180,300 · 320,400 = 57,768,120,000 "
            "boxes (the slide says ~58M: it is ~58 thousand million). Measured on "
            f"{model.device if model is not None else 'cpu'}."
        )

    def _draw_windows(self, result: SlidingResult) -> int:
        """The chosen scale's windows: faint, or green with the class where the box head
        says object; returns how many are green."""
        index = self.scale.currentIndex()
        boxes = result.scales[index].boxes_image
        scores, labels = result.best_score[index], result.best_label[index]
        hit = scores > OBJECT_SCORE
        faint = [QColor(255, 255, 255, 70)] * int((~hit).sum())
        self.ctx.boxes("windows.all", 22).set_boxes(BoxSet(boxes[~hit], faint, width=1))
        names = [
            f"{self.ctx.category(int(v))} {s:.2f}"
            for v, s in zip(labels[hit], scores[hit], strict=True)
        ]
        green = [QColor("#33ff66")] * int(hit.sum())
        self.ctx.boxes("windows.hit", 24).set_boxes(BoxSet(boxes[hit], green, names, width=2))
        return int(hit.sum())

    def _rows(self, result: SlidingResult, hits: int) -> list[tuple[str, str]]:
        from detector.lecture import box_count

        height, width = self.ctx.trace.input.original_size
        cost = result.cost
        rows = [
            ("image H x W", f"{height} x {width} px"),
            (
                "H(H+1)/2 · W(W+1)/2",
                f"{height * (height + 1) // 2:,} · {width * (width + 1) // 2:,}",
            ),
            ("every box of every size", f"<b>{box_count(height, width):,}</b>"),
        ]
        rows += [
            (f"{s.size[0]} px windows, stride {s.stride}", f"{s.count:,} windows")
            for s in result.scales
        ]
        return rows + [
            (f"box head on {cost.windows:,} windows", seconds_text(cost.seconds)),
            ("per 1,000 windows", seconds_text(cost.per_thousand_s)),
            ("all boxes of this image", seconds_text(cost.all_boxes_s)),
            (f"drawn windows the head calls an object (> {OBJECT_SCORE})", f"{hits}"),
        ]
