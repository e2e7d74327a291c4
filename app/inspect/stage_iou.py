"""Lecture 0, IoU of two boxes: a ground-truth box and the detection that overlaps it most,
their intersection filled, and IoU = intersection / union with the numbers filled in."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor

from app.inspect.stage import Stage
from app.inspect.widgets import set_range, spin_row, table
from app.overlays import BoxSet

TRUTH_COLOR, OTHER_COLOR = QColor("#00e5ff"), QColor("#ffd400")


def _area(box: np.ndarray) -> float:
    return float(max(box[2] - box[0], 0) * max(box[3] - box[1], 0))


class IouView(Stage):
    key = "iou"
    title = "Lecture 0 · IoU of two boxes"
    help = (
        "How detectors compare two boxes: Intersection over Union, the area both cover "
        "divided by the area either covers. IoU > 0.5 is 'decent', > 0.7 'pretty good', "
        "> 0.9 'almost perfect'. Here: a ground-truth box (cyan) and the detection that "
        "overlaps it most (yellow); without ground truth, the two best detections."
    )

    def build(self) -> None:
        self.first = spin_row(self.layout, "Ground-truth box", 0, self.refresh)

    def pair(self) -> tuple[np.ndarray, np.ndarray, str, str] | None:
        """(box A, box B, name A, name B) in image pixels, or None with fewer than two."""
        from detector.geometry.boxes import box_iou

        truth = self.ctx.truth()
        detections = self.ctx.trace.detections
        if len(truth) and len(detections):
            set_range(self.first, len(truth) - 1)
            a = truth.boxes_image[min(self.first.value(), len(truth) - 1)]
            ious = np.nan_to_num(box_iou(a[None], detections.boxes))[0]
            b = detections.boxes[int(ious.argmax())]
            return a, b, "ground truth", "best-overlapping detection"
        if len(detections) >= 2:
            return detections.boxes[0], detections.boxes[1], "detection 1", "detection 2"
        return None

    def draw(self) -> None:
        found = self.pair()
        if found is None:
            self.info.setText("Needs two boxes: draw ground truth or lower the score threshold.")
            return
        a, b, name_a, name_b = found
        inter = np.array([max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])])
        overlap = _area(inter) if (inter[2] > inter[0] and inter[3] > inter[1]) else 0.0
        union = _area(a) + _area(b) - overlap
        iou = overlap / union if union > 0 else 0.0
        self.ctx.boxes("iou.a", 30).set_boxes(BoxSet(a[None], [TRUTH_COLOR], ["A"], width=2))
        self.ctx.boxes("iou.b", 31).set_boxes(BoxSet(b[None], [OTHER_COLOR], ["B"], width=2))
        if overlap > 0:
            self.ctx.boxes("iou.inter", 29).set_boxes(
                BoxSet(inter[None], [QColor(255, 255, 255)], width=1, fill_alpha=60)
            )
        self.ctx.focus(np.stack([a, b]))
        verdict = (
            "almost perfect"
            if iou > 0.9
            else "pretty good"
            if iou > 0.7
            else ("decent" if iou > 0.5 else "poor")
        )
        rows = [
            (f"A: {name_a}", f"{a[2] - a[0]:.1f} x {a[3] - a[1]:.1f} = {_area(a):,.1f} px²"),
            (f"B: {name_b}", f"{b[2] - b[0]:.1f} x {b[3] - b[1]:.1f} = {_area(b):,.1f} px²"),
            ("intersection (white)", f"{overlap:,.1f} px²"),
            ("union = A + B - intersection", f"{union:,.1f} px²"),
            ("IoU = intersection / union", f"{overlap:,.1f} / {union:,.1f} = {iou:.3f}"),
            ("the lecture's words", verdict),
        ]
        self.info.setText(table(rows))

    def show_example(self) -> None:
        """Pick the ground-truth box whose best detection overlaps it least (but some):
        a telling IoU, not a perfect one."""
        from detector.geometry.boxes import box_iou

        truth, detections = self.ctx.truth(), self.ctx.trace.detections
        if len(truth) == 0 or len(detections) == 0:
            return
        best = np.nan_to_num(box_iou(truth.boxes_image, detections.boxes)).max(axis=1)
        best[best <= 0.3] = 2.0
        set_range(self.first, len(truth) - 1)
        self.first.setValue(int(best.argmin()))
