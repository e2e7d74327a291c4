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

import json
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from detector.dataset import Dataset
from detector.errors import AnnotationError


@dataclass(frozen=True)
class Issue:
    """One flagged problem. ``kind`` is a stable key the GUI can filter/fix by."""

    kind: str  # box_outside, box_empty, unknown_category, duplicate_id, missing_file, ...
    message: str
    file: str | None = None
    location: str | None = None
    severity: str = "warning"  # "warning" (data kept as is) or "error" (data kept aside)
    image_id: int | None = None
    object_id: int | None = None

    def __str__(self) -> str:
        prefix = "".join(f"{part}: " for part in (self.file, self.location) if part)
        return f"{prefix}{self.severity}: {self.message}"


def sniff_format(data: bytes) -> str | None:
    """'json' or 'xml' from the first non-blank bytes, or None when it is neither."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head in (b"{", b"["):
        return "json"
    if head == b"<":
        return "xml"
    return None


def read_bytes(path: str | os.PathLike) -> bytes:
    file = Path(path)
    try:
        return file.read_bytes()
    except FileNotFoundError:
        raise AnnotationError("no such file", file=file) from None
    except IsADirectoryError:
        raise AnnotationError("is a folder, expected a file", file=file) from None
    except OSError as exc:
        raise AnnotationError(f"cannot read ({exc.strerror or exc})", file=file) from None


def parse_json(data: bytes, *, file: str | os.PathLike | None = None) -> Any:
    """Parse JSON bytes; a syntax error becomes AnnotationError with its line and column."""
    kind = sniff_format(data)
    if kind == "xml":
        raise AnnotationError(
            "this is an XML file (Pascal VOC?), not JSON; use --from voc", file=file
        )
    if not data.strip():
        raise AnnotationError("the file is empty", file=file)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AnnotationError(
            f"not UTF-8 text (byte {exc.start}); is this really JSON?", file=file
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        location = f"line {exc.lineno}, column {exc.colno}"
        raise AnnotationError(f"invalid JSON: {exc.msg}", file=file, location=location) from None
    except RecursionError:
        raise AnnotationError("invalid JSON: nested too deeply", file=file) from None


def read_json(path: str | os.PathLike) -> Any:
    return parse_json(read_bytes(path), file=path)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# --------------------------------------------------------------------------- dataset checks
def validate_dataset(dataset: Dataset, *, check_files: bool = True) -> list[Issue]:
    """Flag boxes outside the image, empty boxes, unknown categories and missing image files."""
    file = None if dataset.annotation_path is None else str(dataset.annotation_path)
    issues = [i for i in box_issues(dataset, file)]
    if check_files:
        issues += missing_file_issues(dataset, file)
    return issues


def box_issues(dataset: Dataset, file: str | None = None) -> list[Issue]:
    issues = []
    for obj in dataset.objects.values():
        image = dataset.images[obj.image_id]
        where = f"object {obj.id} in {image.file_name}"
        x1, y1, x2, y2 = obj.box
        if obj.category_id not in dataset.categories:
            issues.append(
                Issue(
                    "unknown_category",
                    f"unknown category id {obj.category_id}",
                    file,
                    where,
                    "error",
                    obj.image_id,
                    obj.id,
                )
            )
        if x2 <= x1 or y2 <= y1:
            issues.append(
                Issue(
                    "box_empty",
                    f"box {obj.box} has zero or negative size",
                    file,
                    where,
                    "warning",
                    obj.image_id,
                    obj.id,
                )
            )
        elif image.width > 0 and (x1 < 0 or y1 < 0 or x2 > image.width or y2 > image.height):
            issues.append(
                Issue(
                    "box_outside",
                    f"box {_fmt_box(obj.box)} extends outside the {image.width}x{image.height} image"
                    " (kept; clip offered)",
                    file,
                    where,
                    "warning",
                    obj.image_id,
                    obj.id,
                )
            )
    return issues


def missing_file_issues(dataset: Dataset, file: str | None = None) -> list[Issue]:
    issues = []
    for image in dataset.images.values():
        if not (dataset.root / image.file_name).is_file():
            issues.append(
                Issue(
                    "missing_file",
                    f"image file not found under {dataset.root}",
                    file,
                    image.file_name,
                    "warning",
                    image.id,
                )
            )
    return issues


def clip_boxes_edit(dataset: Dataset, object_ids: list[int] | None = None):
    """An UpdateObjects edit that clips boxes to their image (the fix for ``box_outside``).

    Boxes that would become empty after clipping (entirely outside) are left out; delete them.
    """
    from detector.edits import UpdateObjects

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
