"""Lecture 2, Region proposals: OpenCV's Selective Search (fast / quality) next to the
model's RPN on this image: proposals drawn, count, time and recall of the ground truth."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor

from app.inspect.lecture_stage import LectureView, seconds_text
from app.inspect.widgets import combo_row, spin_row

TARGET_RECALLS = (0.5, 0.8, 1.0)
SOURCES = ("Selective Search", "RPN (the model's)")


@dataclass
class ProposalsResult:
    """The two methods' ProposalSets and RecallTables (numpy only)."""

    search: object
    rpn: object
    search_table: object
    rpn_table: object
    num_truth: int


def proposals_job(model, trace, image, truth_boxes, mode: str = "fast"):
    from detector.lecture import recall_table, rpn_proposals, rpn_seconds, selective_search

    search = selective_search(image, mode)
    rpn = rpn_proposals(trace, seconds=rpn_seconds(model, image))
    return ProposalsResult(
        search,
        rpn,
        recall_table(search, truth_boxes),
        recall_table(rpn, truth_boxes),
        len(truth_boxes),
    )


class SelectiveSearchView(LectureView):
    key = "selective_search"
    title = "Lecture 2 · Region proposals"
    help = (
        "Region proposals: a small set of boxes likely to cover every object. Selective "
        "Search merges similar superpixels bottom-up (no learning; ~2000 boxes in seconds "
        "on a CPU). Faster R-CNN learns them instead (the RPN). Recall@N: the share of "
        "ground-truth boxes some top-N proposal overlaps with IoU ≥ t."
    )
    job = proposals_job

    def build(self) -> None:
        self.mode = combo_row(
            self.layout, "Selective Search mode", ["fast", "quality"], self.refresh
        )
        self.source = combo_row(self.layout, "Draw", list(SOURCES), self.refresh)
        self.top = spin_row(self.layout, "Top N drawn", 2000, self.refresh)
        self.top.setValue(100)

    def params(self) -> dict:
        return {"mode": self.mode.currentText()}

    def render(self, result: ProposalsResult) -> None:
        chosen = result.search if self.source.currentIndex() == 0 else result.rpn
        boxes = chosen.boxes_image[: self.top.value()]
        color = (
            QColor(255, 170, 0, 170)
            if self.source.currentIndex() == 0
            else QColor(80, 200, 255, 170)
        )
        from app.overlays import BoxSet

        self.ctx.boxes("proposals", 22).set_boxes(BoxSet(boxes, [color] * len(boxes), width=1))
        self.ctx.draw_truth()
        self.info.setText(self._table(result) + self._needed(result) + self._notes(result))

    def _table(self, result: ProposalsResult) -> str:
        methods = [(result.search, result.search_table), (result.rpn, result.rpn_table)]
        head = "".join(f"<th>{p.method}</th>" for p, _ in methods)
        rows = [
            ("proposals", [f"{p.count:,}" for p, _ in methods]),
            ("time", [seconds_text(p.seconds) for p, _ in methods]),
        ]
        for iou in (0.5, 0.7):
            for top_n in (100, 300, 1000, 2000):
                rows.append(
                    (
                        f"recall@{top_n}, IoU {iou}",
                        [
                            _percent(t.recall[(iou, top_n)]) + ("*" if top_n > p.count else "")
                            for p, t in methods
                        ],
                    )
                )
        body = "".join(
            f"<tr><td>{name}</td>"
            + "".join(f"<td align='right'><b>{v}</b></td>" for v in values)
            + "</tr>"
            for name, values in rows
        )
        return (
            f"<table cellspacing='3'><tr><th></th>{head}</tr>{body}</table>"
            "* the method gave fewer proposals than N: all of them counted."
        )

    def _needed(self, result: ProposalsResult) -> str:
        if result.num_truth == 0:
            return "<br><i>No ground truth on this image: draw boxes to measure recall.</i>"
        lines = ["<br><b>Proposals needed for the same recall</b> (Selective Search vs RPN):"]
        for iou in (0.5, 0.7):
            for recall in TARGET_RECALLS:
                values = [t.needed(iou, recall) for t in (result.search_table, result.rpn_table)]
                text = " vs ".join("never" if v is None else f"{v:,}" for v in values)
                lines.append(f"recall {_percent(recall)} at IoU {iou}: {text}")
        return "<br>".join(lines)

    def _notes(self, result: ProposalsResult) -> str:
        note = f" Selective Search {result.search.note}." if result.search.note else ""
        return (
            f"<br><br>{result.num_truth} ground-truth boxes (dashed).{note} The RPN time is "
            "transform + backbone + RPN; its proposals come ranked by objectness."
        )


def _percent(value: float) -> str:
    return "n/a" if value != value else f"{value * 100:.0f}%"
