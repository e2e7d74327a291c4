"""What every stage view shares: the drawing context and the Stage base class.

A stage owns a panel (controls + numbers, shown in the dock) and draws on the canvas only
through ``InspectContext``: named box overlays (``boxes``) and its own scene items
(``item``), all prefixed ``inspect.`` and cleared when another stage is chosen. They are
children of one ``frame`` item in the traced image's pixels (scaled up when a huge image
was traced on its reduced decode).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPen, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QLabel, QVBoxLayout, QWidget

from app.inspect.ground_truth import GroundTruthSource
from app.overlays import BoxesOverlay, BoxSet
from detector.data.ground_truth import EMPTY, GroundTruth


class InspectContext:
    """``window``: the host (:class:`app.extensions.WindowHost`); ``shown``: False while the
    dock is hidden or closed (stages then draw nothing)."""

    def __init__(self, window, session) -> None:
        self.window = window
        self.state = window.state
        self.canvas = window.canvas
        self.session = session
        self.shown = False
        self.truth_source = GroundTruthSource(window.state)
        self._overlays: dict[str, BoxesOverlay] = {}
        self._items: dict[str, QGraphicsItem] = {}
        self._masks: dict[str, object] = {}
        self._truth: tuple[object, GroundTruth] | None = None
        # Everything a stage draws is a child of this item, in the traced image's pixels;
        # a huge image is traced on its reduced decode, and this item scales that up.
        self.frame = QGraphicsRectItem()
        self.frame.setPen(QPen(Qt.PenStyle.NoPen))
        self.frame.setZValue(30.0)
        self.canvas.scene().addItem(self.frame)
        self.scale = (1.0, 1.0)  # original pixels per traced pixel

    def set_image(self, loaded) -> None:
        """The traced image (``LoadedImage``): a reduced decode scales what stages draw."""
        self.scale = (loaded.scale_x, loaded.scale_y) if loaded is not None else (1.0, 1.0)
        self.frame.setTransform(QTransform.fromScale(*self.scale))
        self._truth = None

    def to_traced(self, x: float, y: float) -> tuple[float, float]:
        """An image point (canvas pixels) in the traced image's pixels."""
        return x / self.scale[0], y / self.scale[1]

    @property
    def trace(self):
        return self.session.trace

    def boxes(self, name: str, z: float = 30.0) -> BoxesOverlay:
        overlay = self.canvas.boxes_overlay(f"inspect.{name}", z)
        overlay.setParentItem(self.frame)
        self._overlays[name] = overlay
        return overlay

    def masks(self, name: str, z: float = 15.0):
        overlay = self.canvas.mask_overlay(f"inspect.{name}", z)
        overlay.setParentItem(self.frame)
        self._masks[name] = overlay
        return overlay

    def item(self, name: str, factory, z: float = 25.0):
        if name not in self._items:
            item = factory()
            item.setZValue(z)
            item.setParentItem(self.frame)
            self._items[name] = item
        self._items[name].setVisible(True)
        return self._items[name]

    def clear(self) -> None:
        for overlay in self._overlays.values():
            overlay.clear()
        for item in self._items.values():
            item.setVisible(False)
        for mask in self._masks.values():
            mask.set_masks(None, [])

    def truth(self) -> GroundTruth:
        """Ground truth of the traced image, cached per trace."""
        trace = self.trace
        if trace is None:
            return EMPTY
        if self._truth is None or self._truth[0] is not trace:
            truth = self.truth_source.current(trace.categories)
            if self.scale != (1.0, 1.0):
                truth = truth.reduced(*self.scale, self.canvas.image_size()[::-1])
            self._truth = (trace, truth)
        return self._truth[1]

    def truth_resized(self) -> np.ndarray:
        return self.trace.input.boxes_to_resized(self.truth().boxes_image)

    def to_image(self, boxes_resized: np.ndarray) -> np.ndarray:
        return self.trace.input.boxes_to_image(boxes_resized)

    def to_resized_point(self, x: float, y: float) -> tuple[float, float]:
        info = self.trace.input
        return x * info.scale_x, y * info.scale_y

    def to_image_points(self, points_resized: np.ndarray) -> np.ndarray:
        info = self.trace.input
        return np.asarray(points_resized, np.float64) / np.array([info.scale_x, info.scale_y])

    def draw_truth(self, name: str = "truth") -> None:
        from PySide6.QtGui import QColor

        truth = self.truth()
        color = QColor("#00e5ff")
        self.boxes(name, 28).set_boxes(
            BoxSet(truth.boxes_image, [color] * len(truth), dashed=True, width=1)
        )

    def focus(self, boxes_image: np.ndarray, margin: float = 2.5) -> None:
        """Zoom the canvas onto the union of ``boxes_image`` (xyxy traced-image pixels)."""
        boxes = np.asarray(boxes_image, np.float64).reshape(-1, 4) * (self.scale * 2)
        if len(boxes):
            union = [*boxes[:, :2].min(axis=0), *boxes[:, 2:].max(axis=0)]
            self.canvas.focus_box(union, margin=margin)

    def category(self, label: int) -> str:
        categories = self.trace.categories
        return categories[label] if 0 <= label < len(categories) else f"class {label}"


class Stage:
    """One step of the pipeline. Subclasses set ``key`` / ``title`` / ``help`` and
    override ``build`` (add controls to ``self.layout``), ``draw`` (trace on the canvas),
    and optionally ``hover`` / ``click`` (image pixels)."""

    key = ""
    title = ""
    help = ""

    def __init__(self, context: InspectContext) -> None:
        self.ctx = context
        self.panel = QWidget()
        self.layout = QVBoxLayout(self.panel)
        self.layout.setContentsMargins(4, 4, 4, 4)
        intro = QLabel(self.help, wordWrap=True)
        self.layout.addWidget(intro)
        self.info = QLabel("", wordWrap=True)
        self.info.setTextFormat(Qt.TextFormat.RichText)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.build()
        self.layout.addWidget(self.info)
        self.layout.addStretch(1)

    def build(self) -> None:
        """Add this stage's controls to ``self.layout``."""

    def draw(self) -> None:
        """Draw ``self.ctx.trace`` (never None here) on the canvas and fill ``self.info``."""

    def refresh(self) -> None:
        """Redraw (the dock calls it when the trace or a threshold changed)."""
        self.ctx.clear()
        if not self.ctx.shown:
            return
        if self.ctx.trace is None:
            self.info.setText("<i>No trace yet: press Trace (or open an image).</i>")
            return
        self.draw()

    def post_changed(self) -> None:
        """The box post-processing preview moved (score / NMS slider)."""

    def show_example(self) -> None:
        """Show something telling on the first image (``--screenshot --stage``): by default
        hover the centre of the first ground-truth box."""
        truth = self.ctx.truth()
        if len(truth):
            box = truth.boxes_image[0]
            self.hover(float(box[0] + box[2]) / 2, float(box[1] + box[3]) / 2)

    def hover(self, x: float, y: float) -> None:  # noqa: ARG002
        """The cursor is at image pixel (x, y)."""

    def click(self, x: float, y: float) -> bool:  # noqa: ARG002
        """A left click at image pixel (x, y); True when the stage used it."""
        return False
