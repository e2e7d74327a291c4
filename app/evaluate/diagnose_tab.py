"""The Evaluate dock's "Diagnose" tab: what costs AP and where the pipeline loses objects.

"Diagnose" traces every annotated image with the current model in a worker (progress,
Cancel), keeping the traces (detector.diagnosis.TraceCache): a second run with the same
model and images re-uses them. Then, also in a worker, TIDE and a score-threshold sweep
from the cached detections. Clicking a funnel cell lists its objects; clicking one goes
to it on the canvas.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.evaluate.diagnose_views import FunnelView, SweepPlot, TideBars
from app.workers import describe_error
from detector.data.dataset import FileNames
from detector.diagnosis.run import TraceCache, diagnose_job, items_from_dataset
from detector.diagnosis.sweeps import sweep_job

JOB_KEY = "evaluate.diagnose"  # one diagnosis job at a time: a new one supersedes the old
SWEEP_VALUES = tuple(np.round(np.linspace(0.05, 0.95, 19), 2).tolist())
# label -> (Trace.rerun setting, values); the score threshold is swept after every run
SWEEPS = {
    "score threshold": ("score_thresh", SWEEP_VALUES),
    "box NMS IoU": ("nms_thresh", (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)),
    "RPN NMS IoU": ("rpn_nms_thresh", (0.5, 0.6, 0.7, 0.8, 0.9)),
    "RPN top-N": ("rpn_post_nms_top_n", (50, 100, 300, 1000)),
}


def diagnose_snapshot_job(model, dataset, categories, *, cache, items_out: list):
    """Worker (generator): the annotated images of ``dataset`` (a snapshot), then
    ``diagnose_job`` on them; the items go to ``items_out`` for later sweeps."""
    ids = [i for i, r in sorted(dataset.images.items()) if r.verified or dataset.objects_in(i)]
    items_out.extend(items_from_dataset(dataset, ids))
    return (yield from diagnose_job(model, items_out, categories, cache=cache))


def summary_job(diagnosis, previous=None):
    """Worker job: TIDE, the score sweep and the comparison with the previous run (None
    without one) of a finished diagnosis: whole-set work, never on the GUI thread."""
    from detector.diagnosis.sweeps import compare, f1_curve, f1_curves, score_sweep_fast

    base = float(diagnosis.settings.get("score_thresh", 0.0))
    values = [v for v in SWEEP_VALUES if v >= base]
    comparison = None if previous is None else compare(previous, diagnosis)
    tide = diagnosis.tide()
    f1 = {None: f1_curve(tide.tables), **f1_curves(tide.tables)}
    return tide, score_sweep_fast(diagnosis, values), comparison, f1


class DiagnoseTab(QWidget):
    """Follows the window's state (app.state.AppState): another dataset clears it."""

    def __init__(self, host) -> None:
        super().__init__()
        self.host, self.state = host, host.state
        self.cache = TraceCache(keep_features=False)
        self.diagnosis = self.previous = self.comparison = None
        self.f1: dict = {}
        self.tide = None
        self.sweep = None
        self._running = False
        self._why_target: tuple[int, np.ndarray] | None = None
        self._why_session = None
        self._inputs = None  # (model, items, categories) of the last run, for sweeps
        self._build()

    def _build(self) -> None:
        self.run_button = QPushButton("Diagnose")
        self.run_button.setToolTip("Trace every annotated image: TIDE errors, funnel, sweep")
        self.cancel_button = QPushButton("Cancel", enabled=False)
        self.progress = QProgressBar(visible=False)
        self.status = QLabel("Run Diagnose to see where the detector loses objects.")
        self.status.setWordWrap(True)
        self.bars = TideBars()
        self.funnel = FunnelView()
        self.sweep_plot = SweepPlot()
        self.sweep_box = QComboBox()
        self.sweep_box.addItems(list(SWEEPS))
        self.sweep_button = QPushButton("Sweep", enabled=False)
        self.sweep_button.setToolTip("Re-run the cached traces for each value (no backbone pass)")
        sweep_row = QHBoxLayout()
        sweep_row.addWidget(QLabel("What if:"))
        sweep_row.addWidget(self.sweep_box, 1)
        sweep_row.addWidget(self.sweep_button)
        row = QHBoxLayout()
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.progress, 1)
        self.class_box = QComboBox()
        self.class_box.addItem("All classes", None)
        self.flipped_button = QPushButton("Flipped vs previous run", enabled=False)
        self.flipped_button.setToolTip("Objects found by one of the last two runs only")
        options = QHBoxLayout()
        options.addWidget(self.class_box, 1)
        options.addWidget(self.flipped_button)
        self.f1_button = QPushButton("Use best F1 threshold", enabled=False)
        self.f1_button.setToolTip("Set the Predictions slider to the score with the best F1")
        options.addWidget(self.f1_button)
        split = QSplitter(Qt.Orientation.Vertical)
        for widget in (self.bars, self.funnel, self.sweep_plot):
            split.addWidget(widget)
        split.setSizes([160, 300, 180])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addLayout(options)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        layout.addLayout(sweep_row)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.funnel.object_requested.connect(self.show_object)
        self.funnel.why_requested.connect(self.open_why)
        self.class_box.currentIndexChanged.connect(lambda _i: self._show_class())
        self.flipped_button.clicked.connect(self.show_flipped)
        self.f1_button.clicked.connect(self.use_best_threshold)
        self.sweep_button.clicked.connect(self.run_sweep)
        self.state.dataset_opened.connect(self.reset)

    def reset(self, _dataset=None) -> None:
        """Another dataset: drop the traces and everything shown of the previous one."""
        self.cancel()
        self.cache.clear()
        self.diagnosis = self.previous = self.comparison = self.tide = self.sweep = None
        self._inputs = None
        self.sweep_button.setEnabled(False)
        self.flipped_button.setEnabled(False)
        self.f1 = {}
        self._fill_classes({})
        self._update_f1_button()
        self.funnel.clear()
        self.bars.clear_result()
        self.sweep_plot.clear_sweep()
        self.status.setText("Run Diagnose to see where the detector loses objects.")

    # ----- running -----------------------------------------------------------------------
    def run(self) -> None:
        dataset, models = self.state.dataset, self.state.models
        if dataset is None:
            self.status.setText("Open a folder with annotations first.")
            return
        if models.model is None:
            self.status.setText("Loading the model… press Diagnose again when it is loaded.")
            models.ensure_loaded()
            return
        if not dataset.objects and not any(r.verified for r in dataset.images.values()):
            self.status.setText("No annotated images to diagnose.")
            return
        categories = {c.id: c.name for c in dataset.categories.values()}
        items: list = []  # filled by the worker: what a later sweep runs on
        self._set_running(True)
        self.state.pool.start(
            diagnose_snapshot_job,
            models.model,
            dataset.snapshot(),  # 100,000 images: a few ms here, the items in the worker
            categories,
            key=JOB_KEY,
            cache=self.cache,
            items_out=items,
            on_progress=self._on_progress,
            on_returned=lambda diagnosis, m=models.model: self._on_traced(
                diagnosis, (m, items, categories)
            ),
            on_errored=self._on_failed,
        )

    def cancel(self) -> None:
        if not self._running:
            return
        self.state.pool.cancel(JOB_KEY)  # its callbacks are dropped from now on
        self.status.setText("Cancelled: the traces finished so far are kept for the next run.")
        self._set_running(False)

    def run_sweep(self) -> None:
        """Sweep the chosen setting over the last run's images, from the cached traces."""
        if self._inputs is None or self._running:
            return
        label = self.sweep_box.currentText()
        name, values = SWEEPS[label]
        self._set_running(True)
        self.state.pool.start(
            sweep_job,
            *self._inputs,
            self.cache,
            name,
            list(values),
            key=JOB_KEY,
            on_progress=self._on_progress,
            on_returned=lambda sweep: self._on_sweep(sweep, label),
            on_errored=self._on_failed,
        )

    def _on_sweep(self, sweep, label: str) -> None:
        self.sweep = sweep
        self.sweep_plot.set_sweep(sweep, label)
        self.status.setText(
            f"What if {label}: AP50 {min(sweep.map50):.3f} to {max(sweep.map50):.3f}; "
            f"{len(self.cache)} traces cached, {self.cache.backbone_passes} backbone passes"
        )
        self._set_running(False)

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.sweep_button.setEnabled(not running and self._inputs is not None)
        self.cancel_button.setEnabled(running)
        self.progress.setVisible(running)
        self._running = running

    def _on_progress(self, done: int, total: int, message: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.status.setText(f"Tracing {done}/{total}: {message}")

    def _on_failed(self, exc: BaseException) -> None:
        self._set_running(False)
        self.status.setText(f"Diagnosis failed: {describe_error(exc)}")

    def _on_traced(self, diagnosis, inputs: tuple | None = None) -> None:
        if inputs is not None:
            self._inputs = inputs
        self.previous, self.diagnosis = self.diagnosis, diagnosis
        self._fill_classes(diagnosis.data.categories)
        self.funnel.set_funnel(diagnosis.funnel, self._image_names(), self.class_box.currentData())
        self.status.setText("Traced: computing the TIDE breakdown and the sweep…")
        self.state.pool.start(
            summary_job,
            diagnosis,
            self.previous,
            key=JOB_KEY,
            on_returned=self._on_summary,
            on_errored=self._on_failed,
        )

    def _on_summary(self, summary) -> None:
        self.tide, self.sweep, self.comparison, self.f1 = summary
        self._update_f1_button()
        self.bars.set_result(self.tide, self.class_box.currentData())
        self.sweep_plot.set_sweep(self.sweep)
        self.flipped_button.setEnabled(self.comparison is not None)
        counts = self.diagnosis.funnel.counts()
        skipped = len(self.diagnosis.failures)
        self.status.setText(
            f"{len(self.diagnosis.funnel)} objects, {counts['found']} found; AP50 "
            f"{self.tide.ap:.1f}; {len(self.cache)} traces cached"
            + (f"; {skipped} unreadable images skipped" if skipped else "")
            + self._comparison_text()
        )
        self._set_running(False)

    def _comparison_text(self) -> str:
        if self.comparison is None:
            return ""
        c = self.comparison
        return f"; vs the previous run: {len(c.gained)} objects gained, {len(c.lost)} lost"

    def show_flipped(self) -> None:
        if self.comparison is None:
            return
        rows = [(i, o, "found now, missed before") for i, o in self.comparison.gained]
        rows += [(i, o, "missed now, found before") for i, o in self.comparison.lost]
        self.funnel.show_objects(rows)

    # ----- classes -----------------------------------------------------------------------
    def _fill_classes(self, categories: dict[int, str]) -> None:
        chosen = self.class_box.currentData()
        self.class_box.blockSignals(True)
        self.class_box.clear()
        self.class_box.addItem("All classes", None)
        for category_id, name in sorted(categories.items()):
            self.class_box.addItem(name, category_id)
        index = self.class_box.findData(chosen)
        self.class_box.setCurrentIndex(max(index, 0))
        self.class_box.blockSignals(False)

    def _show_class(self) -> None:
        category = self.class_box.currentData()
        if self.diagnosis is not None:
            self.funnel.set_funnel(self.diagnosis.funnel, self._image_names(), category)
        if self.tide is not None:
            self.bars.set_result(self.tide, category)
        self._update_f1_button()

    def _update_f1_button(self) -> None:
        curve = self.f1.get(self.class_box.currentData())
        self.f1_button.setEnabled(curve is not None)
        text = "Use best F1 threshold"
        self.f1_button.setText(text if curve is None else f"{text} ({curve.best_threshold:.2f})")

    def use_best_threshold(self) -> None:
        """Push the best-F1 score of the chosen class (or of all) to the Predictions slider."""
        curve = self.f1.get(self.class_box.currentData())
        dock = getattr(self.host, "docks", {}).get("PredictionsDock")
        dock = dock or getattr(self.host, "predictions_dock", None)
        if curve is None or dock is None:
            return
        dock.set_threshold(curve.best_threshold)
        self.status.setText(
            f"Predictions threshold set to {curve.best_threshold:.2f} (F1 {curve.best_f1:.2f})"
        )

    # ----- navigation --------------------------------------------------------------------
    def show_object(self, image_id: int, object_id: int) -> None:
        dataset = self.state.dataset
        obj = dataset.objects.get(object_id) if dataset is not None else None
        box = None if obj is None else tuple(float(v) for v in obj.box)
        self.host.go_to(image_id, box)

    def open_why(self, image_id: int, object_id: int) -> None:
        """Go to the object and explain it in the Inspect dock's Why? stage, once the
        Inspect dock has traced the image."""
        dataset = self.state.dataset
        dock = getattr(self.host, "docks", {}).get("inspect_dock")
        obj = dataset.objects.get(object_id) if dataset is not None else None
        self.show_object(image_id, object_id)
        if dock is None or obj is None:
            return
        self._why_target = (image_id, np.asarray(obj.box, np.float32))
        if self._why_session is not dock.session:
            self._why_session = dock.session
            dock.session.trace_changed.connect(self._choose_why)
        dock.show()
        dock.raise_()
        dock.select_stage("why")
        if dock.session.trace is not None:
            self._choose_why(dock.session.trace)

    def _choose_why(self, trace) -> None:
        target, dock = self._why_target, getattr(self.host, "docks", {}).get("inspect_dock")
        if trace is None or target is None or dock is None:
            return
        if self.state.current_image_id != target[0]:
            return
        stage = dock.stage("why")
        boxes = stage.ctx.truth().boxes_image
        same = np.flatnonzero(np.abs(boxes - target[1]).max(axis=1, initial=0) < 1e-3)
        if same.size and ("missed", int(same[0])) in stage._entries:
            stage.choose("missed", int(same[0]))
            self._why_target = None

    def _image_names(self) -> Mapping[int, str]:
        dataset = self.state.dataset
        return {} if dataset is None else FileNames(dataset.images)
