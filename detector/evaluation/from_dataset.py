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
    """One image's detections as the evaluation needs them (no masks: bbox evaluation).

    boxes (float32[N, 4]) xyxy image pixels; labels (int64[N]) model label indices;
    scores (float32[N]) descending as the model returned them.
    """

    boxes: np.ndarray
    labels: np.ndarray
    scores: np.ndarray

    @classmethod
    def from_detections(cls, detections) -> CachedDetections:
        return cls(
            np.asarray(detections.boxes, np.float32).reshape(-1, 4),
            np.asarray(detections.labels, np.int64).reshape(-1),
            np.asarray(detections.scores, np.float32).reshape(-1),
        )


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


def ground_truth(dataset, image_id: int) -> ImageInstances:
    """One image's objects as the engine's arrays (areas as the COCO export writes them)."""
    objects = dataset.objects_in(image_id)
    if not objects:
        return ImageInstances.empty()
    boxes = np.array([obj.box for obj in objects], np.float64)
    return ImageInstances.from_xyxy(
        boxes,
        np.array([obj.category_id for obj in objects], np.int64),
        areas=_areas(dataset, image_id, objects),
        iscrowd=np.array([obj.iscrowd for obj in objects], bool),
        ids=np.array([obj.id for obj in objects], np.int64),
    )


def _areas(dataset, image_id: int, objects) -> np.ndarray:
    cache = dataset.derived.setdefault("coco_area", {})
    return np.asarray(image_areas(objects, dataset.images[image_id], cache), np.float64)


def detections_instances(dets: CachedDetections | None, mapping: np.ndarray) -> ImageInstances:
    """Cached detections with model labels turned into dataset category ids.

    Detections of a label with no dataset category are dropped; ``ids`` keep the index into
    the cached arrays so a curve point leads back to its box.
    """
    if dets is None or len(dets.labels) == 0:
        return ImageInstances.empty(with_scores=True)
    inside = (dets.labels >= 0) & (dets.labels < len(mapping))
    category = np.full(len(dets.labels), -1, np.int64)
    category[inside] = mapping[dets.labels[inside]]
    keep = np.flatnonzero(category >= 0)
    return ImageInstances.from_xyxy(
        dets.boxes[keep].astype(np.float64),
        category[keep],
        scores=dets.scores[keep].astype(np.float64),
        ids=keep,
    )
