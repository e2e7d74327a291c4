"""Undo/redo of dataset edits with no depth limit (labelme keeps one step, labelImg none).

Every ground-truth edit of the GUI goes through :meth:`UndoStack.push`: the dataset applies
it and returns its inverse, which the stack keeps. Undo applies the inverse and keeps *its*
inverse for redo. An edit the data layer refuses raises nothing here: ``failed`` carries
the reason to the status bar and the stacks stay as they were.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal


@dataclass
class _Step:
    edit: object  # the edit to apply to move in this direction
    label: str
    image_id: int | None  # where it happened, to show it again on undo


class UndoStack(QObject):
    """``changed()`` after every push/undo/redo; ``failed(message)`` when an edit is refused."""

    changed = Signal()
    failed = Signal(str)
    applied = Signal(object)  # image id (or None) the undone/redone step touched

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.dataset = None
        self._undo: list[_Step] = []
        self._redo: list[_Step] = []

    def reset(self, dataset) -> None:
        self.dataset = dataset
        self._undo.clear()
        self._redo.clear()
        self.changed.emit()

    def push(self, edit, image_id: int | None = None) -> bool:
        """Apply ``edit`` to the dataset; True when it was applied."""
        from detector.errors import AnnotationError

        if self.dataset is None:
            return False
        try:
            inverse = self.dataset.apply(edit)
        except AnnotationError as exc:
            self.failed.emit(f"{edit.label}: {exc}")
            return False
        self._undo.append(_Step(inverse, edit.label, image_id))
        self._redo.clear()
        self.changed.emit()
        return True

    def undo(self) -> bool:
        return self._move(self._undo, self._redo, "Undo")

    def redo(self) -> bool:
        return self._move(self._redo, self._undo, "Redo")

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo_text(self) -> str:
        return self._undo[-1].label if self._undo else ""

    def redo_text(self) -> str:
        return self._redo[-1].label if self._redo else ""

    def __len__(self) -> int:
        return len(self._undo)

    def _move(self, source: list[_Step], target: list[_Step], verb: str) -> bool:
        from detector.errors import AnnotationError

        if not source or self.dataset is None:
            return False
        step = source.pop()
        try:
            inverse = self.dataset.apply(step.edit)
        except AnnotationError as exc:
            self.failed.emit(f"{verb} {step.label}: {exc}")
            self.changed.emit()
            return False
        target.append(_Step(inverse, step.label, step.image_id))
        self.changed.emit()
        self.applied.emit(step.image_id)
        return True
