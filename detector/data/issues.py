"""Checks with clear messages: what is wrong, in which file, where; never a traceback.

Two levels. Problems that make a file unusable (JSON syntax error, an XML file named
``.json``, a document that is not COCO at all, duplicate image ids) raise
:class:`~detector.errors.AnnotationError` naming the file and the line/column or element.
Problems in otherwise usable data are kept and *flagged* as :class:`Issue` s in
``dataset.issues`` so nothing is lost: boxes outside the image (a clip is offered by
:func:`clip_boxes_edit`), zero or negative size, unknown categories, duplicate ids
(reassigned), missing image files.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from detector.data.dataset import Dataset

Severity = Literal["warning", "error"]  # warning: data kept as is; error: data kept aside


@dataclass(frozen=True, kw_only=True)
class Issue:
    """One flagged problem. ``kind`` is a stable key the GUI can filter/fix by."""

    kind: str  # box_outside, box_empty, unknown_category, duplicate_id, missing_file, ...
    message: str
    file: str | None = None
    location: str | None = None
    severity: Severity = "warning"
    image_id: int | None = None
    object_id: int | None = None

    def __str__(self) -> str:
        prefix = "".join(f"{part}: " for part in (self.file, self.location) if part)
        return f"{prefix}{self.severity}: {self.message}"


# --------------------------------------------------------------------------- dataset checks
def validate_dataset(dataset: Dataset, *, check_files: bool = True) -> list[Issue]:
    """Flag boxes outside the image, empty boxes, unknown categories and missing image files."""
    file = None if dataset.annotation_path is None else str(dataset.annotation_path)
    issues = [i for i in box_issues(dataset, file)]
    if check_files:
        issues += missing_file_issues(dataset, file)
    return issues


def box_issues(dataset: Dataset, file: str | None = None) -> list[Issue]:
    """Unknown categories, empty boxes, boxes outside their image (one pass, 10^6 objects:
    only the flagged ones cost more than a few comparisons)."""
    issues = []
    images, categories = dataset.images, dataset.categories
    for obj in dataset.objects.values():
        image = images[obj.image_id]
        x1, y1, x2, y2 = obj.box
        unknown = obj.category_id not in categories
        empty = x2 <= x1 or y2 <= y1
        outside = (
            not empty
            and image.width > 0
            and (x1 < 0 or y1 < 0 or x2 > image.width or y2 > image.height)
        )
        if unknown or empty or outside:
            issues += _box_issues(obj, image, file, unknown, empty, outside)
    return issues


def _box_issues(
    obj, image, file: str | None, unknown: bool, empty: bool, outside: bool
) -> list[Issue]:
    def issue(kind: str, message: str, severity: Severity) -> Issue:
        return Issue(
            kind=kind,
            message=message,
            file=file,
            location=f"object {obj.id} in {image.file_name}",
            severity=severity,
            image_id=obj.image_id,
            object_id=obj.id,
        )

    issues = []
    if unknown:
        issues.append(issue("unknown_category", f"unknown category id {obj.category_id}", "error"))
    if empty:
        issues.append(issue("box_empty", f"box {obj.box} has zero or negative size", "warning"))
    elif outside:
        issues.append(
            issue(
                "box_outside",
                f"box {_fmt_box(obj.box)} extends outside the {image.width}x{image.height} image"
                " (kept; clip offered)",
                "warning",
            )
        )
    return issues


def missing_file_issues(dataset: Dataset, file: str | None = None) -> list[Issue]:
    issues = []
    for image in dataset.images.values():
        if not (dataset.root / image.file_name).is_file():
            issues.append(
                Issue(
                    kind="missing_file",
                    message=f"image file not found under {dataset.root}",
                    file=file,
                    location=image.file_name,
                    severity="warning",
                    image_id=image.id,
                )
            )
    return issues


def clip_boxes_edit(dataset: Dataset, object_ids: list[int] | None = None):
    """An UpdateObjects edit that clips boxes to their image (the fix for ``box_outside``).

    Boxes that would become empty after clipping (entirely outside) are left out; delete them.
    """
    from detector.data.edits import UpdateObjects

    ids = list(dataset.objects) if object_ids is None else object_ids
    changed = []
    for object_id in ids:
        obj = dataset.objects[object_id]
        image = dataset.images[obj.image_id]
        if image.width <= 0:
            continue
        x1, y1, x2, y2 = obj.box
        clipped = (
            min(max(x1, 0.0), image.width),
            min(max(y1, 0.0), image.height),
            min(max(x2, 0.0), image.width),
            min(max(y2, 0.0), image.height),
        )
        if clipped != obj.box and clipped[2] > clipped[0] and clipped[3] > clipped[1]:
            changed.append(replace(obj, box=tuple(float(v) for v in clipped)))
    return UpdateObjects(tuple(changed), f"Clip {len(changed)} boxes to the image")


def _fmt_box(box: tuple[float, ...]) -> str:
    return "(" + ", ".join(f"{v:g}" for v in box) + ")"
