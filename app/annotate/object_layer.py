"""Draws the current image's ground truth and predictions; answers "what is under (x, y)?".

Ground truth is solid in the class colour, predictions dashed with class and score; each
set is ONE overlay item (app.overlays.BoxesOverlay), so 2,000 boxes stay one paint call.
Masks (ground truth, accepted and unaccepted predictions) fill translucently in the class
colour, all of them in one RGBA layer (app.overlays.MaskOverlay, see detector.data.mask_layer).
The layer redraws from the dataset whenever it changes (it never holds edited state).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor

from app.annotate.selection_item import SelectionItem
from app.overlays import BoxSet
from detector.data.mask_layer import MaskCache

OBJECT_ALPHA = 105  # ground truth (and accepted predictions): clearly visible
PREDICTION_ALPHA = 60  # unaccepted predictions: fainter, like their dashed outlines

EMPTY = np.zeros((0, 4), np.float32)


class ObjectLayer:
    """Boxes of one image: ``object_ids``/``object_boxes`` and ``prediction_ids``/``..._boxes``."""

    def __init__(self, canvas) -> None:
        self.canvas = canvas
        self.dataset = None
        self.image_id: int | None = None
        self.hidden_categories: set[int] = set()
        self.threshold = 0.5
        self.prediction_names: dict[int, str] = {}  # classes only predictions know so far
        self.excluded: set[int] = set()  # objects being dragged: drawn by the selection item
        self.object_ids = np.zeros(0, np.int64)
        self.object_boxes = EMPTY
        self.prediction_ids = np.zeros(0, np.int64)
        self.prediction_boxes = EMPTY
        self.masks = MaskCache()
        self.selection = SelectionItem()
        self.selection.setZValue(50)
        canvas.scene().addItem(self.selection)

    def set_overlays_visible(self, visible: bool) -> None:
        """Show or hide the annotation and prediction overlays (Inspect hides them)."""
        self.canvas.boxes_overlay("objects", z=30).setVisible(visible)
        self.canvas.boxes_overlay("predictions", z=20).setVisible(visible)
        self.canvas.mask_overlay("masks", z=5).setVisible(visible)
        self.selection.setVisible(visible)

    def show(self, dataset, image_id: int | None) -> None:
        self.dataset, self.image_id = dataset, image_id
        self.masks.reset()  # decoded masks are cached per image
        self.redraw()

    def color(self, category_id: int) -> QColor:
        category = self.dataset.categories.get(category_id) if self.dataset else None
        return QColor(category.color if category else "#cccccc")

    def name(self, category_id: int) -> str:
        category = self.dataset.categories.get(category_id) if self.dataset else None
        if category is not None:
            return category.name
        return self.prediction_names.get(category_id, f"class {category_id}")

    def redraw(self) -> None:
        objects, predictions = self._visible()
        self.object_ids = np.array([a.id for a in objects], np.int64)
        self.object_boxes = _boxes(objects)
        drawn = [a for a in objects if a.id not in self.excluded]
        self.canvas.boxes_overlay("objects", z=30).set_boxes(
            BoxSet(
                _boxes(drawn),
                [self.color(a.category_id) for a in drawn],
                [self.name(a.category_id) for a in drawn],
                fill_alpha=28,
            )
        )
        self.prediction_ids = np.array([a.id for a in predictions], np.int64)
        self.prediction_boxes = _boxes(predictions)
        self.canvas.boxes_overlay("predictions", z=20).set_boxes(
            BoxSet(
                self.prediction_boxes,
                [self.color(a.category_id) for a in predictions],
                [f"{self.name(a.category_id)} {a.score or 0:.2f}" for a in predictions],
                dashed=True,
                labels_below=True,
            )
        )
        self._draw_masks(objects, predictions)

    def _draw_masks(self, objects, predictions) -> None:
        width, height = self.canvas.image_size()
        annotations = [*predictions, *objects]  # ground truth paints over predictions
        colors = [_rgba(self.color(a.category_id), PREDICTION_ALPHA) for a in predictions]
        colors += [_rgba(self.color(a.category_id), OBJECT_ALPHA) for a in objects]
        layer = self.masks.layer(annotations, colors, height, width) if width else None
        if layer is not False:
            self.canvas.mask_overlay("masks", z=5).set_layer(layer)

    def _visible(self):
        if self.dataset is None or self.image_id is None:
            return [], []
        hidden = self.hidden_categories
        objects = [a for a in self.dataset.objects_in(self.image_id) if a.category_id not in hidden]
        predictions = [
            a
            for a in self.dataset.predictions_in(self.image_id)
            if a.category_id not in hidden and (a.score or 0.0) >= self.threshold
        ]
        return objects, predictions

    # ----- hit testing -------------------------------------------------------------------
    def object_at(self, x: float, y: float) -> int | None:
        return _smallest_containing(self.object_ids, self.object_boxes, x, y)

    def prediction_at(self, x: float, y: float) -> int | None:
        return _smallest_containing(self.prediction_ids, self.prediction_boxes, x, y)

    def objects_at(self, x: float, y: float) -> list[int]:
        """Every object containing (x, y), smallest first."""
        return _containing(self.object_ids, self.object_boxes, x, y)

    def predictions_at(self, x: float, y: float) -> list[int]:
        return _containing(self.prediction_ids, self.prediction_boxes, x, y)


def _rgba(color: QColor, alpha: int) -> tuple[int, int, int, int]:
    return (color.red(), color.green(), color.blue(), alpha)


def _boxes(annotations) -> np.ndarray:
    if not annotations:
        return EMPTY
    return np.array([a.box for a in annotations], np.float32)


def _containing(ids: np.ndarray, boxes: np.ndarray, x: float, y: float) -> list[int]:
    if not len(ids):
        return []
    inside = (boxes[:, 0] <= x) & (x <= boxes[:, 2]) & (boxes[:, 1] <= y) & (y <= boxes[:, 3])
    candidates = np.flatnonzero(inside)
    areas = (boxes[candidates, 2] - boxes[candidates, 0]) * (
        boxes[candidates, 3] - boxes[candidates, 1]
    )
    return [int(ids[i]) for i in candidates[np.argsort(areas, kind="stable")]]


def _smallest_containing(ids: np.ndarray, boxes: np.ndarray, x: float, y: float) -> int | None:
    """The id of the smallest box containing (x, y): nested boxes stay pickable."""
    if not len(ids):
        return None
    inside = (boxes[:, 0] <= x) & (x <= boxes[:, 2]) & (boxes[:, 1] <= y) & (y <= boxes[:, 3])
    if not inside.any():
        return None
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    candidates = np.flatnonzero(inside)
    return int(ids[candidates[np.argmin(areas[candidates])]])
