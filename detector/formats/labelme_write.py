"""LabelMe JSON export: one ``<image stem>.json`` per image (LabelMe 5 layout).

Objects become shapes: a polygon mask one ``polygon`` shape per part (parts of one object
share a ``group_id``, which the reader merges back into one object); an RLE mask a LabelMe 5
``mask`` shape (a base64 PNG of its box region, exact); no mask a ``rectangle``. Flags
(``iscrowd``, ``difficult``, ``truncated``, ``occluded``) go in each shape's ``flags``, next
to any flags the object was read with; ``description`` is written back.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from detector.data.dataset import Annotation, Dataset, ImageRecord
from detector.data.flags import object_flags
from detector.formats._common import refuse_overwrite, safe_output_path
from detector.formats._masks import object_binary

LABELME_VERSION = "5.5.0"


def save_labelme(
    dataset: Dataset, out_dir: str | os.PathLike, *, overwrite: bool = False
) -> list[str]:
    """Write one LabelMe JSON per image into ``out_dir``; returns warnings."""
    from detector.io.files import atomic_write_bytes

    target_dir = Path(out_dir)
    targets = {
        i: safe_output_path(target_dir, r.file_name, ".json") for i, r in dataset.images.items()
    }
    refuse_overwrite(list(targets.values()), overwrite, "LabelMe files", target_dir)
    warnings = []
    for image_id, record in dataset.images.items():
        target = targets[image_id]
        shapes: list[dict] = []
        group = 0
        for obj in dataset.objects_in(image_id):
            name = dataset.categories[obj.category_id].name
            object_shapes = _shapes(obj, name, record)
            if obj.mask is not None and not object_shapes:
                warnings.append(f"{record.file_name}: object {obj.id}'s mask is empty; box kept")
                object_shapes = _shapes(_without_mask(obj), name, record)
            if len(object_shapes) > 1:
                group += 1
                for shape in object_shapes:
                    shape["group_id"] = group
            shapes += object_shapes
        doc = _document(dataset, record, target, shapes)
        atomic_write_bytes(target, json.dumps(doc, indent=1).encode("utf-8"))
    return warnings


def _document(dataset: Dataset, record: ImageRecord, target: Path, shapes: list) -> dict:
    image_path = os.path.relpath(dataset.root / record.file_name, target.parent)
    return {
        "version": LABELME_VERSION,
        "flags": {},
        "shapes": shapes,
        "imagePath": Path(image_path).as_posix(),
        "imageData": None,
        "imageHeight": record.height,
        "imageWidth": record.width,
    }


def _without_mask(obj: Annotation) -> Annotation:
    from dataclasses import replace

    return replace(obj, mask=None)


def _shapes(obj: Annotation, label: str, record: ImageRecord) -> list[dict[str, Any]]:
    extra = obj.extra or {}
    flags = {**(extra.get("flags") or {}), **object_flags(obj)}
    base = {"label": label, "group_id": None, "description": extra.get("description", "")}
    base["flags"] = flags
    if isinstance(obj.mask, list):
        return [
            {**base, "shape_type": "polygon", "points": _points(polygon)} for polygon in obj.mask
        ]
    x1, y1, x2, y2 = obj.box
    if obj.mask is None:
        return [{**base, "shape_type": "rectangle", "points": [[x1, y1], [x2, y2]]}]
    binary = object_binary(obj, record)
    if binary is None or not binary.any():
        return []
    return [{**base, **_mask_shape(binary)}]


def _points(polygon: list[float]) -> list[list[float]]:
    return [[float(polygon[i]), float(polygon[i + 1])] for i in range(0, len(polygon) - 1, 2)]


def _mask_shape(binary: np.ndarray) -> dict[str, Any]:
    """A LabelMe 5 ``mask`` shape: the mask's pixel extent and its PNG, base64."""
    import cv2

    rows, cols = np.flatnonzero(binary.any(1)), np.flatnonzero(binary.any(0))
    y1, y2, x1, x2 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    ok, png = cv2.imencode(".png", binary[y1:y2, x1:x2].astype(np.uint8) * 255)
    if not ok:
        raise RuntimeError("OpenCV could not encode a mask PNG")
    return {
        "shape_type": "mask",
        "points": [[float(x1), float(y1)], [float(x2), float(y2)]],
        "mask": base64.b64encode(png.tobytes()).decode("ascii"),
    }
