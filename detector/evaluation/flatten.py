"""Per-image inputs -> flat arrays, detections ranked per (image, category) as COCOeval does."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.evaluation.inputs import EvaluationInput
from detector.evaluation.params import EvalParams


@dataclass(kw_only=True)
class FlatGroundTruth:
    """Ground truths sorted by (image, category, input order)."""

    img: np.ndarray  # int64 index into the sorted image ids
    cls: np.ndarray  # int64 index into the sorted category ids
    local: np.ndarray  # int64 index in the image's input arrays
    boxes: np.ndarray  # float64[G, 4] xywh
    area: np.ndarray
    crowd: np.ndarray
    ignore: np.ndarray  # effective: crowd or ignore flag

    def ignored_in(self, area_ranges: np.ndarray) -> np.ndarray:
        """bool[A, G]: COCOeval's ``_ignore`` per area range."""
        lo, hi = area_ranges[:, 0:1], area_ranges[:, 1:2]
        return self.ignore[None, :] | (self.area[None, :] < lo) | (self.area[None, :] > hi)


@dataclass(kw_only=True)
class FlatDetections:
    """Detections kept (score rank < maxDets[-1]) sorted by (image, category, -score, input)."""

    img: np.ndarray
    cls: np.ndarray
    local: np.ndarray
    boxes: np.ndarray
    area: np.ndarray
    score: np.ndarray
    rank: np.ndarray  # position in its (image, category) group after the score sort


def _concat(parts: list[np.ndarray], dtype, width: int | None = None) -> np.ndarray:
    if parts:
        return np.concatenate(parts).astype(dtype, copy=False)
    return np.zeros((0, width) if width else 0, dtype)


def _category_index(labels: np.ndarray, category_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index, known) of each label among the sorted category ids."""
    index = np.searchsorted(category_ids, labels)
    index = np.minimum(index, max(len(category_ids) - 1, 0))
    known = category_ids[index] == labels if len(category_ids) else np.zeros(len(labels), bool)
    return index, known


def flatten(
    data: EvaluationInput, image_index: dict[int, int], image_ids: list[int], params: EvalParams
) -> tuple[FlatGroundTruth, FlatDetections]:
    """Flat, category-filtered, sorted arrays for ``image_ids`` (their index from image_index)."""
    category_ids = np.asarray(data.category_ids, dtype=np.int64)
    gts = [data.gt[i] for i in image_ids]
    dts = [data.detections(i) for i in image_ids]
    indices = np.array([image_index[i] for i in image_ids], np.int64)
    gt_img = np.repeat(indices, [len(g) for g in gts])
    dt_img = np.repeat(indices, [len(d) for d in dts])
    gt_cls, gt_known = _category_index(_concat([g.labels for g in gts], np.int64), category_ids)
    dt_cls, dt_known = _category_index(_concat([d.labels for d in dts], np.int64), category_ids)
    gt = FlatGroundTruth(
        img=gt_img,
        cls=gt_cls,
        local=_local_indices([len(g) for g in gts]),
        boxes=_concat([g.boxes for g in gts], np.float64, 4),
        area=_concat([g.areas for g in gts], np.float64),
        crowd=_concat([g.iscrowd for g in gts], bool),
        ignore=_concat([g.effective_ignore for g in gts], bool),
    )
    gt = _take(gt, FlatGroundTruth, np.flatnonzero(gt_known))
    gt = _take(gt, FlatGroundTruth, np.lexsort((gt.local, gt.cls, gt.img)))
    dt = FlatDetections(
        img=dt_img,
        cls=dt_cls,
        local=_local_indices([len(d) for d in dts]),
        boxes=_concat([d.boxes for d in dts], np.float64, 4),
        area=_concat([d.areas for d in dts], np.float64),
        score=_concat([d.scores for d in dts], np.float64),
        rank=np.zeros(len(dt_img), np.int64),
    )
    dt = _take(dt, FlatDetections, np.flatnonzero(dt_known))
    dt = _take(dt, FlatDetections, np.lexsort((dt.local, -dt.score, dt.cls, dt.img)))
    dt.rank = _rank_in_groups(dt.img * max(len(category_ids), 1) + dt.cls)
    return gt, _take(dt, FlatDetections, np.flatnonzero(dt.rank < params.max_dets[-1]))


def _local_indices(sizes: list[int]) -> np.ndarray:
    sizes = np.asarray(sizes, np.int64)
    total = int(sizes.sum())
    return np.arange(total) - np.repeat(np.cumsum(sizes) - sizes, sizes)


def _rank_in_groups(sorted_keys: np.ndarray) -> np.ndarray:
    if sorted_keys.size == 0:
        return np.zeros(0, np.int64)
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    lengths = np.diff(np.r_[starts, sorted_keys.size])
    return np.arange(sorted_keys.size) - np.repeat(starts, lengths)


def _take(flat, cls, index: np.ndarray):
    return cls(**{name: getattr(flat, name)[index] for name in flat.__dataclass_fields__})
