"""The annotation model: images, categories, objects; the one truth the GUI, CLI and scripts share.

Coordinates: every box is ``(x1, y1, x2, y2)`` in float pixels of the *oriented* image
(EXIF rotation applied, see :mod:`detector.io.images`), with the COCO convention that a box
covering pixel columns 0..9 is ``x1=0, x2=10`` (continuous coordinates, no +1).

Records are frozen dataclasses: an edit never mutates one, it swaps it for a new one, so
an edit's inverse can simply hold the old records (see :mod:`detector.data.edits`). Every
change goes through :meth:`Dataset.apply`, which returns the inverse edit (for an undo
stack), bumps :attr:`Dataset.revision` and calls the subscribers with a :class:`Change`.

Ground truth vs predictions: model predictions that nobody has accepted live in
:attr:`Dataset.predictions` (by image id) and are never written to ``annotations.json``.
Accepting one (:class:`detector.data.edits.AcceptPredictions`) moves it into the objects,
keeping ``source="model"`` and its score; from then on it is ground truth like any other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Union, get_args

from detector.errors import AnnotationError

if TYPE_CHECKING:
    from detector.data.edits import Edit
    from detector.data.issues import Issue

Box = tuple[float, float, float, float]
#: A mask: COCO polygons (list of flat ``[x0, y0, x1, y1, ...]`` lists), a COCO RLE dict
#: (``{"size": [h, w], "counts": str | list[int]}``), or None.
Mask = Union[list, dict, None]  # noqa: UP007 (a runtime alias; X | Y needs 3.10 types here)

Source = Literal["human", "model"]  # drawn by a person / predicted by a model
SOURCES: tuple[Source, ...] = get_args(Source)


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageRecord:
    """One image: ``file_name`` relative to the dataset root (``/`` separators), oriented size."""

    id: int
    file_name: str
    width: int
    height: int
    verified: bool = False
    extra: dict[str, Any] | None = None  # fields DetScope does not use, written back as read


@dataclass(frozen=True, slots=True)
class Category:
    id: int
    name: str
    color: str = "#4363d8"
    extra: dict[str, Any] | None = None  # e.g. supercategory, keypoints


@dataclass(frozen=True, slots=True)
class Annotation:
    """One object. ``box`` is xyxy float pixels; ``score`` only for ``source="model"``.

    Not ``kw_only`` (unlike the other records of five or more fields): the COCO loader builds
    10^5 of them and keyword passing costs it ~5% (bench_formats.py); pass keywords anyway
    wherever speed does not matter, so ``image_id`` and ``category_id`` cannot swap.
    """

    id: int
    image_id: int
    category_id: int
    box: Box
    mask: Mask = None
    iscrowd: bool = False
    source: Source = "human"
    score: float | None = None
    extra: dict[str, Any] | None = None

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]


def _annotation_maker() -> Callable[..., Annotation]:
    """``Annotation(id, image_id, category_id, box, mask, iscrowd, source, score, extra)``
    at half the cost (loaders build 10^6 of them): a frozen dataclass's ``__init__`` sets
    each field through ``object.__setattr__`` by name (~1.3 us an object); this sets the
    slots through their descriptors (~0.7 us). All nine arguments, positional, no checks."""
    names = tuple(f.name for f in fields(Annotation))
    setters = tuple(getattr(Annotation, name).__set__ for name in names)
    if names != ("id", "image_id", "category_id", "box", "mask", "iscrowd", "source", "score",
                 "extra"):  # fmt: skip
        raise RuntimeError("Annotation's fields changed: update make_annotation")
    new = object.__new__
    s_id, s_image, s_category, s_box, s_mask, s_crowd, s_source, s_score, s_extra = setters

    def make_annotation(id, image_id, category_id, box, mask, iscrowd, source, score, extra):
        annotation = new(Annotation)
        s_id(annotation, id)
        s_image(annotation, image_id)
        s_category(annotation, category_id)
        s_box(annotation, box)
        s_mask(annotation, mask)
        s_crowd(annotation, iscrowd)
        s_source(annotation, source)
        s_score(annotation, score)
        s_extra(annotation, extra)
        return annotation

    return make_annotation


make_annotation = _annotation_maker()


class FileNames(Mapping[int, str]):
    """A dataset's image id -> file name as a read-only view: O(1) to make, so a view can
    name images without a dict of every image per refresh (100,000-image sets)."""

    def __init__(self, images: Mapping[int, ImageRecord]) -> None:
        self.images = images

    def __getitem__(self, image_id: int) -> str:
        return self.images[image_id].file_name

    def __iter__(self) -> Iterator[int]:
        return iter(self.images)

    def __len__(self) -> int:
        return len(self.images)


@dataclass(frozen=True, kw_only=True)
class Change:
    """What one applied edit touched: the GUI/evaluation redraw or recompute only that."""

    revision: int
    image_ids: frozenset[int] = frozenset()
    categories: bool = False
    predictions: bool = False
    ground_truth: bool = True  # False when only unaccepted model predictions changed


Subscriber = Callable[[Change], None]


@dataclass(kw_only=True)
class Dataset:
    """Images, categories and objects of one annotated folder.

    ``root`` is the folder image ``file_name`` s are relative to; ``annotation_path`` the
    file it was loaded from / saves to (None for a new, never saved set). ``extra`` holds
    top-level file fields DetScope does not use (``info``, ``licenses``, ...), written back;
    ``orphans`` raw COCO annotations that could not be used (no such image, no box), also
    written back unchanged; ``issues`` the problems flagged at load (detector.data.issues).
    """

    root: Path = field(default_factory=Path)
    annotation_path: Path | None = None
    images: dict[int, ImageRecord] = field(default_factory=dict)
    categories: dict[int, Category] = field(default_factory=dict)
    objects: dict[int, Annotation] = field(default_factory=dict)
    predictions: dict[int, dict[int, Annotation]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    orphans: list[dict[str, Any]] = field(default_factory=list)  # unusable raw annotations, kept
    issues: list[Issue] = field(default_factory=list)
    revision: int = 0  # every change, predictions included (Change.revision)
    edit_revision: int = 0  # ground-truth edits only: what a save writes
    saved_revision: int = 0  # edit_revision at the last load or save
    file_state: Any = None  # detector.store.FileState of annotation_path at load/save
    # How annotation_path is written back: "coco" (a JSON file), "yolo" (a labels folder,
    # names in classes_path), "voc" (an Annotations folder of XML); see formats.layouts.
    annotation_format: str = "coco"
    classes_path: Path | None = None
    _by_image: dict[int, dict[int, Annotation]] = field(default_factory=dict, repr=False)
    derived: dict[str, Any] = field(default_factory=dict, repr=False)  # caches (see formats.masks)
    _next_id: int = field(default=1, repr=False)
    _subscribers: list[Subscriber] = field(default_factory=list, repr=False)
    # Copy-on-write of the per-image dicts (see snapshot): None while no snapshot was ever
    # taken, else the image ids whose dict this dataset copied since the last snapshot.
    _owned_groups: set[int] | None = field(default=None, repr=False, compare=False)
    # The largest image id while len(images) == _image_count (new_image_id in O(1))
    _max_image_id: int = field(default=0, repr=False, compare=False)
    _image_count: int = field(default=0, repr=False, compare=False)
    # category_counts once counted; changes of objects seen (see adopt_category_counts)
    _category_counts: Counter | None = field(default=None, repr=False, compare=False)
    _object_changes: int = field(default=0, repr=False, compare=False)

    # ----------------------------------------------------------------- construction
    def add_image_record(self, record: ImageRecord) -> None:
        """Add an image while building a dataset (not an undoable edit; loaders use it)."""
        if record.id in self.images:
            raise AnnotationError(f"duplicate image id {record.id} ({record.file_name})")
        self.images[record.id] = record
        if self._image_count == len(self.images) - 1:  # else new_image_id recounts
            self._image_count += 1
            self._max_image_id = max(self._max_image_id, record.id)
        if record.id not in self._by_image:
            self._by_image[record.id] = {}
            if self._owned_groups is not None:
                self._owned_groups.add(record.id)

    def add_category_record(self, category: Category) -> None:
        if category.id in self.categories:
            raise AnnotationError(f"duplicate category id {category.id} ({category.name!r})")
        self.categories[category.id] = category

    def add_object_record(self, annotation: Annotation) -> None:
        """Insert without notifying (loaders, edits). The image must exist; the id must be new."""
        if annotation.id in self.objects:
            raise AnnotationError(f"duplicate annotation id {annotation.id}")
        per_image = self._by_image.get(annotation.image_id)
        if per_image is None:
            raise AnnotationError(
                f"annotation {annotation.id}: no image with id {annotation.image_id}"
            )
        if self._owned_groups is not None:  # a snapshot was taken: maybe shared
            per_image = self._group_to_edit(annotation.image_id)
        self.objects[annotation.id] = annotation
        per_image[annotation.id] = annotation
        if self._category_counts is not None:
            self._category_counts[annotation.category_id] += 1
        if annotation.id >= self._next_id:
            self._next_id = annotation.id + 1

    def remove_object_record(self, object_id: int) -> Annotation:
        annotation = self.objects.pop(object_id)
        del self._group_to_edit(annotation.image_id)[object_id]
        if self._category_counts is not None:
            self._category_counts[annotation.category_id] -= 1
        return annotation

    def replace_object_record(self, annotation: Annotation) -> Annotation:
        """Swap the object with ``annotation.id`` for ``annotation``; returns the old one."""
        old = self.objects[annotation.id]
        if old.image_id != annotation.image_id:
            raise AnnotationError(f"annotation {old.id}: cannot move an object to another image")
        self.objects[annotation.id] = annotation
        self._group_to_edit(annotation.image_id)[annotation.id] = annotation
        if self._category_counts is not None and old.category_id != annotation.category_id:
            self._category_counts[old.category_id] -= 1
            self._category_counts[annotation.category_id] += 1
        return old

    def _group_to_edit(self, image_id: int) -> dict[int, Annotation]:
        """The per-image dict of ``image_id``, copied first if a snapshot shares it."""
        group = self._by_image[image_id]
        self._object_changes += 1  # (every change passes here once a snapshot was taken)
        owned = self._owned_groups
        if owned is not None and image_id not in owned:
            group = self._by_image[image_id] = dict(group)
            owned.add(image_id)
        return group

    # ----------------------------------------------------------------- snapshots
    def snapshot(self) -> Dataset:
        """A read-only copy of the ground truth now, that later edits cannot change, for a
        save in another thread while this one goes on editing.

        Cheap enough for the GUI thread at 1,000,000 objects: records are immutable and
        shared; the outer images and per-image dicts are copied (C-level pointer copies,
        ~1 ms per 100,000 images); the per-image dicts themselves are shared, copy on write:
        the first edit of an image after a snapshot copies that image's dict (its few
        objects), so the work grows with the edits, never with the objects. The copy's
        ``objects`` is a view of its per-image dicts (:class:`GroupedObjects`): the
        1,000,000-entry dict is never copied. No predictions, no subscribers; ``derived``
        caches are shared (one save at a time uses them).
        """
        from dataclasses import replace

        from detector.data.grouped import GroupedObjects

        self._owned_groups = set()  # every per-image dict is shared from now on
        groups = dict(self._by_image)
        return replace(
            self,
            images=dict(self.images),
            categories=dict(self.categories),
            objects=GroupedObjects(groups),  # type: ignore[arg-type]
            predictions={},
            extra=dict(self.extra),
            orphans=list(self.orphans),
            issues=list(self.issues),
            _by_image=groups,
            _subscribers=[],
            _owned_groups=set(),  # the copy never edits the shared dicts either
            _category_counts=None,
        )

    # ----------------------------------------------------------------- aggregates
    def category_counts(self, *, count: bool = True) -> Counter | None:
        """category id -> number of ground-truth objects (read only). Counted once, then
        kept up to date by every change, one object at a time: an edit of a 1,000,000-box
        set costs no recount. ``count=False``: None when not counted yet (a caller may
        count a :meth:`snapshot` in a worker, see :meth:`adopt_category_counts`)."""
        if self._category_counts is None and count:
            self._category_counts = Counter(a.category_id for a in self.objects.values())
        return self._category_counts

    def adopt_category_counts(self, counted: Dataset) -> bool:
        """Take the counts of ``counted``, a :meth:`snapshot` of this dataset whose
        :meth:`category_counts` were computed (in a worker), if no object changed since."""
        if counted._object_changes != self._object_changes or counted._category_counts is None:
            return False
        if self._category_counts is None:
            self._category_counts = Counter(counted._category_counts)
        return True

    # ----------------------------------------------------------------- queries
    def objects_in(self, image_id: int) -> list[Annotation]:
        """The ground-truth objects of one image, in id order."""
        per_image = self._by_image.get(image_id, {})
        return sorted(per_image.values(), key=lambda a: a.id)

    def predictions_in(self, image_id: int) -> list[Annotation]:
        """Unaccepted model predictions of one image, best score first."""
        per_image = self.predictions.get(image_id, {})
        return sorted(per_image.values(), key=lambda a: -(a.score or 0.0))

    def iter_objects(self) -> Iterator[Annotation]:
        """All ground-truth objects, image by image (image insertion order), id order within."""
        for image_id in self.images:
            yield from self.objects_in(image_id)

    def image_path(self, image_id: int) -> Path:
        return self.root / self.images[image_id].file_name

    def image_by_name(self, file_name: str) -> ImageRecord | None:
        for record in self.images.values():
            if record.file_name == file_name:
                return record
        return None

    def category_by_name(self, name: str) -> Category | None:
        for category in self.categories.values():
            if category.name == name:
                return category
        return None

    def new_object_id(self) -> int:
        """A fresh object id (never reused in this session, also across predictions)."""
        object_id = self._next_id
        self._next_id += 1
        return object_id

    def reserve_id(self, object_id: int) -> None:
        """Never hand out ``object_id`` (an id used outside ``objects``, e.g. a kept orphan)."""
        if object_id >= self._next_id:
            self._next_id = object_id + 1

    def new_category_id(self) -> int:
        return max(self.categories, default=0) + 1

    def new_image_id(self) -> int:
        """The largest image id + 1: O(1) (a folder of 100,000 images adds its unlisted
        images one by one), recounted only after images were set without
        :meth:`add_image_record`."""
        if self._image_count != len(self.images) or self._max_image_id + 1 in self.images:
            self._max_image_id = max(self.images, default=0)
            self._image_count = len(self.images)
        return self._max_image_id + 1

    @property
    def is_modified(self) -> bool:
        """True when ground-truth edits were applied since the last load or save.

        New model predictions do not count: they are never saved until accepted.
        """
        return self.edit_revision != self.saved_revision

    # ----------------------------------------------------------------- changes
    def apply(self, edit: Edit) -> Edit:
        """Apply ``edit``; return its inverse (push it on an undo stack). Notifies subscribers.

        An edit that is invalid (unknown image, duplicate id, ...) raises AnnotationError and
        leaves the dataset unchanged.
        """
        inverse, change = edit.apply_to(self)
        self.revision += 1
        self.edit_revision += 1
        self._notify(
            Change(
                revision=self.revision,
                image_ids=change.image_ids,
                categories=change.categories,
                predictions=change.predictions,
            )
        )
        return inverse

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(change)`` after every applied edit; returns an unsubscribe function."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def set_predictions(self, image_id: int, predictions: Iterable[Annotation]) -> None:
        """Replace the unaccepted predictions of one image (not an undoable edit; ids are reassigned)."""
        if image_id not in self.images:
            raise AnnotationError(f"no image with id {image_id}")
        fresh = {}
        for prediction in predictions:
            object_id = self.new_object_id()
            fresh[object_id] = _with(prediction, id=object_id, image_id=image_id, source="model")
        self.predictions[image_id] = fresh
        self.revision += 1
        self._notify(
            Change(
                revision=self.revision,
                image_ids=frozenset({image_id}),
                predictions=True,
                ground_truth=False,
            )
        )

    def mark_saved(self) -> None:
        self.saved_revision = self.edit_revision

    def _notify(self, change: Change) -> None:
        for callback in list(self._subscribers):
            callback(change)


def _with(annotation: Annotation, **changes: Any) -> Annotation:
    from dataclasses import replace

    return replace(annotation, **changes)
