"""The PR walk tab: one class's PR curve built one detection at a time, as the lecture does.

Detections from highest to lowest score: each is marked TP (it matches a free GT box with
IoU ≥ t) or FP on the canvas, its point joins the curve, and precision / recall are shown
as fractions ("Precision = 3/5 = 0.60"). At the last step the interpolated curve appears and
the AP as its area (VOC all-point, VOC 11-point, COCO 101-point), next to the engine's AP.
The walk is computed by ``detector.lecture.pr_walk`` in a worker.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.workers import describe_error

TP_COLOR, FP_COLOR, IGNORED_COLOR = QColor("#2ca02c"), QColor("#d62728"), QColor("#999999")
RECENT_STEPS = 8


class PRWalkView(QWidget):
    def __init__(self, dock) -> None:
        super().__init__()
        self.dock = dock
        self.walk = None
        self._result = None
        self._job = 0
        self._build()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.class_combo = QComboBox()
        self.step = QSpinBox(minimum=0, maximum=0, prefix="step ")
        self.back_button, self.next_button = QPushButton("◀ Back"), QPushButton("Next ▶")
        self.last_button = QPushButton("Last")
        for widget in (self.class_combo, self.step, self.back_button, self.next_button):
            row.addWidget(widget)
        row.addWidget(self.last_button)
        layout.addLayout(row)
        self.on_canvas = QCheckBox("Show each detection on the canvas", checked=True)
        layout.addWidget(self.on_canvas)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMinimumHeight(180)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "Recall")
        item.setLabel("left", "Precision")
        item.setXRange(0, 1.0, padding=0.02)
        item.setYRange(0, 1.05, padding=0.02)
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        self.path = item.plot([], [], pen=pg.mkPen("#555555", width=1))
        self.envelope = item.plot(
            [],
            [],
            pen=pg.mkPen("#1f77b4", width=2),
            fillLevel=0,
            brush=pg.mkBrush(31, 119, 180, 40),
        )
        self.points = pg.ScatterPlotItem(size=9)
        item.addItem(self.points)
        layout.addWidget(self.plot, 1)
        self.text = QLabel("", wordWrap=True, textFormat=Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.text)
        self.class_combo.currentIndexChanged.connect(lambda _i: self._compute())
        self.step.valueChanged.connect(lambda _v: self.show_step(navigate=True))
        self.back_button.clicked.connect(lambda: self.step.setValue(self.step.value() - 1))
        self.next_button.clicked.connect(lambda: self.step.setValue(self.step.value() + 1))
        self.last_button.clicked.connect(lambda: self.step.setValue(self.step.maximum()))

    # ----- data --------------------------------------------------------------------------
    def set_result(self, result) -> None:
        """A new evaluation result: refill the classes, walk the chosen one again."""
        self._result = result
        categories = result.data.categories
        current = self.class_combo.currentData()
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        for category_id in sorted(categories):
            self.class_combo.addItem(categories[category_id], category_id)
        index = self.class_combo.findData(current)
        self.class_combo.setCurrentIndex(index if index >= 0 else self._busiest(result))
        self.class_combo.blockSignals(False)
        if self.isVisible():
            self._compute()
        else:
            self._stale = True  # walked when its tab is shown (100,000 images: not per edit)

    _stale = False

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if self._stale:
            self._compute()

    @staticmethod
    def _busiest(result) -> int:
        """Index of a telling class: one with detections, then the most ground truth."""
        ids = sorted(result.data.categories)
        gt = dict.fromkeys(ids, 0)
        dt = dict.fromkeys(ids, 0)
        for counts, instances in ((gt, result.data.gt), (dt, result.data.dt)):
            for inst in instances.values():
                for label in inst.labels.tolist():
                    if label in counts:
                        counts[label] += 1
        return max(range(len(ids)), key=lambda i: (dt[ids[i]] > 0, gt[ids[i]]), default=0)

    def _compute(self) -> None:
        if self._result is None or self.class_combo.currentData() is None:
            return
        from app.evaluate.dock import snapshot

        self._stale = False
        self._job += 1
        job, category = self._job, int(self.class_combo.currentData())
        iou = self.dock.controls.settings().match_iou
        self.text.setText("<i>Walking the detections…</i>")
        self.dock.state.pool.start(
            _walk_job,
            snapshot(self._result).data,
            category,
            iou,
            key="evaluate.pr_walk",
            on_returned=lambda walk: self._walked(job, walk),
            on_errored=lambda error: self.text.setText(f"PR walk failed: {describe_error(error)}"),
        )

    def _walked(self, job: int, walk) -> None:
        if job != self._job:
            return
        self.walk = walk
        self.step.blockSignals(True)
        self.step.setMaximum(max(len(walk.steps), 1))
        self.step.setValue(min(3, len(walk.steps)) if len(walk.steps) else 0)
        self.step.blockSignals(False)
        self.show_step()

    @property
    def ready(self) -> bool:
        return self.walk is not None

    @property
    def at_end(self) -> bool:
        """The whole walk is shown (the last step and the AP)."""
        return self.walk is not None and self.step.value() >= len(self.walk.steps)

    # ----- display -----------------------------------------------------------------------
    def show_step(self, navigate: bool = False) -> None:
        """Draw the walk up to the chosen step; ``navigate``: also show that detection on
        the canvas (a step the person took, never a recompute after an edit)."""
        walk = self.walk
        if walk is None:
            return
        shown = walk.steps[: self.step.value()]
        counted = [s for s in shown if s.status != "ignored"]
        recall = np.array([s.recall for s in counted], float)
        precision = np.array([s.precision for s in counted], float)
        self.path.setData(recall, precision)
        brushes = [pg.mkBrush(TP_COLOR if s.status == "TP" else FP_COLOR) for s in counted]
        self.points.setData(recall, precision, brush=brushes)
        at_end = self.step.value() >= len(walk.steps)
        self._draw_envelope(at_end)
        self.text.setText(self._describe(shown, at_end))
        if navigate and shown and self.on_canvas.isChecked() and self.isVisible():
            self._mark(shown[-1])

    def _draw_envelope(self, at_end: bool) -> None:
        if not at_end or not len(self.walk.counted()):
            self.envelope.setData([], [])
            return
        recall, envelope = self.walk.recall, self.walk.envelope()
        xs = np.repeat(np.concatenate([[0.0], recall]), 2)[1:]
        ys = np.repeat(envelope, 2)
        self.envelope.setData(xs[: len(ys)], ys)

    def _describe(self, shown: list, at_end: bool) -> str:
        walk = self.walk
        name = self.class_combo.currentText()
        head = (
            f"<b>{name}</b>: {len(walk.steps)} detections, {walk.num_gt} ground-truth boxes, "
            f"match at IoU ≥ {walk.iou:.2f}."
        )
        if not shown:
            return head + "<br>Press Next to take the highest-scoring detection."
        recent = 3 if at_end else RECENT_STEPS
        first = max(len(shown) - recent, 0)
        lines = [self._step_line(k, shown[k]) for k in range(first, len(shown))]
        return head + (self._areas() if at_end else "") + "<br>" + "<br>".join(lines)

    def _step_line(self, k: int, step) -> str:
        color = {"TP": TP_COLOR, "FP": FP_COLOR}.get(step.status, IGNORED_COLOR).name()
        names = self.dock._image_names()
        where = names.get(step.image_id, f"image {step.image_id}")
        verdict = f"<b style='color:{color}'>{step.status}</b>"
        overlap = f" (IoU {step.iou:.2f})" if step.status != "FP" else ""
        return f"{k + 1}. score {step.score:.3f}, {where}: {verdict}{overlap} → {step.describe()}"

    def _areas(self) -> str:
        walk, result = self.walk, self._result
        category = int(self.class_combo.currentData())
        engine = result.class_ap(category, iou=walk.iou) if result is not None else float("nan")
        return (
            "<br><b>AP = area under the PR curve</b> (blue: precision made monotone, "
            "each point takes the best precision at any higher recall):"
            f"<br>VOC all-point area: <b>{walk.ap('voc2010'):.4f}</b>"
            f" · VOC 11-point: <b>{walk.ap('voc2007'):.4f}</b>"
            f" · COCO 101-point: <b>{walk.ap('coco'):.4f}</b>"
            f" (the evaluation engine's AP@{walk.iou:.2f} for this class: {engine:.4f})<br>"
        )

    def _mark(self, step) -> None:
        """Go to the step's image and outline its detection (the dock's focus mark)."""
        self.dock.focus = (step.image_id, step.box_xyxy)
        self.dock.host.go_to(step.image_id, tuple(float(v) for v in step.box_xyxy))
        self.dock.draw_marks()

    def walk_to_end(self) -> None:
        """The whole walk (``--stage pr_walk``); the canvas keeps its image and marks."""
        if self.walk is not None:
            self.step.blockSignals(True)
            self.step.setValue(self.step.maximum())
            self.step.blockSignals(False)
            self.show_step()


def _walk_job(data, category: int, iou: float):
    """Worker: ``detector.lecture.pr_walk`` (imported here: the lecture package imports
    torch, which the GUI thread should not wait for)."""
    from detector.lecture import pr_walk

    return pr_walk(data, category, iou)
