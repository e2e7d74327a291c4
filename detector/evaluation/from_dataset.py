"""From an open Dataset and a model's detections to the evaluation's per-image arrays.

Ground truth comes from ``Dataset.objects_in``, detections from the per-image cache (boxes
xyxy, model label indices, scores), and model labels are mapped onto the dataset's category
ids by ``detector.data.labelmap`` (by name, or by position when no name matches but the
counts do, e.g. an untrained model's ``class_1`` ...). The Evaluate dock and the benchmarks
use these; nothing here knows about Qt.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from detector.data.labelmap import match_categories
from detector.data.masks import image_areas
from detector.evaluation.inputs import ImageInstances


@dataclass(frozen=True)
class CachedDetections:
    """One image's detections as the evaluation needs them.

    boxes (float32[N, 4]) xyxy image pixels; labels (int64[N]) model label indices;
    scores (float32[N]) descending as the model returned them; masks: for mask models, one
    compressed COCO RLE per detection (the mask at 0.5, as ``main.py detect`` writes it),
    so the same cache serves bbox and segm evaluation; None for box-only models.
    """

    boxes: np.ndarray
    labels: np.ndarray
    scores: np.ndarray
    masks: list[dict] | None = None

    @classmethod
    def from_detections(cls, detections) -> CachedDetections:
        return cls(
            np.asarray(detections.boxes, np.float32).reshape(-1, 4),
            np.asarray(detections.labels, np.int64).reshape(-1),
            np.asarray(detections.scores, np.float32).reshape(-1),
            detection_mask_rles(detections),
        )


def detection_mask_rles(detections) -> list[dict] | None:
    """Each detection's mask at 0.5 as pycocotools RLE (bytes counts); None without masks.

    Made from each mask's crop (``Detections.mask_rle``), never an image-sized array.
    """
    if not getattr(detections, "has_masks", False):
        return None
    rles = []
    for index in range(len(detections)):
        rle = detections.mask_rle(index)
        rles.append({"size": list(rle["size"]), "counts": rle["counts"].encode("ascii")})
    return rles


def model_key(model) -> str:
    """Identity of a model and its thresholds: same key, same detections."""
    settings = ",".join(f"{k}={v!r}" for k, v in sorted(model.settings.items()))
    return f"{model.architecture}|{model.source}|{model.trained}|{settings}"


def file_signature(path: Path) -> tuple[str, int, int]:
    """(path, mtime_ns, size): a changed file is detected again."""
    try:
        stat = os.stat(path)
    except OSError:
        return (str(path), -1, -1)
    return (str(path), stat.st_mtime_ns, stat.st_size)


class DetectionCache:
    """Detections per image, valid for one file signature and one model key."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[tuple, str, CachedDetections]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, image_id: int, signature: tuple, key: str) -> CachedDetections | None:
        entry = self._entries.get(image_id)
        if entry is None or entry[0] != signature or entry[1] != key:
            return None
        return entry[2]

    def put(self, image_id: int, signature: tuple, key: str, dets: CachedDetections) -> None:
        self._entries[image_id] = (signature, key, dets)

    def clear(self) -> None:
        self._entries.clear()


def category_mapping(model_categories: list[str], categories: dict[int, str]) -> np.ndarray:
    """int64[len(model_categories)]: dataset category id of each model label, -1 if none."""
    return match_categories(model_categories, categories, by_position_when_unnamed=True).ids


def evaluated_image_ids(dataset) -> list[int]:
    """The annotated set: images with at least one object, or marked verified (empty)."""
    return [
        image_id
        for image_id, record in dataset.images.items()
        if record.verified or dataset.objects_in(image_id)
    ]


def ground_truth(dataset, image_id: int, iou_type: str = "bbox") -> ImageInstances:
    """One image's objects as the engine's arrays (areas as the COCO export writes them).

    Crowd objects and VOC ``difficult`` ones are ignored regions; ``segm`` adds each
    object's mask as pycocotools RLE (an object without a mask gets an empty one; callers
    refuse segm first, see :func:`segm_problem`).
    """
    from detector.data.flags import is_ignored

    objects = dataset.objects_in(image_id)
    if not objects:
        return ImageInstances.empty()
    boxes = np.array([obj.box for obj in objects], np.float64)
    masks = None
    if iou_type == "segm":
        record = dataset.images[image_id]
        masks = [_gt_rle(obj, record) for obj in objects]
    return ImageInstances.from_xyxy(
        boxes,
        np.array([obj.category_id for obj in objects], np.int64),
        areas=_areas(dataset, image_id, objects),
        iscrowd=np.array([obj.iscrowd for obj in objects], bool),
        ignore=np.array([is_ignored(obj) and not obj.iscrowd for obj in objects], bool),
        ids=np.array([obj.id for obj in objects], np.int64),
        masks=masks,
    )


def _gt_rle(obj, record) -> dict:
    from detector.data.masks import mask_to_rle

    height, width = max(record.height, 1), max(record.width, 1)
    if obj.mask is None:
        from pycocotools import mask as mask_utils

        return mask_utils.encode(np.zeros((height, width), np.uint8, order="F"))
    return mask_to_rle(obj.mask, height, width)


def segm_problem(dataset, model, image_ids: list[int]) -> str | None:
    """Why segm evaluation cannot run (which side lacks masks), or None when it can."""
    if getattr(model, "kind", "mask") != "mask":
        return (
            f"segm needs masks on both sides: the model ({model.architecture}) predicts "
            "boxes only. Load a Mask R-CNN or evaluate bbox."
        )
    missing = sum(
        obj.mask is None for image_id in image_ids for obj in dataset.objects_in(image_id)
    )
    if missing:
        total = sum(len(dataset.objects_in(image_id)) for image_id in image_ids)
        return (
            f"segm needs masks on both sides: {missing} of {total} ground-truth objects have "
            "no mask. Draw polygons (P) or use Mask from box, or evaluate bbox."
        )
    return None


def _areas(dataset, image_id: int, objects) -> np.ndarray:
    cache = dataset.derived.setdefault("coco_area", {})
    return np.asarray(image_areas(objects, dataset.images[image_id], cache), np.float64)


def detections_instances(
    dets: CachedDetections | None, mapping: np.ndarray, iou_type: str = "bbox"
) -> ImageInstances:
    """Cached detections with model labels turned into dataset category ids.

    Detections of a label with no dataset category are dropped; ``ids`` keep the index into
    the cached arrays so a curve point leads back to its box. ``segm`` carries the masks.
    """
    if dets is None or len(dets.labels) == 0:
        empty = ImageInstances.empty(with_scores=True)
        if iou_type == "segm":
            empty.masks = []
        return empty
    inside = (dets.labels >= 0) & (dets.labels < len(mapping))
    category = np.full(len(dets.labels), -1, np.int64)
    category[inside] = mapping[dets.labels[inside]]
    keep = np.flatnonzero(category >= 0)
    masks = None
    if iou_type == "segm" and dets.masks is not None:
        masks = [dets.masks[i] for i in keep]
    # areas stay the boxes' (pycocotools' loadRes does so for results with a bbox, which
    # every detection has), so the numbers equal main.py eval on detect's output
    return ImageInstances.from_xyxy(
        dets.boxes[keep].astype(np.float64),
        category[keep],
        scores=dets.scores[keep].astype(np.float64),
        ids=keep,
        masks=masks,
    )
