"""Evaluation inputs: per-image numpy arrays, built from COCO dicts or from plain arrays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from detector.evaluation.params import EvaluationError


@dataclass(kw_only=True)
class ImageInstances:
    """Ground truth or detections of one image.

    boxes (float64[N, 4]) in COCO's [x, y, w, h] image pixels; labels (int64[N]) category
    ids; scores (float64[N]) for detections, None for ground truth; areas (float64[N]) as
    COCOeval uses them (a ground truth's ``area`` field, a detection's w * h or mask area);
    iscrowd / ignore (bool[N]): crowd regions and ignore flags (VOC ``difficult``); ids
    (int64[N]) annotation ids; masks: one COCO RLE dict per instance for ``segm``.
    """

    boxes: np.ndarray
    labels: np.ndarray
    scores: np.ndarray | None = None
    areas: np.ndarray | None = None
    iscrowd: np.ndarray | None = None
    ignore: np.ndarray | None = None
    ids: np.ndarray | None = None
    masks: list[dict] | None = None

    def __post_init__(self) -> None:
        self.boxes = np.asarray(self.boxes, dtype=np.float64).reshape(-1, 4)
        n = self.boxes.shape[0]
        self.labels = _vector(self.labels, np.int64, n, "labels")
        if self.scores is not None:
            self.scores = _vector(self.scores, np.float64, n, "scores")
        if self.areas is None:
            self.areas = self.boxes[:, 2] * self.boxes[:, 3]
        self.areas = _vector(self.areas, np.float64, n, "areas")
        self.iscrowd = _flags(self.iscrowd, n, "iscrowd")
        self.ignore = _flags(self.ignore, n, "ignore")
        self.ids = _vector(
            np.arange(1, n + 1) if self.ids is None else self.ids, np.int64, n, "ids"
        )
        if self.masks is not None and len(self.masks) != n:
            raise EvaluationError(f"{len(self.masks)} masks for {n} instances")

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    @classmethod
    def empty(cls, with_scores: bool = False) -> ImageInstances:
        return cls(
            boxes=np.zeros((0, 4)),
            labels=np.zeros(0, np.int64),
            scores=np.zeros(0) if with_scores else None,
        )

    @classmethod
    def from_xyxy(cls, boxes_xyxy: np.ndarray, labels: np.ndarray, **kwargs) -> ImageInstances:
        """From [x1, y1, x2, y2] boxes (``Detections.boxes``); other fields as keywords."""
        xyxy = np.asarray(boxes_xyxy, dtype=np.float64).reshape(-1, 4)
        xywh = np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)
        return cls(boxes=xywh, labels=labels, **kwargs)

    @property
    def effective_ignore(self) -> np.ndarray:
        """COCOeval ignores crowd regions; VOC ignores ``difficult`` objects."""
        return self.iscrowd | self.ignore


def _vector(values, dtype, n: int, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=dtype).reshape(-1)
    if array.shape[0] != n:
        raise EvaluationError(f"{name}: {array.shape[0]} values for {n} boxes")
    return array


def _flags(values, n: int, name: str) -> np.ndarray:
    return np.zeros(n, bool) if values is None else _vector(values, bool, n, name)


@dataclass
class EvaluationInput:
    """Everything one evaluation needs: ground truth and detections keyed by image id."""

    gt: dict[int, ImageInstances]
    dt: dict[int, ImageInstances]
    categories: dict[int, str] = field(default_factory=dict)
    image_names: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.dt) - set(self.gt))
        if unknown:
            raise EvaluationError(f"detections for images not in the ground truth: {unknown[:5]}")
        if not self.categories:
            labels = [inst.labels for inst in self.gt.values()]
            ids = np.unique(np.concatenate(labels)) if labels else np.zeros(0, np.int64)
            self.categories = {int(i): str(i) for i in ids}

    @property
    def image_ids(self) -> list[int]:
        return sorted(self.gt)

    @property
    def category_ids(self) -> list[int]:
        return sorted(self.categories)

    def detections(self, image_id: int) -> ImageInstances:
        return self.dt.get(image_id) or ImageInstances.empty(with_scores=True)


def from_arrays(
    gt: Mapping[int, ImageInstances],
    dt: Mapping[int, ImageInstances],
    categories: Mapping[int, str] | Sequence[int] | None = None,
) -> EvaluationInput:
    """Inputs from per-image arrays (the GUI's path: no JSON in between)."""
    if categories is not None and not isinstance(categories, Mapping):
        categories = {int(c): str(c) for c in categories}
    return EvaluationInput(dict(gt), dict(dt), dict(categories or {}))
