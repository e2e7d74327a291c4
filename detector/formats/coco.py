"""COCO JSON import and export.

Import accepts what real exporters write: category ids from 0, sparse or unsorted; bbox
``[x, y, w, h]`` in pixels; segmentation as polygons, compressed RLE (``counts`` str) or
uncompressed RLE (``counts`` list, crowd regions); empty ``segmentation`` lists; images
with no annotations. Fields DetScope does not use (``info``, ``licenses``, ``attributes``,
extra keys on images/categories/annotations) are kept and written back. Problems in the
data are flagged in ``dataset.issues`` (see :mod:`detector.data.issues`), not fatal.

Export writes bbox ``[x, y, w, h]``, ``area`` from the mask when there is one (pycocotools'
rasterised area) else from the box, the dataset's (unique, stable) ids and category ids,
oriented image width/height, masks as stored: polygons for human-drawn masks, compressed
RLE for model masks (see :func:`rle_from_binary_mask`). Unaccepted predictions are not
written. Objects with ``source="model"`` carry ``"source": "model"`` and their ``score``.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from detector.data.dataset import Annotation, Category, Dataset, ImageRecord
from detector.data.issues import box_issues
from detector.data.masks import decode_rle_counts as decode_rle_counts  # re-exported
from detector.data.masks import image_areas
from detector.data.masks import mask_area as mask_area  # re-exported
from detector.data.masks import rle_from_binary_mask as rle_from_binary_mask  # re-exported
from detector.errors import AnnotationError
from detector.formats.coco_reader import ANNOTATION_KEYS as ANNOTATION_KEYS  # re-exported
from detector.formats.coco_reader import CATEGORY_KEYS as CATEGORY_KEYS  # re-exported
from detector.formats.coco_reader import IMAGE_KEYS as IMAGE_KEYS  # re-exported
from detector.formats.coco_reader import Reader
from detector.io.documents import parse_json, read_bytes


# --------------------------------------------------------------------------- import
def load_coco(path: str | os.PathLike, *, image_root: str | os.PathLike | None = None) -> Dataset:
    """Read a COCO JSON file; ``image_root`` (default: the file's folder) resolves file names."""
    from detector.io.files import state_of

    file = Path(path)
    try:
        stat_before = file.stat()  # before reading: a change during the read is noticed later
    except OSError:
        stat_before = None
    data = read_bytes(file)
    root = file.parent if image_root is None else Path(image_root)
    with paused_gc():
        doc = parse_json(data, file=file)
        dataset = from_coco_dict(doc, image_root=root, file=file)
    dataset.annotation_path = file
    dataset.file_state = state_of(file, stat_before, data)
    return dataset


def from_coco_dict(
    doc: Any, *, image_root: str | os.PathLike = ".", file: str | os.PathLike | None = None
) -> Dataset:
    """Build a Dataset from a parsed COCO document (not modified)."""
    if not isinstance(doc, dict):
        raise AnnotationError(
            f"not a COCO file: the top level is a {type(doc).__name__}, "
            "expected an object with 'images'",
            file=file,
        )
    if "shapes" in doc and "images" not in doc:
        raise AnnotationError("this is a LabelMe file, not COCO; use --from labelme", file=file)
    if not isinstance(doc.get("images"), list):
        raise AnnotationError("not a COCO file: no 'images' list", file=file)
    for key in ("annotations", "categories"):
        if not isinstance(doc.get(key, []), list):
            raise AnnotationError(f"'{key}' must be a list", file=file)
    reader = Reader(Dataset(root=Path(image_root)), None if file is None else str(file))
    reader.dataset.extra = {
        k: v for k, v in doc.items() if k not in ("images", "annotations", "categories")
    }
    reader.check_kept(reader.dataset.extra, "top level")
    reader.read_images(doc["images"])
    reader.read_categories(doc.get("categories", []))
    reader.read_annotations(doc.get("annotations", []))
    reader.dataset.issues += box_issues(reader.dataset, reader.file)
    return reader.dataset


# --------------------------------------------------------------------------- export
def to_coco_dict(dataset: Dataset) -> dict[str, Any]:
    """The dataset as a COCO document (ground truth only; predictions are not included)."""
    images = [_image_dict(r) for r in dataset.images.values()]
    categories = [_category_dict(c) for c in dataset.categories.values()]
    annotations = []
    area_cache = dataset.derived.setdefault("coco_area", {})
    for image_id, image in dataset.images.items():
        objects = dataset.objects_in(image_id)
        if objects:
            areas = image_areas(objects, image, area_cache)
            annotations += [_annotation_dict(o, a) for o, a in zip(objects, areas, strict=True)]
    return {
        **dataset.extra,
        "images": images,
        "annotations": annotations + dataset.orphans,
        "categories": categories,
    }


def save_coco(dataset: Dataset, path: str | os.PathLike, *, backup: bool = True) -> Path:
    """Write ``to_coco_dict(dataset)`` atomically (no overwrite checks; see Dataset.save)."""
    from detector.io.files import atomic_write_bytes

    return atomic_write_bytes(path, coco_bytes(dataset), backup=backup)


def coco_bytes(dataset: Dataset) -> bytes:
    with paused_gc():
        return json.dumps(to_coco_dict(dataset), ensure_ascii=False).encode("utf-8")


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic GC passes while building/serialising ~10^5 acyclic objects (~35% of a load)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _image_dict(record: ImageRecord) -> dict[str, Any]:
    out = {
        "id": record.id,
        "file_name": record.file_name,
        "width": record.width,
        "height": record.height,
        **(record.extra or {}),
    }
    if record.verified:
        out["verified"] = True
    return out


def _category_dict(category: Category) -> dict[str, Any]:
    return {
        "id": category.id,
        "name": category.name,
        **(category.extra or {}),
        "color": category.color,
    }


def _annotation_dict(obj: Annotation, area: float) -> dict[str, Any]:
    x1, y1, x2, y2 = obj.box
    out: dict[str, Any] = {
        "id": obj.id,
        "image_id": obj.image_id,
        "category_id": obj.category_id,
        "bbox": [x1, y1, x2 - x1, y2 - y1],
    }
    out["segmentation"] = [] if obj.mask is None else obj.mask
    out["area"] = area
    out["iscrowd"] = int(obj.iscrowd)
    if obj.extra:
        out.update(obj.extra)
    if obj.source != "human":
        out["source"] = obj.source
    if obj.score is not None:
        out["score"] = obj.score
    return out
