"""Lecture 3, R-CNN versus Fast R-CNN on this image: proposals labelled by the R-CNN rule,
the crops R-CNN warps to 224 x 224, the box targets of the positives, and the measured time
of a CNN per crop against one backbone pass + RoIPool / RoIAlign from shared features."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel

from app.inspect.lecture_stage import (
    NEGATIVE_COLOR,
    NEUTRAL_COLOR,
    POSITIVE_COLOR,
    LectureView,
    seconds_text,
)
from app.inspect.widgets import combo_row, set_range, spin_row, table
from app.overlays import BoxSet

SOURCES = ("RPN (the model's)", "Selective Search (fast)")
GRID_CROPS = 16
GRID_SIDE = 44
MEASURED_CROPS = 8


@dataclass
class RcnnResult:
    """Numpy only: N proposals (image pixels), their labels, positives' targets, the first
    crops, the timing and the pooled-feature differences."""

    proposals: np.ndarray
    labels: object
    positives: np.ndarray
    targets: object
    crop_index: np.ndarray
    crops: np.ndarray
    timing: object
    pool_difference: np.ndarray
    pool_levels: list[str]


def rcnn_job(model, trace, image, truth_boxes, source: int = 0, count: int = 200):
    from detector.lecture import (
        compare_rcnn,
        label_proposals,
        pool_from_trace,
        regression_targets,
        rpn_proposals,
        selective_search,
        warp_crops,
    )

    found = rpn_proposals(trace, count) if source == 0 else selective_search(image, "fast")
    proposals = found.boxes_image[:count]
    labels = label_proposals(proposals, truth_boxes)
    positives = np.flatnonzero(labels.labels == 1)
    targets = regression_targets(proposals[positives], truth_boxes[labels.best_gt[positives]])
    timing = compare_rcnn(model, image, proposals, measure=MEASURED_CROPS)
    shown = _telling_crops(labels)
    pooled = pool_from_trace(model, trace, trace.input.boxes_to_resized(proposals[shown]))
    return RcnnResult(
        proposals,
        labels,
        positives,
        targets,
        shown,
        warp_crops(image, proposals[shown]),
        timing,
        pooled.mean_abs_difference,
        pooled.levels,
    )


def _telling_crops(labels) -> np.ndarray:
    """Up to 8 positives (best IoU first), then 4 neutral and 4 negative proposals."""
    order = np.argsort(-labels.best_iou, kind="stable")
    picked = [
        order[labels.labels[order] == value][:take] for value, take in ((1, 8), (0, 4), (-1, 4))
    ]
    chosen = np.concatenate(picked)
    rest = order[~np.isin(order, chosen)][: GRID_CROPS - len(chosen)]
    return np.concatenate([chosen, rest]).astype(np.int64)


class RcnnView(LectureView):
    key = "rcnn"
    title = "Lecture 3 · R-CNN vs Fast R-CNN"
    help = (
        "R-CNN labels each proposal (positive: IoU ≥ 0.5 with a GT box, negative: < 0.3 "
        "with all, neutral between), warps its pixels to 224 x 224 and runs the CNN on "
        "every crop. Fast R-CNN runs the backbone once and crops each proposal from the "
        "shared features (RoIPool / RoIAlign). Positives learn the transform "
        "(t_x, t_y, t_w, t_h) to their GT box."
    )
    job = rcnn_job

    def build(self) -> None:
        self.source = combo_row(self.layout, "Proposals from", list(SOURCES), self.refresh)
        self.count = spin_row(self.layout, "Proposals N", 2000, self.refresh)
        self.count.setMinimum(1)
        self.count.setValue(200)
        self.positive = spin_row(self.layout, "Positive shown", 0, self.refresh)
        self.grid = QLabel(alignment=Qt.AlignmentFlag.AlignLeft)
        self.layout.addWidget(self.grid)

    def params(self) -> dict:
        return {"source": self.source.currentIndex(), "count": self.count.value()}

    def render(self, result: RcnnResult) -> None:
        labels = result.labels.labels
        for name, value, color, z in (
            ("negative", -1, NEGATIVE_COLOR, 21),
            ("neutral", 0, NEUTRAL_COLOR, 22),
            ("positive", 1, POSITIVE_COLOR, 23),
        ):
            boxes = result.proposals[labels == value]
            self.ctx.boxes(f"rcnn.{name}", z).set_boxes(
                BoxSet(boxes, [color] * len(boxes), width=1)
            )
        self.ctx.draw_truth()
        set_range(self.positive, len(result.positives) - 1)
        self.grid.setPixmap(_grid_pixmap(result.crops, labels[result.crop_index]))
        self.info.setText(self._labels(result) + self._timing(result) + self._target(result))

    def _labels(self, result: RcnnResult) -> str:
        labels = result.labels
        return table(
            [
                ("proposals N", f"{len(result.proposals):,}"),
                ("positive (green, IoU ≥ 0.5)", f"{labels.count(1):,}"),
                ("neutral (yellow, 0.3-0.5)", f"{labels.count(0):,}"),
                ("negative (red, &lt; 0.3)", f"{labels.count(-1):,}"),
                ("crops above (framed by label)", f"{len(result.crops)} warped to 224 x 224"),
            ]
        )

    def _timing(self, result: RcnnResult) -> str:
        t = result.timing
        difference = ", ".join(f"{v:.3f}" for v in result.pool_difference[:6])
        rows = [
            (f"R-CNN: backbone per crop (mean of {t.crops})", seconds_text(t.rcnn_per_crop_s)),
            (f"R-CNN: all {t.proposals:,} crops", seconds_text(t.rcnn_s)),
            ("Fast R-CNN: backbone once", seconds_text(t.backbone_s)),
            (f"Fast R-CNN: RoIPool of {t.proposals:,}", seconds_text(t.roi_pool_s)),
            (f"Fast R-CNN: RoIAlign of {t.proposals:,}", seconds_text(t.roi_align_s)),
            ("R-CNN / Fast R-CNN", f"{t.ratio:,.1f}x"),
        ]
        return (
            "<br><b>Shared computation, measured</b>"
            + table(rows)
            + "RoIPool and RoIAlign read the same shared features; they differ only in the crop "
            f"geometry (snapped vs exact bins): mean |pool - align| of the first crops: {difference}."
        )

    def _target(self, result: RcnnResult) -> str:
        if len(result.positives) == 0:
            return (
                "<br><br><i>No positive proposal (draw ground truth, or take more proposals).</i>"
            )
        row = min(self.positive.value(), len(result.positives) - 1)
        box = result.proposals[result.positives[row]][None]
        self.ctx.boxes("rcnn.chosen", 26).set_boxes(BoxSet(box, [POSITIVE_COLOR], ["p"], width=3))
        formulas = "<br>".join(result.targets.formulas(row))
        return f"<br><br><b>Box target of positive {row}</b> (IoU {result.labels.best_iou[result.positives[row]]:.2f}):<br>{formulas}"


def _grid_pixmap(crops: np.ndarray, labels: np.ndarray, columns: int = 6) -> QPixmap:
    """The warped crops, shrunk to GRID_SIDE, 6 per row, framed in their label's colour."""
    import cv2

    if len(crops) == 0:
        return QPixmap()
    colors = {1: (51, 255, 102), 0: (255, 212, 0), -1: (255, 80, 80)}
    side, pad = GRID_SIDE, 3
    rows = (len(crops) + columns - 1) // columns
    canvas = np.full((rows * (side + 2 * pad), columns * (side + 2 * pad), 3), 40, np.uint8)
    for index, (crop, label) in enumerate(zip(crops, labels, strict=True)):
        top, left = (index // columns) * (side + 2 * pad), (index % columns) * (side + 2 * pad)
        canvas[top : top + side + 2 * pad, left : left + side + 2 * pad] = colors[int(label)]
        small = cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA)
        canvas[top + pad : top + pad + side, left + pad : left + pad + side] = small
    height, width = canvas.shape[:2]
    image = QImage(canvas.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(image.copy())
