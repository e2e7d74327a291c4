"""Edit commands behind the menu and shortcuts; each is one undo step through the stack."""

from __future__ import annotations

from dataclasses import replace

from detector.data.accept import MATCH_IOU, plan_accept
from detector.data.dataset import Annotation, Category
from detector.data.edits import (
    AcceptPredictions,
    AddCategory,
    AddObjects,
    Compound,
    RemoveObjects,
    relabel_objects,
    set_verified,
)
from detector.data.masks import fit_mask_to_box
from detector.data.palette import palette_color
from detector.geometry.boxes import pair_iou, round_box

PASTE_OFFSET = 10.0


class EditCommands:
    """Works on the window's dataset, current image, editor selection and undo stack."""

    def __init__(self, window) -> None:
        self.window = window
        self.clipboard: list[Annotation] = []
        self.current_category: int | None = None  # class given to new boxes

    @property
    def dataset(self):
        return self.window.dataset

    @property
    def editor(self):
        return self.window.editor

    def _push(self, edit) -> bool:
        return self.window.undo.push(edit, self.window.current_image_id)

    def _message(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 4000)

    # ----- objects -----------------------------------------------------------------------
    def new_object_category(self) -> tuple[int, list]:
        """The category for a new box, and an AddCategory edit when none exists yet."""
        dataset = self.dataset
        if self.current_category in dataset.categories:
            return self.current_category, []
        if dataset.categories:
            return next(iter(dataset.categories)), []
        category = Category(dataset.new_category_id(), "object", palette_color(0))
        return category.id, [AddCategory(category)]

    def add_box(self, box) -> None:
        image_id = self.window.current_image_id
        if self.dataset is None or image_id is None:
            return
        category_id, steps = self.new_object_category()
        box = round_box(box)  # saved as drawn: two decimals, like COCO's own files
        annotation = Annotation(
            id=self.dataset.new_object_id(),
            image_id=image_id,
            category_id=category_id,
            box=box,
        )
        if self._push(Compound((*steps, AddObjects((annotation,))), "Draw box")):
            self.editor.select([annotation.id])

    def delete(self) -> None:
        if self.editor.selected:
            self._push(RemoveObjects(tuple(self.editor.selected)))
        elif self.editor.selected_prediction is not None:
            self.reject()

    def duplicate(self) -> None:
        copies = self._copies(self.editor.selected_annotations(), self.window.current_image_id)
        if copies and self._push(AddObjects(tuple(copies))):
            self.editor.select([a.id for a in copies])

    def copy(self) -> None:
        self.clipboard = self.editor.selected_annotations()
        if self.clipboard:
            self._message(f"Copied {len(self.clipboard)} object(s)")

    def paste(self) -> None:
        image_id = self.window.current_image_id
        if not self.clipboard or image_id is None or self.dataset is None:
            return
        same_image = all(a.image_id == image_id for a in self.clipboard)
        copies = self._copies(self.clipboard, image_id, offset=PASTE_OFFSET if same_image else 0)
        if copies and self._push(AddObjects(tuple(copies))):
            self.editor.select([a.id for a in copies])

    def _copies(self, annotations, image_id, offset: float = PASTE_OFFSET) -> list[Annotation]:
        if image_id is None or not annotations:
            return []
        record = self.dataset.images[image_id]
        copies = []
        for annotation in annotations:
            if annotation.category_id not in self.dataset.categories:
                continue
            box = _clip_shift(annotation.box, offset, record.width, record.height)
            if box is None:
                continue
            mask = None  # a mask belongs to its image's pixels; it follows the box on this image
            if annotation.image_id == image_id:
                mask = fit_mask_to_box(annotation.mask, annotation.box, box, record)
            new_id = self.dataset.new_object_id()
            copies.append(replace(annotation, id=new_id, image_id=image_id, box=box, mask=mask))
        return copies

    def relabel(self, category_id: int) -> None:
        self.current_category = category_id
        if self.editor.selected:
            self._push(relabel_objects(self.dataset, self.editor.selected, category_id))
        else:
            self._message(f"New boxes: {self.dataset.categories[category_id].name}")

    def relabel_nth(self, index: int) -> None:
        if self.dataset is None:
            return
        ids = list(self.dataset.categories)
        if index < len(ids):
            self.relabel(ids[index])

    def nudge_left(self) -> None:
        self.nudge(-1, 0)

    def nudge_right(self) -> None:
        self.nudge(1, 0)

    def nudge_up(self) -> None:
        self.nudge(0, -1)

    def nudge_down(self) -> None:
        self.nudge(0, 1)

    def ask_relabel(self) -> None:
        """Ctrl+E: a non-blocking class chooser, preselecting the selected box's own class
        (the dialog is ``window.relabel_dialog`` while it is open)."""
        dataset, window = self.dataset, self.window
        if dataset is None or not self.editor.selected or not dataset.categories:
            return
        from PySide6.QtWidgets import QInputDialog

        dialog = QInputDialog(window, windowTitle="Relabel", labelText="Class:")
        dialog.setComboBoxItems([c.name for c in dataset.categories.values()])
        selected = dataset.objects.get(self.editor.selected[0])
        current = dataset.categories.get(selected.category_id) if selected else None
        if current is not None:
            dialog.setTextValue(current.name)  # the box's own class, not the first one
        dialog.textValueSelected.connect(
            lambda name: self.relabel(dataset.category_by_name(name).id)
        )
        dialog.open()  # non-blocking
        window.relabel_dialog = dialog

    def nudge(self, dx: float, dy: float) -> None:
        record = self.dataset.images.get(self.window.current_image_id) if self.dataset else None
        if record is None or not self.editor.selected:
            return
        boxes = {}
        for annotation in self.editor.selected_annotations():
            x1, y1, x2, y2 = annotation.box
            ddx = min(max(dx, -x1), record.width - x2)
            ddy = min(max(dy, -y1), record.height - y2)
            boxes[annotation.id] = (x1 + ddx, y1 + ddy, x2 + ddx, y2 + ddy)
        self.editor.move_to(boxes, "Nudge")

    def toggle_verified(self) -> None:
        image_id = self.window.current_image_id
        if self.dataset is None or image_id is None:
            return
        verified = not self.dataset.images[image_id].verified
        self._push(set_verified(self.dataset, image_id, verified))
        self._message("Marked verified" if verified else "Marked not verified")

    def selection_iou(self) -> float | None:
        boxes = self.editor.selected_boxes()
        return pair_iou(boxes[0], boxes[1]) if len(boxes) == 2 else None

    # ----- predictions -------------------------------------------------------------------
    def accept(self, ids: list[int]) -> bool:
        """Accept predictions as ground truth (adding the categories they name if needed)."""
        dataset = self.dataset
        if dataset is None or not ids:
            return False
        found = {a.id: a for per in dataset.predictions.values() for a in per.values()}
        steps = []
        for category_id in sorted({found[i].category_id for i in ids if i in found}):
            if category_id not in dataset.categories:
                name = self.window.prediction_names.get(category_id, f"class {category_id}")
                color = palette_color(len(dataset.categories) + len(steps))
                steps.append(AddCategory(Category(category_id, name, color)))
        edit = Compound((*steps, AcceptPredictions(tuple(ids))), f"Accept {len(ids)} prediction(s)")
        return self._push(edit)

    def accept_selected(self) -> None:
        prediction = self.editor.selected_prediction
        if prediction is not None and self.accept([prediction]):
            self.editor.select([prediction])

    def accept_above(self, threshold: float, match_iou: float = MATCH_IOU) -> int:
        """Accept the predictions scoring >= ``threshold`` that do not repeat an object already
        annotated (same class, IoU >= ``match_iou``); ask first when they would add classes."""
        image_id = self.window.current_image_id
        if self.dataset is None or image_id is None:
            return 0
        plan = plan_accept(self.dataset, image_id, score_thresh=threshold, match_iou=match_iou)
        skipped = (
            f"; {len(plan.duplicates)} skipped: they match ground truth of their class "
            f"(IoU ≥ {match_iou:.2f})"
            if plan.duplicates
            else ""
        )
        if plan.new_categories:
            self._ask_new_classes(plan, skipped)
            return 0
        accepted = len(plan.accept) if self.accept(plan.accept) else 0
        self._message(f"Accepted {accepted} prediction(s){skipped}")
        return accepted

    def _ask_new_classes(self, plan, skipped: str) -> None:
        """Non-blocking: create the missing classes, or accept only the known ones."""
        from PySide6.QtWidgets import QMessageBox

        names = [self.window.prediction_names.get(i, f"class {i}") for i in plan.new_categories]
        found = {a.id: a for a in self.dataset.predictions_in(self.window.current_image_id)}
        known = [i for i in plan.accept if found[i].category_id in self.dataset.categories]
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Accept predictions",
            f"{len(plan.accept) - len(known)} of the predictions are of classes this dataset "
            f"does not have: {', '.join(names)}. Add these classes?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self.window,
        )
        box.button(QMessageBox.StandardButton.Yes).setText("Add the classes and accept all")
        box.button(QMessageBox.StandardButton.No).setText("Accept only known classes")

        def answered(button) -> None:
            chosen = (
                plan.accept if box.buttonRole(button) == QMessageBox.ButtonRole.YesRole else known
            )
            accepted = len(chosen) if self.accept(chosen) else 0
            self._message(f"Accepted {accepted} prediction(s){skipped}")

        box.buttonClicked.connect(answered)
        box.open()
        self.new_classes_prompt = box

    def reject(self) -> None:
        """Drop the selected prediction (predictions are not ground truth: no undo needed)."""
        image_id, prediction = self.window.current_image_id, self.editor.selected_prediction
        if self.dataset is None or image_id is None or prediction is None:
            return
        rest = [a for a in self.dataset.predictions_in(image_id) if a.id != prediction]
        self.window.set_predictions(image_id, rest)
        self.editor.select(self.editor.selected)


def _clip_shift(box, offset: float, width: int, height: int):
    x1, y1, x2, y2 = (v + offset for v in box)
    x1, y1 = max(0.0, min(x1, width - 1.0)), max(0.0, min(y1, height - 1.0))
    x2, y2 = min(float(width), x2), min(float(height), y2)
    return (x1, y1, x2, y2) if x2 - x1 > 0.5 and y2 - y1 > 0.5 else None
