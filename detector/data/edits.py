"""Small, invertible edits of a :class:`~detector.data.dataset.Dataset`: the GUI's undo stack.

``inverse = dataset.apply(edit)`` applies an edit and returns the edit that undoes it;
applying the inverse returns the original again (redo). Each edit checks everything before
it changes anything, so an invalid edit raises AnnotationError and leaves the dataset as it
was. Helpers build the common edits from a dataset: :func:`update_object` (move/resize,
relabel, mask), :func:`relabel_objects`, :func:`rename_category`, :func:`recolor_category`,
:func:`set_verified`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from detector.data.dataset import Annotation, Category, Change, Dataset, ImageRecord
from detector.errors import AnnotationError


class Edit(Protocol):
    label: str

    def apply_to(self, dataset: Dataset) -> tuple[Edit, Change]:
        """Change ``dataset``; return (inverse edit, what changed). Raise before changing anything."""
        ...


def _touched(
    image_ids: Iterable[int] = (), *, categories: bool = False, predictions: bool = False
) -> Change:
    return Change(
        revision=0, image_ids=frozenset(image_ids), categories=categories, predictions=predictions
    )


def check_box(box: tuple[float, ...], *, where: str) -> None:
    """A box must be 4 finite numbers with x2 > x1 and y2 > y1 (AnnotationError otherwise)."""
    if len(box) != 4 or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in box):
        raise AnnotationError(f"box must be 4 finite numbers, got {box!r}", location=where)
    if box[2] <= box[0] or box[3] <= box[1]:
        raise AnnotationError(f"box {tuple(box)} has zero or negative size", location=where)


def _check_object(dataset: Dataset, annotation: Annotation) -> None:
    where = f"object {annotation.id}"
    if annotation.image_id not in dataset.images:
        raise AnnotationError(f"no image with id {annotation.image_id}", location=where)
    if annotation.category_id not in dataset.categories:
        raise AnnotationError(f"no category with id {annotation.category_id}", location=where)
    check_box(annotation.box, where=where)


@dataclass(frozen=True)
class AddObjects:
    objects: tuple[Annotation, ...]

    @property
    def label(self) -> str:
        return f"Add {_plural(len(self.objects), 'object')}"

    def apply_to(self, dataset: Dataset) -> tuple[Edit, Change]:
        ids = [a.id for a in self.objects]
        if len(set(ids)) != len(ids) or any(i in dataset.objects for i in ids):
            raise AnnotationError(f"object ids already in use: {sorted(ids)}")
        for annotation in self.objects:
            _check_object(dataset, annotation)
        for annotation in self.objects:
            dataset.add_object_record(annotation)
        return RemoveObjects(tuple(ids)), _touched(a.image_id for a in self.objects)


@dataclass(frozen=True)
class RemoveObjects:
    ids: tuple[int, ...]

    @property
    def label(self) -> str:
        return f"Delete {_plural(len(self.ids), 'object')}"

    def apply_to(self, dataset: Dataset) -> tuple[Edit, Change]:
        missing = [i for i in self.ids if i not in dataset.objects]
        if missing:
            raise AnnotationError(f"no objects with ids {missing}")
        removed = tuple(dataset.remove_object_record(i) for i in self.ids)
        return AddObjects(removed), _touched(a.image_id for a in removed)


@dataclass(frozen=True)
class UpdateObjects:
    """Replace objects by id with new versions (same id and image): move, resize, relabel, mask."""

    objects: tuple[Annotation, ...]
    label: str = "Edit object"

    def apply_to(self, dataset: Dataset) -> tuple[Edit, Change]:
        for annotation in self.objects:
            old = dataset.objects.get(annotation.id)
            if old is None:
                raise AnnotationError(f"no object with id {annotation.id}")
            if old.image_id != annotation.image_id:
                raise AnnotationError(
                    "an edit cannot move an object to another image",
                    location=f"object {annotation.id}",
                )
            _check_object(dataset, annotation)
        old = tuple(dataset.replace_object_record(a) for a in self.objects)
        return UpdateObjects(old, self.label), _touched(a.image_id for a in old)


def update_object(
    dataset: Dataset, object_id: int, *, label: str = "Edit object", **changes: Any
) -> UpdateObjects:
    """An edit changing fields of one object: ``update_object(ds, 7, box=(0, 0, 5, 5))``."""
    if object_id not in dataset.objects:
        raise AnnotationError(f"no object with id {object_id}")
    return UpdateObjects((replace(dataset.objects[object_id], **changes),), label)


def relabel_objects(dataset: Dataset, object_ids: Iterable[int], category_id: int) -> UpdateObjects:
    changed = tuple(replace(dataset.objects[i], category_id=category_id) for i in object_ids)
    return UpdateObjects(changed, f"Relabel {_plural(len(changed), 'object')}")


@dataclass(frozen=True)
class AcceptPredictions:
    """Move unaccepted predictions (by id) into the ground truth, keeping source/score."""

    ids: tuple[int, ...]

    @property
    def label(self) -> str:
        return f"Accept {_plural(len(self.ids), 'prediction')}"

    def apply_to(self, dataset: Dataset) -> tuple[Edit, Change]:
        found = {a.id: a for per in dataset.predictions.values() for a in per.values()}
        missing = [i for i in self.ids if i not in found]
        if missing:
            raise AnnotationError(f"no predictions with ids {missing}")
        moved = tuple(found[i] for i in self.ids)
        for annotation in moved:
            _check_object(dataset, annotation)
        for annotation in moved:
            del dataset.predictions[annotation.image_id][annotation.id]
            dataset.add_object_record(annotation)
        return UnacceptObjects(self.ids), _touched((a.image_id for a in moved), predictions=True)


@dataclass(frozen=True)
class UnacceptObjects:
    """The inverse of AcceptPredictions: objects go back to being unaccepted predictions."""

    ids: tuple[int, ...]
    label: str = "Unaccept predictions"

    def apply_to(self, dataset: Dataset) -> tuple[Edit, Change]:
        missing = [i for i in self.ids if i not in dataset.objects]
        if missing:
            raise AnnotationError(f"no objects with ids {missing}")
        moved = tuple(dataset.remove_object_record(i) for i in self.ids)
        for annotation in moved:
            dataset.predictions.setdefault(annotation.image_id, {})[annotation.id] = annotation
        return AcceptPredictions(self.ids), _touched((a.image_id for a in moved), predictions=True)


@dataclass(frozen=True)
class AddCategory:
    """Add a category (and, when undoing a delete, its objects back)."""

    category: Category
    objects: tuple[Annotation, ...] = ()

    @property
    def label(self) -> str:
        return f"Add category {self.category.name!r}"

    def apply_to(self, dataset: Dataset) -> tuple[Edit, Change]:
        _check_category_name(dataset, self.category.name, self.category.id)
        if self.category.id in dataset.categories:
            raise AnnotationError(f"category id {self.category.id} already in use")
        dataset.categories[self.category.id] = self.category
        try:
            AddObjects(self.objects).apply_to(dataset)
        except AnnotationError:
            del dataset.categories[self.category.id]
            raise
        change = _touched((a.image_id for a in self.objects), categories=True)
        return DeleteCategory(self.category.id), change


@dataclass(frozen=True)
class DeleteCategory:
    """Delete a category together with all its objects (and its unaccepted predictions)."""

    category_id: int

    @property
    def label(self) -> str:
        return "Delete category"

    def apply_to(self, dataset: Dataset) -> tuple[Edit, Change]:
        category = dataset.categories.get(self.category_id)
        if category is None:
            raise AnnotationError(f"no category with id {self.category_id}")
        ids = tuple(a.id for a in dataset.objects.values() if a.category_id == self.category_id)
        removed = tuple(dataset.remove_object_record(i) for i in ids)
        for per_image in dataset.predictions.values():
            for pid in [p.id for p in per_image.values() if p.category_id == self.category_id]:
                del per_image[pid]
        del dataset.categories[self.category_id]
        change = _touched((a.image_id for a in removed), categories=True, predictions=True)
        return AddCategory(category, removed), change


@dataclass(frozen=True)
class UpdateCategory:
    """Replace a category by id (rename, recolour)."""

    category: Category
    label: str = "Edit category"

    def apply_to(self, dataset: Dataset) -> tuple[Edit, Change]:
        old = dataset.categories.get(self.category.id)
        if old is None:
            raise AnnotationError(f"no category with id {self.category.id}")
        _check_category_name(dataset, self.category.name, self.category.id)
        dataset.categories[self.category.id] = self.category
        return UpdateCategory(old, self.label), _touched(categories=True)


def rename_category(dataset: Dataset, category_id: int, name: str) -> UpdateCategory:
    category = _category(dataset, category_id)
    return UpdateCategory(replace(category, name=name), f"Rename {category.name!r} to {name!r}")


def recolor_category(dataset: Dataset, category_id: int, color: str) -> UpdateCategory:
    return UpdateCategory(replace(_category(dataset, category_id), color=color), "Change colour")


@dataclass(frozen=True)
class MergeCategories:
    """Relabel every object of ``source_ids`` to ``target_id``, then delete the sources."""

    source_ids: tuple[int, ...]
    target_id: int

    @property
    def label(self) -> str:
        return f"Merge {_plural(len(self.source_ids), 'category', 'categories')}"

    def apply_to(self, dataset: Dataset) -> tuple[Edit, Change]:
        _category(dataset, self.target_id)
        for source_id in self.source_ids:
            _category(dataset, source_id)
        if self.target_id in self.source_ids:
            raise AnnotationError("cannot merge a category into itself")
        sources = set(self.source_ids)
        moved = [a.id for a in dataset.objects.values() if a.category_id in sources]
        steps = [relabel_objects(dataset, moved, self.target_id)]
        steps += [DeleteCategory(i) for i in self.source_ids]
        return Compound(tuple(steps), self.label).apply_to(dataset)


@dataclass(frozen=True)
class UpdateImage:
    """Replace an image record by id (e.g. the ``verified`` flag). Width/height stay as loaded."""

    image: ImageRecord
    label: str = "Edit image"

    def apply_to(self, dataset: Dataset) -> tuple[Edit, Change]:
        old = dataset.images.get(self.image.id)
        if old is None:
            raise AnnotationError(f"no image with id {self.image.id}")
        dataset.images[self.image.id] = self.image
        return UpdateImage(old, self.label), _touched([self.image.id])


def set_verified(dataset: Dataset, image_id: int, verified: bool = True) -> UpdateImage:
    if image_id not in dataset.images:
        raise AnnotationError(f"no image with id {image_id}")
    label = "Mark verified" if verified else "Mark unverified"
    return UpdateImage(replace(dataset.images[image_id], verified=verified), label)


@dataclass(frozen=True)
class Compound:
    """Several edits as one undo step; if one fails, those already applied are undone."""

    edits: tuple[Edit, ...]
    label: str = "Edit"

    def apply_to(self, dataset: Dataset) -> tuple[Edit, Change]:
        inverses: list[Edit] = []
        changes: list[Change] = []
        try:
            for edit in self.edits:
                inverse, change = edit.apply_to(dataset)
                inverses.append(inverse)
                changes.append(change)
        except AnnotationError:
            for inverse in reversed(inverses):
                inverse.apply_to(dataset)
            raise
        merged = _touched(
            {i for c in changes for i in c.image_ids},
            categories=any(c.categories for c in changes),
            predictions=any(c.predictions for c in changes),
        )
        return Compound(tuple(reversed(inverses)), self.label), merged


def _category(dataset: Dataset, category_id: int) -> Category:
    category = dataset.categories.get(category_id)
    if category is None:
        raise AnnotationError(f"no category with id {category_id}")
    return category


def _check_category_name(dataset: Dataset, name: str, category_id: int) -> None:
    if not isinstance(name, str) or not name.strip():
        raise AnnotationError("a category name cannot be empty")
    for other in dataset.categories.values():
        if other.name == name and other.id != category_id:
            raise AnnotationError(
                f"a category named {name!r} already exists (id {other.id}); merge them instead"
            )


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"
