"""Stage 7, NMS: per class, candidates by score; step forward / back / play through greedy
NMS: the box kept at each step and the boxes it suppresses, with their IoU."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableView,
    QWidget,
)

from app.inspect.nms_table import KEPT_NOW, CandidateTable, candidate_rows
from app.inspect.stage import Stage
from app.inspect.widgets import combo_row, set_items, table
from app.overlays import BoxSet


class NmsView(Stage):
    key = "nms"
    title = "7 NMS"
    help = (
        "Greedy NMS per class: take the highest-scoring remaining box, remove the boxes "
        "of that class with IoU > threshold, repeat. Step through it; the NMS IoU slider "
        "re-runs it live."
    )

    def build(self) -> None:
        self.klass = combo_row(self.layout, "Class", [], self._restart)
        row = QWidget()
        buttons = QHBoxLayout(row)
        buttons.setContentsMargins(0, 0, 0, 0)
        self.back_button = QPushButton("◀ Back")
        self.step_button = QPushButton("Step ▶")
        self.play_button = QPushButton("Play")
        for button in (self.back_button, self.step_button, self.play_button):
            buttons.addWidget(button)
        self.layout.addWidget(row)
        self.back_button.clicked.connect(self.back)
        self.step_button.clicked.connect(self.forward)
        self.play_button.clicked.connect(self.toggle_play)
        self.table_model = CandidateTable()
        self.table = QTableView(minimumHeight=200)
        self.table.setModel(self.table_model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 4)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.table.clicked.connect(lambda index: self.go_to_row(index.row()))
        self.layout.addWidget(self.table)
        self.timer = QTimer(self.panel, interval=400)
        self.timer.timeout.connect(self._tick)
        self.step = 0

    # ----- the NMS of the chosen class -------------------------------------------------------
    def class_steps(self) -> list:
        """The NMS steps of the chosen class (indices into the post's over arrays)."""
        post = self.ctx.session.post
        label = max(self.klass.currentIndex(), 0) + 1
        classes = post.over_class[post.nms_input]
        return [s for s in post.steps if classes[s.kept] == label]

    def candidate_positions(self) -> np.ndarray:
        """NMS-input positions of the chosen class's candidates, best score first."""
        post = self.ctx.session.post
        label = max(self.klass.currentIndex(), 0) + 1
        positions = np.nonzero(post.over_class[post.nms_input] == label)[0]
        scores = post.over_scores[post.nms_input[positions]]
        return positions[np.argsort(-scores, kind="stable")]

    def candidates(self) -> np.ndarray:
        """Over indices of the chosen class's NMS inputs, best score first."""
        return self.ctx.session.post.nms_input[self.candidate_positions()]

    def go_to_row(self, row: int) -> None:
        """Jump to the step that kept (or suppressed) the table's ``row``."""
        post = self.ctx.session.post
        position = int(self.candidate_positions()[row])
        by = int(post.nms.suppressed_by[position])
        steps = [s.kept for s in self.class_steps()]
        target = position if position in steps else by
        if target in steps:
            self.step = steps.index(target)
            self.refresh()

    # ----- controls --------------------------------------------------------------------------
    def forward(self) -> None:
        self.step = min(self.step + 1, max(len(self.class_steps()) - 1, 0))
        self.refresh()

    def back(self) -> None:
        self.step = max(self.step - 1, 0)
        self.refresh()

    def toggle_play(self) -> None:
        if self.timer.isActive():
            self.timer.stop()
        else:
            self.timer.start()
        self.play_button.setText("Pause" if self.timer.isActive() else "Play")

    def _tick(self) -> None:
        if self.ctx.trace is None or self.step >= len(self.class_steps()) - 1:
            self.toggle_play()
            return
        self.forward()

    def _restart(self) -> None:
        self.step = 0
        self.refresh()

    def show_example(self) -> None:
        post = self.ctx.session.post
        if len(post.nms.keep):
            self.klass.setCurrentIndex(int(post.over_class[post.nms_input[post.nms.keep[0]]]) - 1)
            step = self.class_steps()[0]
            around = post.nms_input[np.concatenate([[step.kept], step.suppressed])]
            self.ctx.focus(self.ctx.to_image(post.over_boxes_resized[around]), margin=2.0)

    def post_changed(self) -> None:
        self.refresh()

    # ----- drawing ---------------------------------------------------------------------------
    def draw(self) -> None:
        trace, post = self.ctx.trace, self.ctx.session.post
        set_items(self.klass, trace.categories[1:])
        steps = self.class_steps()
        candidates = self.candidates()
        self.step = min(self.step, max(len(steps) - 1, 0))
        rows = [
            ("suppress when IoU >", f"{post.nms_thresh:.2f}"),
            ("score threshold", f"{post.score_thresh:.2f}"),
            ("candidates of this class", f"{len(candidates)}"),
            ("kept (steps)", f"{len(steps)}"),
        ]
        self._fill_table(steps)
        if not steps:
            self.info.setText(
                table(rows) + "<br>No candidate of this class over the score threshold."
            )
            return
        step = steps[self.step]
        boxes = post.over_boxes_resized
        kept_before = post.nms_input[[s.kept for s in steps[: self.step]]]
        suppressed = post.nms_input[step.suppressed]
        current = post.nms_input[step.kept]
        removed_before = post.nms_input[
            np.concatenate([s.suppressed for s in steps[: self.step]] + [np.zeros(0, np.int64)])
        ]
        done = set(kept_before.tolist()) | set(removed_before.tolist()) | {int(current)}
        done |= set(suppressed.tolist())
        waiting = np.array([c for c in candidates.tolist() if c not in done], np.int64)
        self._draw(boxes, waiting, kept_before, suppressed, step, current)
        rows += [
            ("step", f"{self.step + 1} / {len(steps)}"),
            ("kept box score", f"{post.over_scores[current]:.4f}"),
            ("suppressed at this step", f"{len(suppressed)} (IoU > {post.nms_thresh:.2f})"),
        ]
        self.info.setText(table(rows))

    def _fill_table(self, steps: list) -> None:
        post = self.ctx.session.post
        rows = candidate_rows(
            self.candidate_positions(),
            post.over_scores[post.nms_input],
            steps,
            post.nms.suppressed_by,
            post.nms.suppress_iou,
            self.step,
        )
        self.table_model.set_rows(rows)
        now = [row for row, r in enumerate(rows) if r.state == KEPT_NOW]
        if now:
            self.table.selectRow(now[0])
            self.table.scrollTo(self.table_model.index(now[0], 0))

    def _draw(self, boxes, waiting, kept_before, suppressed, step, current) -> None:
        post = self.ctx.session.post
        image = self.ctx.to_image
        self.ctx.boxes("nms.waiting", 22).set_boxes(
            BoxSet(
                image(boxes[waiting]),
                [QColor(200, 200, 200, 160)] * len(waiting),
                dashed=True,
                width=1,
            )
        )
        self.ctx.boxes("nms.kept", 24).set_boxes(
            BoxSet(
                image(boxes[kept_before]),
                [QColor(0, 190, 0)] * len(kept_before),
                [f"{post.over_scores[k]:.2f}" for k in kept_before],
                width=1,
            )
        )
        self.ctx.boxes("nms.suppressed", 26).set_boxes(
            BoxSet(
                image(boxes[suppressed]),
                [QColor("#ff4040")] * len(suppressed),
                [f"IoU {v:.2f}" for v in step.ious],
                dashed=True,
                width=2,
            )
        )
        self.ctx.boxes("nms.current", 28).set_boxes(
            BoxSet(
                image(boxes[[current]]),
                [QColor("#33ff66")],
                [f"keep {post.over_scores[current]:.3f}"],
                width=3,
            )
        )
