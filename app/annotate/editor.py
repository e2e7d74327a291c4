"""Mouse tools on the canvas: draw a box, select, move, resize by handles.

The editor filters the canvas viewport's mouse events (panning gestures pass through to
the canvas). A drag only previews; the edit is made once, on release, through the undo
stack, so one drag is one undo step.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal
from PySide6.QtGui import QMouseEvent

from app.annotate.selection_item import HANDLE_PX, handle_points, resize_box

MIN_BOX_PX = 2.0
CLICK_PX = 3  # a press and release closer than this on screen is a click  # a drawn box smaller than this (image pixels) is a click, not a box


class BoxEditor(QObject):
    """``selection_changed()``; ``box_drawn(box)`` asks the window to add an object there."""

    selection_changed = Signal()
    box_drawn = Signal(object)
    mode_changed = Signal(str)

    def __init__(self, canvas, layer, undo, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.canvas, self.layer, self.undo = canvas, layer, undo
        self.mode = "select"  # or "draw"
        self.selected: list[int] = []
        self.selected_prediction: int | None = None
        self.prefer_predictions = lambda: False  # set by the window: Predictions dock showing
        self._drag: dict | None = None
        self._last_point: QPointF | None = None  # where the last click was: Tab cycles there
        canvas.viewport().installEventFilter(self)

    # ----- state -------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self._drag = None
        cross = Qt.CursorShape.CrossCursor
        if mode == "draw":
            self.canvas.viewport().setCursor(cross)
        else:
            self.canvas.viewport().unsetCursor()
        self.refresh()
        self.mode_changed.emit(mode)

    def cancel(self) -> None:
        """Esc: drop a drag or drawing in progress, leave draw mode, then clear the selection."""
        if self._drag is not None or self.mode == "draw":
            self._drag = None
            self.layer.excluded.clear()
            self.layer.redraw()
            self.set_mode("select")
        else:
            self.select([])

    def select(self, ids, prediction: int | None = None) -> None:
        self.selected = list(ids)
        self.selected_prediction = prediction
        self.refresh()
        self.selection_changed.emit()

    def prune(self) -> None:
        """Forget selected ids that no longer exist on this image (after undo, delete, ...)."""
        dataset, image_id = self.layer.dataset, self.layer.image_id
        alive = {a.id for a in dataset.objects_in(image_id)} if dataset and image_id else set()
        preds = {a.id for a in dataset.predictions_in(image_id)} if dataset and image_id else set()
        kept = [i for i in self.selected if i in alive]
        prediction = self.selected_prediction if self.selected_prediction in preds else None
        if kept != self.selected or prediction != self.selected_prediction:
            self.select(kept, prediction)
        else:
            self.refresh()

    def selected_boxes(self) -> list[tuple[float, float, float, float]]:
        dataset = self.layer.dataset
        return [dataset.objects[i].box for i in self.selected if i in dataset.objects]

    def refresh(self, preview=None) -> None:
        boxes = self.selected_boxes() if self.layer.dataset else []
        if self.selected_prediction is not None and self.layer.dataset is not None:
            per_image = self.layer.dataset.predictions.get(self.layer.image_id, {})
            if self.selected_prediction in per_image:
                boxes.append(per_image[self.selected_prediction].box)
        self.layer.selection.set_state(boxes, handles=len(self.selected) == 1, preview=preview)

    # ----- mouse -------------------------------------------------------------------------
    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt API
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress:
            return self._press(event)
        if kind == QEvent.Type.MouseMove and self._drag is not None:
            self._move(event)
            return True
        if kind == QEvent.Type.MouseButtonRelease and self._drag is not None:
            self._release(event)
            return True
        return False

    def _point(self, event: QMouseEvent) -> QPointF:
        point = self.canvas.to_image(event.position())
        width, height = self.canvas.image_size()
        return QPointF(min(max(point.x(), 0.0), width), min(max(point.y(), 0.0), height))

    def _press(self, event: QMouseEvent) -> bool:
        if event.button() != Qt.MouseButton.LeftButton or self.canvas.is_panning():
            return False
        if self.canvas.image is None or self.layer.dataset is None:
            return False
        self.canvas.setFocus()
        point = self._point(event)
        if self.mode == "draw":
            self._drag = {"kind": "draw", "start": point, "box": None}
            return True
        handle = self._handle_at(event)
        if handle is not None:
            self._start_edit("resize", point, handle)
            return True
        self._last_point = point
        additive = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier) or bool(
            event.modifiers() & Qt.KeyboardModifier.ControlModifier
        )
        prediction = self.layer.prediction_at(point.x(), point.y())
        if prediction is not None and not additive and self.prefer_predictions():
            self.select([], prediction)  # predictions come first while they are being reviewed
            return True
        hit = self.layer.object_at(point.x(), point.y())
        if hit is not None:
            if additive:
                ids = (
                    [i for i in self.selected if i != hit]
                    if hit in self.selected
                    else [
                        *self.selected,
                        hit,
                    ]
                )
                self.select(ids)
                return True
            if hit not in self.selected:
                self.select([hit])
            self._start_edit("move", point, None)
            return True
        self.select([] if not additive else self.selected, prediction)
        return True

    def cycle_under_cursor(self) -> None:
        """Tab: select the next of the objects and predictions under the last click
        (smallest first), so a box hidden under another is reachable."""
        if self._last_point is None:
            return
        x, y = self._last_point.x(), self._last_point.y()
        stack = [("prediction", i) for i in self.layer.predictions_at(x, y)]
        stack += [("object", i) for i in self.layer.objects_at(x, y)]
        if not stack:
            return
        current = (
            ("prediction", self.selected_prediction)
            if self.selected_prediction is not None
            else ("object", self.selected[0] if len(self.selected) == 1 else None)
        )
        index = stack.index(current) + 1 if current in stack else 0
        kind, chosen = stack[index % len(stack)]
        if kind == "prediction":
            self.select([], chosen)
        else:
            self.select([chosen])

    def _handle_at(self, event: QMouseEvent) -> str | None:
        if len(self.selected) != 1:
            return None
        boxes = self.selected_boxes()
        if not boxes:
            return None
        position = event.position()
        for name, point in handle_points(boxes[0]).items():
            on_screen = self.canvas.mapFromScene(point)
            if (
                abs(on_screen.x() - position.x()) <= HANDLE_PX / 2 + 2
                and abs(on_screen.y() - position.y()) <= HANDLE_PX / 2 + 2
            ):
                return name
        return None

    def _start_edit(self, kind: str, point: QPointF, handle: str | None) -> None:
        originals = {i: self.layer.dataset.objects[i].box for i in self.selected}
        self._drag = {"kind": kind, "start": point, "handle": handle, "originals": originals}
        self._drag["press"] = self.canvas.mapFromScene(point)
        self._drag["boxes"] = dict(originals)

    def _move(self, event: QMouseEvent) -> None:
        drag, point = self._drag, self._point(event)
        if drag["kind"] == "draw":
            start = drag["start"]
            drag["box"] = (
                min(start.x(), point.x()),
                min(start.y(), point.y()),
                max(start.x(), point.x()),
                max(start.y(), point.y()),
            )
            self.refresh(preview=drag["box"])
            return
        if not self.layer.excluded:
            self.layer.excluded = set(drag["originals"])
            self.layer.redraw()
        dx, dy = point.x() - drag["start"].x(), point.y() - drag["start"].y()
        width, height = self.canvas.image_size()
        for object_id, box in drag["originals"].items():
            if drag["kind"] == "move":
                dx_ok = min(max(dx, -box[0]), width - box[2])
                dy_ok = min(max(dy, -box[1]), height - box[3])
                drag["boxes"][object_id] = (
                    box[0] + dx_ok,
                    box[1] + dy_ok,
                    box[2] + dx_ok,
                    box[3] + dy_ok,
                )
            else:
                drag["boxes"][object_id] = resize_box(box, drag["handle"], point.x(), point.y())
        self.layer.selection.set_state(
            list(drag["boxes"].values()), handles=drag["kind"] == "resize"
        )

    def _release(self, event: QMouseEvent) -> None:
        drag = self._drag
        press = drag.get("press")
        if press is not None and (event.position().toPoint() - press).manhattanLength() < CLICK_PX:
            self._drag = None  # a click, not a drag: select only, change nothing
            self.layer.excluded.clear()
            self.layer.redraw()
            self.refresh()
            return
        self._move(event)
        self._drag = None
        if drag["kind"] == "draw":
            box = drag["box"]
            self.set_mode("select")
            if box and box[2] - box[0] >= MIN_BOX_PX and box[3] - box[1] >= MIN_BOX_PX:
                self.box_drawn.emit(box)
            return
        self.layer.excluded.clear()
        changed = {i: b for i, b in drag["boxes"].items() if b != drag["originals"][i]}
        if changed and all(b[2] - b[0] > 0.5 and b[3] - b[1] > 0.5 for b in changed.values()):
            self.move_to(changed, "Move" if drag["kind"] == "move" else "Resize")
        else:
            self.layer.redraw()
            self.refresh()

    def move_to(self, boxes: dict[int, tuple], verb: str) -> None:
        from detector.data.edits import UpdateObjects
        from detector.data.masks import fit_mask_to_box
        from detector.geometry.boxes import round_box

        dataset = self.layer.dataset
        updated = []
        for object_id, moved in boxes.items():
            old, box = dataset.objects[object_id], round_box(moved)
            image = dataset.images[old.image_id]
            mask = fit_mask_to_box(old.mask, old.box, box, image)
            updated.append(replace(old, box=box, mask=mask))
        updated = tuple(updated)
        noun = "object" if len(updated) == 1 else f"{len(updated)} objects"
        self.undo.push(UpdateObjects(updated, f"{verb} {noun}"), self.layer.image_id)

    def selected_annotations(self) -> list:
        dataset = self.layer.dataset
        return [dataset.objects[i] for i in self.selected if dataset and i in dataset.objects]

    def draw(self) -> None:
        """W / R: the next left-drag draws a box (Esc cancels)."""
        if self.canvas.image is not None:
            self.set_mode("draw")
