"""Every COCO document DetScope writes is built here: datasets, detections, training sets.

Dataset export (``to_coco_dict``, ``save_coco``, ``coco_bytes``) writes bbox
``[x, y, w, h]``, ``area`` from the mask when there is one (pycocotools' rasterised area)
else from the box, the dataset's (unique, stable) ids and category ids, oriented image
width/height, masks as stored: polygons for human-drawn masks, compressed RLE for model
masks. Unaccepted predictions are not written. Objects with ``source="model"`` carry
``"source": "model"`` and their ``score``.

The entries: ``image_dict``, ``category_dict``, ``annotation_dict`` (ground truth, from the
data model), ``detection_dicts`` (a model's detections in COCO's results format, with ids
so the file is also a dataset) and ``coco_document`` (the top level). ``write_coco`` writes
a document atomically. Used by the dataset store, ``main.py detect``, training evaluation
and the synthetic shapes writer.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from detector.data.dataset import Annotation, Category, Dataset, ImageRecord
from detector.data.labelmap import BACKGROUND, PLACEHOLDER_NAMES
from detector.data.masks import image_areas
from detector.data.palette import palette_color
from detector.inference.detections import Detections, mask_rles


# --------------------------------------------------------------------------- entries
def image_dict(record: ImageRecord) -> dict[str, Any]:
    """One ``images`` entry (extra fields read from the file are written back)."""
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


def category_dict(category: Category) -> dict[str, Any]:
    """One ``categories`` entry, with DetScope's ``color``."""
    return {
        "id": category.id,
        "name": category.name,
        **(category.extra or {}),
        "color": category.color,
    }


def annotation_dict(obj: Annotation, area: float) -> dict[str, Any]:
    """One ground-truth ``annotations`` entry; ``area`` as ``image_areas`` computes it."""
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


def model_category_dicts(model_categories: Sequence[str]) -> list[dict[str, Any]]:
    """A model's classes as ``categories`` (id = model label; no background, no "N/A")."""
    return [
        category_dict(Category(label, name, palette_color(label - 1), {"supercategory": ""}))
        for label, name in enumerate(model_categories)
        if label != BACKGROUND and name not in PLACEHOLDER_NAMES
    ]


def detection_dicts(
    detections: Detections,
    image_id: int,
    *,
    first_id: int = 1,
    category_ids: Sequence[int] | None = None,
    rounded: bool = False,
) -> list[dict[str, Any]]:
    """One image's detections as COCO results entries (with ``id``, ``area``, ``iscrowd``).

    ``category_ids``: the category id of each model label (-1: not written); None writes
    the label itself. Masks become compressed RLE at ``MASK_THRESHOLD`` (``area`` is then
    the mask's pixel count), keypoints COCO's flat ``[x, y, v, ...]``. ``rounded``: boxes
    and areas to 0.01 px, scores to 5 decimals (a smaller file for people to read).
    """
    rles = mask_rles(detections)
    entries = []
    for index in range(len(detections)):
        label = int(detections.labels[index])
        category = label if category_ids is None else _category_of(label, category_ids)
        if category < 0:
            continue
        x1, y1, x2, y2 = (float(v) for v in detections.boxes[index])
        bbox, area = [x1, y1, x2 - x1, y2 - y1], (x2 - x1) * (y2 - y1)
        score = float(detections.scores[index])
        if rounded:
            bbox, area, score = [round(v, 2) for v in bbox], round(area, 2), round(score, 5)
        entry = {
            "id": first_id + len(entries),
            "image_id": image_id,
            "category_id": category,
            "bbox": bbox,
            "area": area,
            "score": score,
            "iscrowd": 0,
        }
        if rles is not None:
            entry["segmentation"] = rles[index]
            entry["area"] = detections.mask_area(index)  # pixels above MASK_THRESHOLD
        if detections.keypoints is not None:
            points = detections.keypoints[index]
            entry["keypoints"] = [round(float(v), 2) for v in points.reshape(-1)]
            entry["num_keypoints"] = int((points[:, 2] > 0).sum())
        entries.append(entry)
    return entries


