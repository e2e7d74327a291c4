"""LabelMe JSON import: a folder of per-image ``*.json`` files (or one file).

Shapes become objects: ``rectangle`` a box; ``polygon`` a polygon mask and its bounding
box; ``circle`` a 32-gon; ``mask`` (LabelMe 5, a PNG of the box region) an RLE mask.
``line``, ``linestrip`` and ``point`` shapes are not objects; they are skipped and flagged.
Shapes that share a ``group_id`` are **one instance**: their polygons are merged into one
mask (a rectangle in a group counts as a 4-point polygon) and the box covers them all; if
their labels differ the first one wins and the group is flagged. Shape ``flags`` and
``description`` are kept in ``annotation.extra``; the flags ``iscrowd``, ``difficult``,
``truncated``, ``occluded`` become the object's own (see :mod:`detector.data.flags`). Category ids follow the order in which
labels first appear (files in name order), from 1.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import os
from pathlib import Path
from typing import Any

from detector.data.dataset import Annotation, Category, Dataset, ImageRecord
from detector.data.flags import lift_flags
from detector.data.issues import Issue, box_issues
from detector.data.masks import polygons_fit
from detector.data.palette import palette_color
from detector.errors import AnnotationError
from detector.formats._common import clip_far_boxes, image_size_or_none, relative_name
from detector.io.documents import is_number, read_json
from detector.io.limits import (
    MAX_NESTING,
    name_problem,
    nesting_depth_exceeds,
    valid_image_size,
)

OBJECT_SHAPES = ("rectangle", "polygon", "circle", "mask")


def load_labelme(
    source: str | os.PathLike, *, image_root: str | os.PathLike | None = None
) -> Dataset:
    """Read a LabelMe JSON file or every ``*.json`` of a folder; images resolve via ``image_root``."""
    path = Path(source)
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    if not files:
        raise AnnotationError("no LabelMe .json files in this folder", file=path)
    folder = path if path.is_dir() else path.parent
    dataset = Dataset(root=Path(image_root) if image_root else folder)
    for image_id, file in enumerate(files, start=1):
        _read_file(dataset, file, image_id)
    dataset.issues += clip_far_boxes(dataset)
    dataset.issues += box_issues(dataset)
    return dataset


def _read_file(dataset: Dataset, file: Path, image_id: int) -> None:
    doc = read_json(file)
    if not isinstance(doc, dict) or not isinstance(doc.get("shapes"), list):
        hint = (
            " (this looks like COCO; use --from coco)"
            if isinstance(doc, dict) and "images" in doc
            else ""
        )
        raise AnnotationError(f"not a LabelMe file: no 'shapes' list{hint}", file=file)
    if nesting_depth_exceeds(doc, MAX_NESTING):
        raise AnnotationError(f"values nest more than {MAX_NESTING} levels deep", file=file)
    name = _image_name(dataset, file, doc.get("imagePath"))
    problem = name_problem(name)
    if problem:
        raise AnnotationError(f"'imagePath' {problem}", file=file)
    width, height = doc.get("imageWidth"), doc.get("imageHeight")
    if not valid_image_size(width, height):
        width, height = image_size_or_none(dataset.root / name) or (0, 0)
        if not width:
            dataset.issues.append(
                Issue(
                    kind="unknown_size",
                    message="no imageWidth/imageHeight and the image cannot be read",
                    file=str(file),
                    location=None,
                    severity="error",
                    image_id=image_id,
                )
            )
    record = ImageRecord(id=image_id, file_name=name, width=int(width), height=int(height))
    dataset.add_image_record(record)
    groups: dict[Any, list[tuple[int, dict]]] = {}
    for index, shape in enumerate(doc["shapes"]):
        key = shape.get("group_id") if isinstance(shape, dict) else None
        if key is not None and (type(key) not in (int, str)):
            dataset.issues.append(
                Issue(
                    kind="bad_group",
                    message=f"group_id must be a number or text, not {type(key).__name__}; "
                    "the shape is its own instance",
                    file=str(file),
                    location=f"shapes[{index}]",
                    severity="warning",
                    image_id=image_id,
                )
            )
            key = None
        groups.setdefault(("group", key) if key is not None else ("shape", index), []).append(
            (index, shape)
        )
    for members in groups.values():
        _read_instance(dataset, record, members, str(file))


def _image_name(dataset: Dataset, file: Path, image_path: Any) -> str:
    if not isinstance(image_path, str) or not image_path:
        for candidate in sorted(file.parent.glob(file.stem + ".*")):
            if candidate.suffix.lower() != ".json":
                return relative_name(str(candidate.resolve()), dataset.root)
        return file.stem + ".jpg"
    full = (file.parent / image_path.replace("\\", "/")).resolve()
    name = relative_name(str(full), dataset.root)
    if os.path.isabs(name) and (dataset.root / full.name).exists():
        return full.name
    return name


def _read_instance(
    dataset: Dataset, record: ImageRecord, members: list[tuple[int, dict]], file: str
) -> None:
    polygons, rectangles, boxes, rles, labels, extras = [], [], [], [], [], {}
    for index, shape in members:
        where = f"shapes[{index}]"
        parsed = _shape_geometry(shape, record)
        if parsed is None:
            kind = shape.get("shape_type") if isinstance(shape, dict) else None
            dataset.issues.append(
                Issue(
                    kind="skipped_shape",
                    message=f"{kind or 'invalid'} shape is not an object; skipped",
                    file=file,
                    location=where,
                    severity="warning",
                    image_id=record.id,
                )
            )
            continue
        box, polygon, rle = parsed
        if rle is None and shape.get("shape_type") == "mask":
            dataset.issues.append(
                Issue(
                    kind="bad_mask",
                    message="mask is not a readable base64 PNG within the image; its box is kept",
                    file=file,
                    location=where,
                    severity="warning",
                    image_id=record.id,
                )
            )
        boxes.append(box)
        polygons += [polygon] if polygon else []
        if polygon is None and rle is None:  # a rectangle: a 4-gon if the group has a mask
            x1, y1, x2, y2 = box
            rectangles.append([x1, y1, x2, y1, x2, y2, x1, y2])
        rles += [rle] if rle else []
        labels.append(str(shape.get("label", "")))
        for key in ("flags", "description"):
            if shape.get(key):
                extras[key] = shape[key]
    if not boxes:
        return
    if len(set(labels)) > 1:
        dataset.issues.append(
            Issue(
                kind="mixed_group",
                message=f"group has labels {sorted(set(labels))}; using {labels[0]!r}",
                file=file,
                location=f"shapes[{members[0][0]}]",
                severity="warning",
                image_id=record.id,
            )
        )
    box = (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
    if polygons and not polygons_fit(polygons + rectangles, record.width, record.height):
        dataset.issues.append(
            Issue(
                kind="bad_mask",
                message="polygon lies far outside the image or is too long; only its box is kept",
                file=file,
                location=f"shapes[{members[0][0]}]",
                severity="warning",
                image_id=record.id,
            )
        )
        polygons = []
    mask = _merge_masks(polygons + rectangles, rles, record) if (polygons or rles) else None
    category = _category(dataset, labels[0])
    annotation = Annotation(
        id=dataset.new_object_id(),
        image_id=record.id,
        category_id=category.id,
        box=box,
        mask=mask,
        extra=extras or None,
    )
    dataset.add_object_record(lift_flags(annotation))  # iscrowd / difficult / ... flags


def _shape_geometry(shape: Any, record: ImageRecord):
    """(box, polygon or None, rle or None) of one shape, or None when it is not an object."""
    if not isinstance(shape, dict) or shape.get("shape_type", "polygon") not in OBJECT_SHAPES:
        return None
    points = shape.get("points")
    if not isinstance(points, list) or not all(
        isinstance(p, list) and len(p) == 2 and all(is_number(v) for v in p) for p in points
    ):
        return None
    kind = shape.get("shape_type", "polygon")
    if kind == "circle" and len(points) == 2:
        (cx, cy), (px, py) = points
        radius = math.hypot(px - cx, py - cy)
        points = [
            [cx + radius * math.cos(t * math.pi / 16), cy + radius * math.sin(t * math.pi / 16)]
            for t in range(32)
        ]
    xs, ys = [float(p[0]) for p in points], [float(p[1]) for p in points]
    if len(points) < 2 or (kind in ("polygon", "circle") and len(points) < 3):
        return None
    box = (min(xs), min(ys), max(xs), max(ys))
    if kind in ("rectangle", "mask"):
        rle = _mask_rle(shape.get("mask"), box, record) if kind == "mask" else None
        return box, None, rle
    return box, [v for p in zip(xs, ys, strict=True) for v in p], None


def _mask_rle(encoded: Any, box: tuple, record: ImageRecord) -> dict | None:
    """LabelMe 5 'mask' shapes: a base64 PNG covering the box, placed into the full image."""
    import cv2
    import numpy as np

    from detector.data.masks import rle_from_binary_mask

    if not isinstance(encoded, str) or record.width <= 0:
        return None
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    if not _patch_fits(data, record):
        return None
    patch = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if patch is None:
        return None
    full = np.zeros((record.height, record.width), np.uint8)
    x, y = int(box[0]), int(box[1])
    region = full[y : y + patch.shape[0], x : x + patch.shape[1]]
    region[...] = patch[: region.shape[0], : region.shape[1]] > 0
    return rle_from_binary_mask(full)


def _patch_fits(data: bytes, record: ImageRecord) -> bool:
    """The PNG header's size is at most the image's: checked before decoding any pixel."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as patch:
            width, height = patch.size
    except Exception:  # noqa: BLE001 - not an image, or pillow's DecompressionBombError
        return False
    return 0 < width <= record.width and 0 < height <= record.height


def _merge_masks(polygons: list, rles: list, record: ImageRecord) -> Any:
    if not rles:
        return polygons
    from pycocotools import mask as mask_utils

    parts = list(rles)
    if polygons:
        parts += mask_utils.frPyObjects(polygons, record.height, record.width)
    merged = mask_utils.merge(
        [
            {**r, "counts": r["counts"].encode() if isinstance(r["counts"], str) else r["counts"]}
            for r in parts
        ]
    )
    merged["counts"] = merged["counts"].decode("ascii")
    return merged


def _category(dataset: Dataset, label: str) -> Category:
    category = dataset.category_by_name(label)
    if category is None:
        category = Category(
            dataset.new_category_id(), label, palette_color(len(dataset.categories))
        )
        dataset.add_category_record(category)
    return category
