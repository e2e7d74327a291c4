"""The Evaluate dock: run the model over the annotated set, then PR curves, AP table,
confusion matrix and error filters, kept live while the person annotates.

This file is the coordinator (and the extension entry point): the views live in their
own files; ``RunController`` runs the model off the GUI thread, ``LiveEvaluation`` keeps
the numbers in step with edits. It follows the window's state (:class:`app.state.AppState`):
another dataset opened resets everything shown (numbers, curves, canvas marks); a new
current image redraws the marks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDockWidget, QSplitter, QTabWidget, QVBoxLayout, QWidget

from app.evaluate.ap_table import APTable
from app.evaluate.canvas_marks import detection_box, focus_box_set, image_marks, marks_box_set
from app.evaluate.confusion_view import ConfusionView
from app.evaluate.controls import ControlBar, ExportButton
from app.evaluate.diagnose_tab import DiagnoseTab
from app.evaluate.error_list import FILTERS, ErrorList
from app.evaluate.live import LiveEvaluation
from app.evaluate.pr_plot import OperatingPoint, PRPlot
from app.evaluate.pr_walk_view import PRWalkView
from app.evaluate.runner import RunController, RunOutput
from app.workers import describe_error
from detector.data.dataset import FileNames
from detector.evaluation.view import EvaluationView, build_view

if TYPE_CHECKING:
    from app.extensions import WindowHost


CONFUSION = "evaluate.confusion"
VIEW = "evaluate.view"  # large sets: curves and table rebuilt in a worker


class EvaluateDock(QDockWidget):
    """Emits ``view_updated`` after the curves and the table show new numbers."""

    view_updated = Signal()

    def __init__(self, host: WindowHost) -> None:
        super().__init__("Evaluate", host if isinstance(host, QWidget) else None)
        self.setObjectName("EvaluateDock")
        self.host = host
        self.state = host.state
        self.runner = RunController(self.state.pool, self)
        self.live = LiveEvaluation(self, pool=self.state.pool)
        self.view: EvaluationView | None = None
        self.focus: tuple[int, object] | None = None  # (image id, xyxy box) picked on a curve
        self._build()
        self._connect()

    # ----- construction ------------------------------------------------------------------
    def _build(self) -> None:
        self.controls = ControlBar()
        self.plot = PRPlot()
        # file names, not ids, in the tooltips
        self.plot.image_name = lambda image_id: self._image_names().get(image_id, "")
        self.table = APTable()
        self.confusion = ConfusionView()
        self.errors = ErrorList()
        self.export_button = ExportButton(self)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.plot)
        split.addWidget(self.table)
        split.setSizes([360, 200])
        self.tabs = QTabWidget()
        self.tabs.addTab(split, "PR curves && AP")
        self.tabs.addTab(self.confusion, "Confusion")
        self.tabs.addTab(self.errors, "Errors")
        self.diagnose = DiagnoseTab(self.host)
        self.tabs.addTab(self.diagnose, "Diagnose")
        self.walk = PRWalkView(self)
        self.tabs.addTab(self.walk, "PR walk")
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.controls)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.export_button)
        self.setWidget(body)
        self.setMinimumWidth(380)

    def _connect(self) -> None:
        controls = self.controls
        controls.run_button.clicked.connect(self.run)
        controls.cancel_button.clicked.connect(self.runner.cancel)
        controls.settings_changed.connect(self.refresh)
        controls.iou_type_changed.connect(self._on_iou_type_changed)
        self.runner.progress.connect(controls.show_progress)
        self.runner.running_changed.connect(controls.set_running)
        self.runner.running_changed.connect(self._on_running_changed)
        self.runner.finished.connect(self._on_run_finished)
        self.runner.failed.connect(lambda message: self._fail("Evaluation failed", message))
        self.live.updated.connect(self.refresh)
        self.live.needs_run.connect(controls.status_label.setText)
        self.plot.point_clicked.connect(self.show_point)
        self.table.category_selected.connect(controls.select_category)
        self.confusion.image_requested.connect(lambda i: self.host.go_to(i, None))
        self.errors.image_requested.connect(lambda i: self.host.go_to(i, None))
        self.errors.filter_changed.connect(self._apply_image_filter)
        self.tabs.currentChanged.connect(lambda _i: self._update_confusion())
        controls.marks_check.toggled.connect(lambda _on: self.draw_marks())
        self.visibilityChanged.connect(self._on_visibility_changed)
        self.host.canvas.image_shown.connect(self.draw_marks)
        self.state.image_loaded.connect(lambda _id, _decoded: self.draw_marks())
        self.state.model_changed.connect(self._on_model_loaded)
        self.state.dataset_opened.connect(self.reset)

    # ----- running -----------------------------------------------------------------------
    def run(self) -> None:
        """Evaluate the annotated set with the current model (loading it first if needed)."""
        dataset = self.state.dataset
        if dataset is None:
            self.controls.status_label.setText("Open a folder with annotations first.")
            return
        self.live.watch(dataset)
        models = self.state.models
        if models.model is None:
            self._run_when_loaded = True
            self.controls.status_label.setText("Loading the model…")
            models.ensure_loaded()
            return
        self._run_when_loaded = False
        self._evaluated_model = models.model
        self.live.run_started()
        if not self.runner.start(dataset, models.model, self.controls.iou_type()):
            self.live.run_ended()
            if self.runner.refusal:
                self._show_refusal(self.runner.refusal)

    _run_when_loaded = False
    _evaluated_model = None

    def _on_iou_type_changed(self, _iou_type: str) -> None:
        """bbox <-> segm changes the matching: run again (detections come from the cache)."""
        if self.live.dataset is not None and not self.runner.running:
            self.run()

    def _show_refusal(self, message: str) -> None:
        """segm cannot run: say which side lacks masks and show no stale numbers."""
        self.live.evaluator = None
        self.view = None
        self.controls.headline.setText(f"mAP – ({self.controls.iou_type()})")
        self.controls.status_label.setText(message)

    def _on_model_loaded(self, _model) -> None:
        if self._run_when_loaded:
            self.run()
        elif self.live.ready:
            self.controls.status_label.setText("The model changed: run again to evaluate it.")

    def _on_running_changed(self, running: bool) -> None:
        if not running:
            self.live.run_ended()

    def _on_run_finished(self, output: RunOutput) -> None:
        reused = f", {output.reused} from the cache" if output.reused else ""
        skipped = f", {len(output.unreadable)} unreadable skipped" if output.unreadable else ""
        images = len(output.evaluator.data.gt)
        self.controls.status_label.setText(
            f"Evaluated {images} images: model ran on {output.detected}{reused}{skipped}."
        )
        self.live.set_evaluator(output.evaluator)

    def _fail(self, title: str, message: str) -> None:
        self.controls.status_label.setText(message)
        self.host.show_error(title, message)

    def reset(self, dataset=None) -> None:
        """Forget the evaluation shown (another dataset was opened): numbers, curves, marks."""
        self.runner.cancel()
        self._run_when_loaded = False
        self.live.watch(dataset)
        self.view, self.focus = None, None
        self._view_stale, self._confusion_stale = False, True
        self.state.pool.cancel(CONFUSION)
        self.controls.status_label.setText("")
        self.controls.clear_headline()
        self.plot.clear()
        self.table.set_rows([])
        self.errors.set_errors({}, {})
        self.confusion.set_data(None, {})
        self.draw_marks()

    # ----- views -------------------------------------------------------------------------
    def refresh(self) -> None:
        """Recompute what the views show from the current result (after a run or an edit).

        A hidden dock only notes that its views are stale; showing it redraws them.
        """
        result = self.live.result()
        if result is None:
            return
        if not self.isVisible():
            self._view_stale = True
            return
        self._view_stale = False
        settings = self.controls.settings()
        if self.live.background:  # 100,000 images: ~1 s of numpy, kept off the GUI thread
            self.state.pool.start(
                build_view,
                result,
                settings,
                key=VIEW,  # a newer edit or setting supersedes this one
                on_returned=lambda view, r=result: self._show_view(r, view),
                on_errored=lambda exc: self._fail("Evaluation view failed", describe_error(exc)),
            )
            return
        self._show_view(result, build_view(result, settings))

    def _show_view(self, result, view: EvaluationView) -> None:
        if result is not self.live.result():
            return  # a newer result is being drawn
        self.view = view
        self.controls.set_categories(result.data.categories)
        self.plot.set_view(self.view, self.controls.category_id())
        self.table.set_rows(self.view.rows)
        warning, explanation = model_warning(self._evaluated_model, result.data.categories)
        self.controls.set_headline(self.view, warning)
        if explanation:
            self.controls.status_label.setText(explanation)
        self.errors.set_errors(self.view.image_errors, self._image_names())
        self._confusion_stale = True
        self._update_confusion()
        self.draw_marks()
        self.walk.set_result(result)
        self.view_updated.emit()

    _confusion_stale = True
    _view_stale = False

    def _on_visibility_changed(self, visible: bool) -> None:
        if visible and self._view_stale:
            self.refresh()
        else:
            self.draw_marks()

    def _update_confusion(self) -> None:
        """The engine's confusion matrix (with each cell's images) of the whole set: in a
        worker, and only while its tab is shown."""
        result = self.live.result()
        if result is None or self.tabs.currentWidget() is not self.confusion:
            return
        if not self._confusion_stale:
            return
        from detector.evaluation.confusion import confusion_matrix

        self._confusion_stale = False
        settings = self.controls.settings()
        self.confusion.set_data(None, {})
        self.state.pool.start(
            confusion_matrix,
            snapshot(result),
            settings.match_iou,
            settings.score_threshold,
            key=CONFUSION,  # a newer matrix supersedes this one
            on_returned=lambda data: self.confusion.set_data(data, self._image_names()),
            on_errored=lambda exc: self._fail("Confusion matrix failed", describe_error(exc)),
        )

    def _image_names(self) -> Mapping[int, str]:
        """image id -> file name, read when a row asks (no dict of every image per refresh)."""
        dataset = self.live.dataset
        return {} if dataset is None else FileNames(dataset.images)

    def _apply_image_filter(self, mode: str, image_ids: list[int]) -> None:
        if mode == "all":
            self.host.set_image_filter(None)
            return
        order = {image_id: rank for rank, image_id in enumerate(image_ids)}
        self.host.set_image_filter(
            image_ids, sort_key=lambda i: order.get(i, len(order)), label=FILTERS[mode]
        )

    # ----- canvas ------------------------------------------------------------------------
    def show_point(self, point: OperatingPoint) -> None:
        """Go to the detection behind a curve point and outline it."""
        result = self.live.result()
        if result is None:
            return
        box = detection_box(result, point.image_id, point.detection_index)
        self.focus = (point.image_id, box)
        self.controls.status_label.setText(point.describe())
        self.host.go_to(point.image_id, None if box is None else tuple(float(v) for v in box))
        self.draw_marks()

    def draw_marks(self) -> None:
        canvas = self.host.canvas
        marks_overlay = canvas.boxes_overlay("evaluation", z=40)  # above the ground truth (30)
        focus_overlay = canvas.boxes_overlay("evaluation_focus", z=45)
        result = self.live.result()
        image_id = self.state.current_image_id
        on = self.isVisible() and self.controls.marks_check.isChecked()
        if result is None or image_id is None or canvas.image is None or not on:
            marks_overlay.clear()
            focus_overlay.clear()
            return
        settings = self.controls.settings()
        marks = image_marks(result, image_id, settings.match_iou, settings.score_threshold)
        marks_overlay.set_boxes(marks_box_set(marks))
        focused = self.focus is not None and self.focus[0] == image_id
        focus_overlay.set_boxes(focus_box_set(self.focus[1] if focused else None))

    def export(self, path) -> None:
        """Plot (.png, .svg) or metrics (.csv, .json) of the view on screen."""
        from pathlib import Path

        from app.evaluate.export import export_metrics, export_plot

        result = self.live.result()
        if self.view is None or result is None:
            self.controls.status_label.setText("Nothing to export yet: run the evaluation.")
            return
        try:
            if Path(path).suffix.lower() in (".png", ".svg"):
                with self.plot.without_hover():
                    written = export_plot(self.plot.plot, path)
            else:
                written = export_metrics(self.view, result.stats_dict(), path, result)
        except OSError as exc:
            self._fail("Export failed", f"{path}: {exc.strerror or exc}")
            return
        self.controls.status_label.setText(f"Wrote {written}")

    def shows_finished_evaluation(self) -> bool:
        return self.view is not None and not self.runner.running and self.isVisible()


def model_warning(model, categories: dict[int, str]) -> tuple[str, str]:
    """(headline note, explanation) about the evaluated model, or empty strings: no model
    class maps to a dataset category (the mAP would be a meaningless 0), or random init."""
    if model is None:
        return "", ""
    from detector.data.labelmap import label_overlap
    from detector.evaluation.from_dataset import category_mapping

    if categories and not (category_mapping(model.categories, categories) >= 0).any():
        explanation = label_overlap(model.categories, categories.values()).message()
        return "no model class is a dataset category", explanation
    if not getattr(model, "trained", True):
        return "random init: untrained model", ""
    return "", ""


def snapshot(result):
    """A copy of ``result`` whose inputs later edits cannot change (for worker threads)."""
    from dataclasses import replace

    from detector.evaluation import EvaluationInput

    data = result.data
    frozen = EvaluationInput(dict(data.gt), dict(data.dt), dict(data.categories))
    return replace(result, data=frozen)


# ----- extension entry points (app/extensions.py) --------------------------------------------
def install(host: WindowHost) -> EvaluateDock:
    dock = EvaluateDock(host)
    area = Qt.DockWidgetArea.RightDockWidgetArea
    host.add_dock(dock, area, tabbed=True)  # Ctrl+Shift+E: the Evaluate workspace
    return dock


def add_arguments(parser) -> None:
    parser.add_argument(
        "--evaluate",
        action="store_true",
        help="open the Evaluate dock and evaluate the annotated set (with --screenshot: first)",
    )
    parser.add_argument(
        "--iou-type",
        dest="evaluate_iou_type",
        choices=("bbox", "segm"),
        default="bbox",
        help="with --evaluate: match by box IoU (bbox) or mask IoU (segm)",
    )


def apply_arguments(window, args) -> None:
    walk = getattr(args, "stage", None) == "pr_walk"
    if args.evaluate or walk:
        dock = window.docks["EvaluateDock"]
        window.workspaces.switch("evaluate")
        if walk:
            dock.tabs.setCurrentWidget(dock.walk)
        dock.controls.iou_type_combo.blockSignals(True)
        dock.controls.set_iou_type(getattr(args, "evaluate_iou_type", "bbox") or "bbox")
        dock.controls.iou_type_combo.blockSignals(False)
        dock.run()


def screenshot_ready(window, args) -> bool:
    walk = getattr(args, "stage", None) == "pr_walk"
    if not (args.evaluate or walk):
        return True
    dock = window.docks["EvaluateDock"]
    if dock.runner.refusal:
        return True  # segm refused: the view says which side lacks masks
    if not dock.shows_finished_evaluation():
        return False
    if walk and not dock.walk.at_end:
        if not dock.walk.ready:
            return False
        dock.walk.walk_to_end()
        return False
    return not window.pool.busy()