def _category_of(label: int, category_ids: Sequence[int]) -> int:
    return int(category_ids[label]) if 0 <= label < len(category_ids) else -1


def coco_document(
    images: Iterable[dict], categories: Iterable[dict], annotations: Iterable[dict], **top: Any
) -> dict[str, Any]:
    """The top level: ``top`` fields (``info``, ``licenses``, ...) first, then the lists."""
    return {
        **top,
        "images": list(images),
        "annotations": list(annotations),
        "categories": list(categories),
    }


# --------------------------------------------------------------------------- datasets
def to_coco_dict(dataset: Dataset) -> dict[str, Any]:
    """The dataset as a COCO document (ground truth only; predictions are not included)."""
    images = [image_dict(r) for r in dataset.images.values()]
    categories = [category_dict(c) for c in dataset.categories.values()]
    annotations = []
    area_cache = dataset.derived.setdefault("coco_area", {})
    for image_id, image in dataset.images.items():
        objects = dataset.objects_in(image_id)
        if objects:
            areas = image_areas(objects, image, area_cache)
            annotations += [annotation_dict(o, a) for o, a in zip(objects, areas, strict=True)]
    return coco_document(images, categories, annotations + dataset.orphans, **dataset.extra)


def save_coco(dataset: Dataset, path: str | os.PathLike, *, backup: bool = True) -> Path:
    """Write ``to_coco_dict(dataset)`` atomically (no overwrite checks; see Dataset.save)."""
    from detector.io.files import atomic_write_bytes

    return atomic_write_bytes(path, coco_bytes(dataset), backup=backup)


def coco_bytes(dataset: Dataset) -> bytes:
    with paused_gc():
        doc = to_coco_dict(dataset)
        pieces = json_pieces(doc, release=("images", "annotations"))  # lists made for doc
        del doc
        return b"".join(piece.encode("utf-8") for piece in pieces)


def dumps_in_chunks(doc: dict[str, Any], chunk: int = 500) -> str:
    """``json.dumps(doc, ensure_ascii=False)``, character for character (see json_pieces)."""
    return "".join(json_pieces(doc, chunk))


def json_pieces(
    doc: dict[str, Any], chunk: int = 500, release: tuple[str, ...] = ()
) -> Iterator[str]:
    """``json.dumps(doc, ensure_ascii=False)`` in pieces: each list is encoded ``chunk``
    items at a time. The C encoder holds the GIL for one whole call (~8 s for 1,000,000
    annotations), and so do encoding one huge string and freeing a million dicts at once:
    a save in a worker thread would freeze the GUI thread; between pieces other threads
    run. The lists under the keys in ``release`` (owned by the caller, no one else's) get
    their encoded items replaced by None as it goes, so they are freed a chunk at a time."""
    if not all(type(key) is str for key in doc):
        yield json.dumps(doc, ensure_ascii=False)
        return
    for number, (key, value) in enumerate(doc.items()):
        yield ("{" if number == 0 else ", ") + json.dumps(key, ensure_ascii=False) + ": "
        if type(value) is list and len(value) > chunk:
            for start in range(0, len(value), chunk):
                text = json.dumps(value[start : start + chunk], ensure_ascii=False)
                if key in release:
                    value[start : start + chunk] = [None] * len(value[start : start + chunk])
                yield ("[" if start == 0 else ", ") + text[1:-1]
            yield "]"
        else:
            yield json.dumps(value, ensure_ascii=False)
    yield "}" if doc else "{}"


def write_coco(path: str | os.PathLike, document: dict[str, Any]) -> Path:
    """Write a COCO ``document`` atomically (temp file, fsync, rename)."""
    from detector.io.files import atomic_write_json

    return atomic_write_json(path, document)


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
