"""The Inspect dock: a pipeline of stages; choosing one draws it on the canvas.

Coordinator only: the TraceSession traces in workers, the sliders set its thresholds, the
stage list picks which ``Stage`` draws, and canvas hover / clicks go to that stage. It follows
the window's state (:class:`app.state.AppState`): a new current image is traced when the
dock is shown; a hidden or closed dock draws nothing (its drawings leave the canvas). Also
the extension hooks (``install``, ``--stage``, ``screenshot_ready``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.inspect.session import TraceSession
from app.inspect.sliders import ThresholdSliders
from app.inspect.stage import InspectContext, Stage
from app.inspect.stages import STAGE_CLASSES

if TYPE_CHECKING:
    from app.extensions import WindowHost

STAGE_KEYS = [cls.key for cls in STAGE_CLASSES]
OTHER_DOCK_STAGES = ["pr_walk"]  # --stage values another dock shows (the Evaluate dock)


class _ClickFilter(QObject):
    """Left clicks on the canvas viewport, in image pixels, go to the current stage."""

    def __init__(self, dock: InspectDock) -> None:
        super().__init__(dock)
        self._dock = dock

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt API
        if (
            event.type() == QEvent.Type.MouseButtonPress
            and event.button() == Qt.MouseButton.LeftButton
            and self._dock.isVisible()
        ):
            point = self._dock.window.canvas.mapToScene(event.position().toPoint())
            return self._dock.click(point.x(), point.y())
        return False


class InspectDock(QDockWidget):
    """``window`` is the host (:class:`app.extensions.WindowHost`); ``state`` its model."""

    def __init__(self, host: WindowHost) -> None:
        super().__init__("Inspect", host if isinstance(host, QWidget) else None)
        self.setObjectName("inspect_dock")
        self.window = host
        self.state = host.state
        self.session = TraceSession(self.state.pool, self)
        self.context = InspectContext(host, self.session)
        self.example_shown = False  # --screenshot --stage: the stage's example was shown
        self.stages: list[Stage] = [cls(self.context) for cls in STAGE_CLASSES]
        self._build()
        self._connect()

    # ----- construction ------------------------------------------------------------------
    def _build(self) -> None:
        body = QWidget()
        layout = QVBoxLayout(body)
        top = QHBoxLayout()
        self.trace_button = QPushButton("Trace this image")
        self.progress = QProgressBar(maximum=0, visible=False, maximumWidth=90)
        self.status = QLabel("")
        top.addWidget(self.trace_button)
        top.addWidget(self.progress)
        layout.addLayout(top)
        layout.addWidget(self.status)
        self.sliders = ThresholdSliders()
        layout.addWidget(self.sliders)
        splitter = QSplitter(Qt.Orientation.Vertical)
        self.stage_list = QListWidget()
        self.stage_list.addItems([stage.title for stage in self.stages])
        self.panels = QStackedWidget()
        for stage in self.stages:
            scroll = QScrollArea(widgetResizable=True)
            scroll.setWidget(stage.panel)
            self.panels.addWidget(scroll)
        splitter.addWidget(self.stage_list)
        splitter.addWidget(self.panels)
        splitter.setSizes([120, 600])
        layout.addWidget(splitter, 1)
        self.setWidget(body)

    def _connect(self) -> None:
        self.trace_button.clicked.connect(self.trace_current)
        self.stage_list.currentRowChanged.connect(self._on_stage_chosen)
        self.sliders.changed.connect(lambda values: self.session.set_settings(**values))
        self.session.trace_changed.connect(self._on_trace)
        self.session.post_changed.connect(self._on_post_changed)
        self.session.busy_changed.connect(self._on_busy)
        self.session.failed.connect(lambda msg: self.window.show_error("Inspect failed", msg))
        self.window.canvas.cursor_moved.connect(self._on_hover)
        self.state.image_loaded.connect(lambda _id, _decoded: self._on_image_shown())
        self.state.model_changed.connect(lambda _m: self._auto_trace())
        self.visibilityChanged.connect(self._on_visibility)
        self._click_filter = _ClickFilter(self)
        self.window.canvas.viewport().installEventFilter(self._click_filter)

    # ----- stages ------------------------------------------------------------------------
    def current_stage(self) -> Stage:
        return self.stages[max(self.stage_list.currentRow(), 0)]

    def select_stage(self, key: str) -> None:
        self.stage_list.setCurrentRow(STAGE_KEYS.index(key))

    def stage(self, key: str) -> Stage:
        return self.stages[STAGE_KEYS.index(key)]

    def _on_stage_chosen(self, row: int) -> None:
        self.panels.setCurrentIndex(max(row, 0))
        self.current_stage().refresh()

    def _on_visibility(self, visible: bool) -> None:
        """Shown: draw the current stage (tracing the image if needed); hidden or closed:
        take every drawing of every stage off the canvas."""
        self.context.shown = visible
        if visible:
            self.current_stage().refresh()
            self._auto_trace()
        else:
            self.context.clear()

    def _on_post_changed(self) -> None:
        if self.context.shown:
            self.current_stage().post_changed()

    def click(self, x: float, y: float) -> bool:
        if self.session.trace is None:
            return False
        return self.current_stage().click(*self.context.to_traced(x, y))

    def _on_hover(self, x: float, y: float) -> None:
        if self.isVisible() and self.session.trace is not None:
            self.current_stage().hover(*self.context.to_traced(x, y))

    # ----- tracing -----------------------------------------------------------------------
    def trace_current(self) -> None:
        image = self.state.current_image()
        model = self.state.models.model
        if image is None:
            self.status.setText("Open an image first.")
            return
        if model is None:
            self.status.setText("Loading the model…")
            self.state.models.ensure_loaded()
            return
        self.context.set_image(self.state.current_loaded())
        self.session.request(self.context.truth_source.image_key(), model, image)

    def _auto_trace(self) -> None:
        if self.isVisible() and self.state.current_image() is not None:
            self.trace_current()

    def _on_image_shown(self) -> None:
        self.session.clear()
        self._auto_trace()

    def _on_trace(self, trace) -> None:
        if trace is not None:
            self.sliders.show_settings(trace.settings)
            detections = len(trace.detections)
            model = self.state.models.model
            untrained = model is not None and not getattr(model, "trained", True)
            self.status.setText(
                ("RANDOM INIT (untrained) · " if untrained else "")
                + f"{detections} detections · {len(trace.rpn.proposals_resized)}"
                f" proposals · {len(trace.anchors.anchors_resized):,} anchors"
            )
            self.status.setStyleSheet("color: #b35c00;" if untrained else "")
        self.current_stage().refresh()

    def _on_busy(self, busy: bool, message: str) -> None:
        self.progress.setVisible(busy)
        if busy:
            self.status.setText(message)


def install(host: WindowHost) -> InspectDock:
    dock = InspectDock(host)
    host.add_dock(dock, Qt.DockWidgetArea.RightDockWidgetArea)  # Ctrl+I: the Inspect workspace
    dock.hide()
    return dock


def add_arguments(parser) -> None:
    parser.add_argument(
        "--stage",
        choices=[*STAGE_KEYS, *OTHER_DOCK_STAGES],
        default=None,
        help="open the Inspect dock at this stage of the first image",
    )


def apply_arguments(window, args) -> None:
    if args.stage in STAGE_KEYS:
        dock = window.docks["inspect_dock"]
        window.workspaces.switch("inspect")
        dock.select_stage(args.stage)
        window.models.ensure_loaded()


def screenshot_ready(window, args) -> bool:
    """With ``--stage``: the first image is traced and its stage drawn."""
    if args.stage not in STAGE_KEYS:
        return True
    dock = window.docks["inspect_dock"]
    if window.state.current_image() is None:
        return False
    if dock.session.trace is None or dock.session.busy:
        dock._auto_trace()
        return False
    if not dock.example_shown:
        dock.example_shown = True
        dock.current_stage().show_example()
        return False
    return not window.pool.busy()
