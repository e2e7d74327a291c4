"""Stage 10, Why? Pick a detection to see its anchor, proposal and the NMS step that kept
it; pick a missed ground-truth box to see where the pipeline lost it."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QListWidget

from app.inspect.stage import Stage
from app.inspect.widgets import table
from app.overlays import BoxSet
from app.palette import class_color
from detector.trace.why import explain_detection, explain_missed, missed_ground_truth


class WhyView(Stage):
    key = "why"
    title = "10 Why?"
    help = (
        "Click a detection (or pick it below) to see the anchor and proposal it came from "
        "and the NMS step that kept it. Click a missed ground-truth box (cyan) to see "
        "where it was lost."
    )

    def build(self) -> None:
        self.choices = QListWidget(minimumHeight=120)
        self.choices.currentRowChanged.connect(lambda _row: self._explain_chosen())
        self.layout.addWidget(self.choices)
        self._entries: list[tuple[str, int]] = []
        self.answer = None

    def draw(self) -> None:
        trace, truth = self.ctx.trace, self.ctx.truth()
        self._entries = [("detection", i) for i in range(len(trace.detections))]
        missed = np.nonzero(missed_ground_truth(trace, self.ctx.truth_resized(), truth.labels))[0]
        self._entries += [("missed", int(g)) for g in missed]
        row = self.choices.currentRow()
        self.choices.blockSignals(True)
        self.choices.clear()
        for kind, index in self._entries:
            if kind == "detection":
                label = int(trace.detections.labels[index])
                text = (
                    f"detection {index}: {self.ctx.category(label)} "
                    f"{trace.detections.scores[index]:.2f}"
                )
            else:
                text = f"MISSED ground truth {index}: {truth.names[index]}"
            self.choices.addItem(text)
        self.choices.setCurrentRow(min(row, len(self._entries) - 1))
        self.choices.blockSignals(False)
        self.ctx.draw_truth()
        self.ctx.boxes("why.detections", 20).set_boxes(
            BoxSet(
                trace.detections.boxes,
                [QColor(255, 255, 255, 120)] * len(trace.detections),
                dashed=True,
                width=1,
            )
        )
        self._explain_chosen()

    def show_example(self) -> None:
        missed = [entry for entry in self._entries if entry[0] == "missed"]
        if missed:
            self.choose(*missed[0])
            self.ctx.focus(self.ctx.truth().boxes_image[[missed[0][1]]], margin=3.0)
        elif ("detection", 0) in self._entries:  # nothing missed: trace the best detection
            self.choose("detection", 0)
            self.ctx.focus(self.ctx.trace.detections.boxes[:1], margin=4.0)

    def choose(self, kind: str, index: int) -> None:
        self.choices.setCurrentRow(self._entries.index((kind, index)))

    def click(self, x: float, y: float) -> bool:
        trace = self.ctx.trace
        for kind, boxes in (
            ("missed", self.ctx.truth().boxes_image),
            ("detection", trace.detections.boxes),
        ):
            inside = np.nonzero(
                (boxes[:, 0] <= x) & (x <= boxes[:, 2]) & (boxes[:, 1] <= y) & (y <= boxes[:, 3])
            )[0]
            for index in inside[np.argsort(_areas(boxes[inside]))].tolist():
                if (kind, index) in self._entries:
                    self.choose(kind, index)
                    return True
        return False

    def _explain_chosen(self) -> None:
        row = self.choices.currentRow()
        if self.ctx.trace is None or not 0 <= row < len(self._entries):
            self.info.setText(
                table(
                    [
                        ("detections", f"{len(self.ctx.trace.detections)}"),
                        ("missed ground truth", f"{sum(k == 'missed' for k, _ in self._entries)}"),
                    ]
                )
                if self.ctx.trace is not None
                else ""
            )
            return
        kind, index = self._entries[row]
        if kind == "detection":
            self._explain_detection(index)
        else:
            self._explain_missed(index)

    def _explain_detection(self, index: int) -> None:
        trace = self.ctx.trace
        answer = explain_detection(trace, index)
        self.answer = answer
        chain = trace.provenance
        boxes = np.stack(
            [
                chain.anchor_boxes_resized[index],
                chain.proposal_boxes_resized[index],
                chain.boxes_resized[index],
            ]
        )
        self.ctx.boxes("why.chain", 32).set_boxes(
            BoxSet(
                self.ctx.to_image(boxes),
                [QColor("#ff9900"), QColor("#ffd400"), class_color(answer.label)],
                ["anchor", "proposal", "detection"],
                width=2,
            )
        )
        self.ctx.boxes("why.suppressed", 30).set_boxes(
            BoxSet(
                self.ctx.to_image(trace.roi.over_boxes_resized[answer.suppressed]),
                [QColor("#ff4040")] * len(answer.suppressed),
                [f"IoU {v:.2f}" for v in answer.suppressed_iou],
                dashed=True,
                width=1,
            )
        )
        level, row, col, k = answer.anchor_location
        rows = [
            ("class, score", f"{self.ctx.category(answer.label)}, {answer.score:.4f}"),
            (
                "anchor",
                f"#{answer.anchor}: level '{trace.anchors.levels[level].name}', "
                f"cell ({row}, {col}), shape k={k}",
            ),
            (
                "anchor → proposal t",
                ", ".join(f"{v:+.3f}" for v in chain.anchor_to_proposal[index]),
            ),
            (
                "proposal",
                f"#{answer.proposal}, objectness {trace.rpn.proposal_scores[answer.proposal]:.3f}",
            ),
            ("proposal → box t", ", ".join(f"{v:+.3f}" for v in chain.proposal_to_box[index])),
            ("kept at NMS step", f"{answer.step + 1} of its class"),
            ("suppressed there", f"{len(answer.suppressed)} boxes"),
        ]
        self.info.setText(table(rows))

    def _explain_missed(self, index: int) -> None:
        trace, truth = self.ctx.trace, self.ctx.truth()
        gt_resized = self.ctx.truth_resized()[index]
        answer = explain_missed(trace, gt_resized, int(truth.labels[index]))
        self.answer = answer
        boxes, colors, labels = [gt_resized], [QColor("#00e5ff")], ["missed"]
        if answer.proposal >= 0:
            boxes.append(trace.roi.proposals_resized[answer.proposal])
            colors.append(QColor("#ffd400"))
            labels.append("best proposal")
        if answer.suppressor_over >= 0:
            boxes.append(trace.roi.over_boxes_resized[answer.suppressor_over])
            colors.append(QColor("#ff4040"))
            labels.append("suppressed by")
        self.ctx.boxes("why.chain", 32).set_boxes(
            BoxSet(self.ctx.to_image(np.stack(boxes)), colors, labels, width=2)
        )
        self.ctx.boxes("why.suppressed", 30).clear()
        rows = [("lost at", answer.stage)] + [
            (k, f"{v:g}" if float(v).is_integer() else f"{v:.3f}")
            for k, v in answer.numbers.items()
        ]
        self.info.setText(f"<b>{answer.reason}</b><br>" + table(rows))


def _areas(boxes: np.ndarray) -> np.ndarray:
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
