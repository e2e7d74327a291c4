"""COCO ``analyze()`` breakdown: stacked PR curves C75, C50, Loc, Sim, Oth, BG, FN.

As mmdetection's ``tools/analysis_tools/coco_error_analysis.py`` (the Python port of the
COCO API's analyze): COCOeval at IoU 0.75 / 0.5 / 0.1 with 100 detections (C75, C50, Loc);
Sim: per category, ground truth of the other categories of its supercategory becomes a
crowd region of this category (so confusing similar classes stops costing), at IoU 0.1;
Oth: the same with every other category; BG: precision 1 wherever Oth is > 0; FN: 1.

Each variant runs through the program's COCOeval-equal engine (``detector.evaluation``):
all categories at once, the crowd copies added only to images where the category has
detections (elsewhere they change nothing).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.evaluation.accumulate import accumulate
from detector.evaluation.block import evaluate_block
from detector.evaluation.inputs import EvaluationInput, ImageInstances
from detector.evaluation.params import EvalParams

TYPES = ("C75", "C50", "Loc", "Sim", "Oth", "BG", "FN")


@dataclass(kw_only=True)
class AnalyzeResult:
    """precision (float64[7, R, K, A]) in TYPES order, COCOeval's layout (-1: no ground
    truth); recall_thresholds (R); category_ids (K); area_labels (A)."""

    precision: np.ndarray
    recall_thresholds: np.ndarray
    category_ids: list[int]
    category_names: dict[int, str]
    area_labels: tuple[str, ...]

    def areas(self, category: int | None = None, area: str = "all") -> dict[str, float]:
        """Area under each stacked curve (mean precision over recall): one category, or
        the mean over the categories with ground truth."""
        a = self.area_labels.index(area)
        block = self.precision[:, :, :, a]  # [7, R, K]
        if category is not None:
            block = block[:, :, [self.category_ids.index(category)]]
        valid = block[0, 0] > -1
        if not valid.any():
            return {name: float("nan") for name in TYPES}
        return {name: float(block[t][:, valid].mean()) for t, name in enumerate(TYPES)}

    def curves(self, category: int | None = None, area: str = "all") -> np.ndarray:
        """float64[7, R]: the stacked curves (mean over categories with ground truth)."""
        a = self.area_labels.index(area)
        block = self.precision[:, :, :, a]
        if category is not None:
            block = block[:, :, [self.category_ids.index(category)]]
        valid = block[0, 0] > -1
        if not valid.any():
            return np.zeros((len(TYPES), block.shape[1]))
        return block[:, :, valid].mean(axis=2)

    def table(self) -> dict[str, dict[str, float]]:
        """{"all": areas, category name: areas, ...} for area "all"."""
        rows = {"all": self.areas()}
        for category in self.category_ids:
            values = self.areas(category)
            if not np.isnan(values["C75"]):
                rows[self.category_names.get(category, str(category))] = values
        return rows

    def to_json(self) -> dict:
        return {
            "types": list(TYPES),
            "areas": {area: self.areas(area=area) for area in self.area_labels},
            "per_class": self.table(),
        }


def _params(thresholds: list[float], area_ranges: np.ndarray | None) -> EvalParams:
    base = EvalParams()
    return EvalParams(
        iou_thresholds=np.array(thresholds, np.float64),
        recall_thresholds=base.recall_thresholds,
        area_ranges=base.area_ranges if area_ranges is None else np.asarray(area_ranges, float),
        area_labels=base.area_labels,
        max_dets=(100,),
    )


def _precision(data: EvaluationInput, params: EvalParams) -> np.ndarray:
    """float64[T, R, K, A] of COCOeval.accumulate (maxDets [100]) on ``data`` (bbox)."""
    image_ids = data.image_ids
    index = {image_id: i for i, image_id in enumerate(image_ids)}
    block = evaluate_block(data, image_ids, index, params, "bbox")
    return accumulate(block, len(data.categories), params).precision[..., 0]


def _with_crowd_copies(data: EvaluationInput, group_of: dict[int, tuple]) -> EvaluationInput:
    """Ground truth plus, per image and per detected category k, every other object whose
    category shares k's group, as an ignored crowd region labelled k (mmdet's rewrite)."""
    names = sorted(set(group_of.values()), key=repr)
    group_index = {int(k): names.index(v) for k, v in group_of.items()}
    image_ids = data.image_ids
    truths = [data.gt[i] for i in image_ids]
    flat = _concat(truths)
    g_count = np.array([len(t) for t in truths], np.int64)
    g_start = np.cumsum(g_count) - g_count
    d_img, d_cls = _detected_classes(data, image_ids)
    group = _group_lookup(group_index)
    sizes = g_count[d_img]
    which = np.repeat(np.arange(d_img.size), sizes)
    offset = np.arange(which.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    rows = g_start[d_img][which] + offset
    k = d_cls[which]
    keep = (flat.labels[rows] != k) & (group(flat.labels[rows]) == group(k))
    rows, k, copy_img = rows[keep], k[keep], d_img[which][keep]
    own_img = np.repeat(np.arange(len(image_ids)), g_count)
    order = np.argsort(np.r_[own_img, copy_img], kind="stable")
    merged = ImageInstances(
        np.r_[flat.boxes, flat.boxes[rows]][order],
        np.r_[flat.labels, k][order],
        areas=np.r_[flat.areas, flat.areas[rows]][order],
        iscrowd=np.r_[flat.iscrowd, np.ones(rows.size, bool)][order],
        ignore=np.r_[flat.ignore, np.zeros(rows.size, bool)][order],
        ids=np.r_[flat.ids, flat.ids[rows]][order],
    )
    counts = g_count + np.bincount(copy_img, minlength=len(image_ids))
    bounds = np.r_[0, np.cumsum(counts)]
    gt = {
        image_id: _slice(merged, bounds[i], bounds[i + 1]) if counts[i] != g_count[i] else truth
        for i, (image_id, truth) in enumerate(zip(image_ids, truths, strict=True))
    }
    return EvaluationInput(gt, data.dt, data.categories, data.image_names)


def _detected_classes(data: EvaluationInput, image_ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(image index, category id) of every distinct detected category per image."""
    dets = [data.detections(i) for i in image_ids]
    img = np.repeat(np.arange(len(dets)), [len(d) for d in dets])
    labels = np.concatenate([d.labels for d in dets]) if dets else np.zeros(0, np.int64)
    if labels.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    classes, label_index = np.unique(labels.astype(np.int64), return_inverse=True)
    keys = np.unique(img * classes.size + label_index.reshape(-1))
    return keys // classes.size, classes[keys % classes.size]


def _group_lookup(group_index: dict[int, int]):
    def group(labels: np.ndarray) -> np.ndarray:
        unique, inverse = np.unique(labels, return_inverse=True)
        mapped = np.array([group_index.get(int(c), -int(c) - 1) for c in unique], np.int64)
        return mapped[inverse].reshape(labels.shape)

    return group


def _slice(flat: ImageInstances, lo: int, hi: int) -> ImageInstances:
    return ImageInstances(
        flat.boxes[lo:hi],
        flat.labels[lo:hi],
        areas=flat.areas[lo:hi],
        iscrowd=flat.iscrowd[lo:hi],
        ignore=flat.ignore[lo:hi],
        ids=flat.ids[lo:hi],
    )


def _concat(parts: list[ImageInstances]) -> ImageInstances:
    if not parts:
        return ImageInstances.empty()
    return ImageInstances(
        np.concatenate([p.boxes for p in parts]),
        np.concatenate([p.labels for p in parts]),
        areas=np.concatenate([p.areas for p in parts]),
        iscrowd=np.concatenate([p.iscrowd for p in parts]),
        ignore=np.concatenate([p.ignore for p in parts]),
        ids=np.concatenate([p.ids for p in parts]),
    )


def coco_analyze(
    data: EvaluationInput,
    supercategories: dict[int, str] | None = None,
    area_ranges: np.ndarray | None = None,
) -> AnalyzeResult:
    """The seven stacked PR curves for every category and area range (bbox).

    supercategories: category id -> supercategory name; without it (or for a category
    missing from it) Sim is the same as Loc.
    """
    main = _precision(data, _params([0.75, 0.5, 0.1], area_ranges))
    loose = _params([0.1], area_ranges)
    groups = {int(k): ("super", v) for k, v in (supercategories or {}).items() if v}
    sim = _precision(_with_crowd_copies(data, groups), loose)[0]
    everyone = {int(k): ("all",) for k in data.categories}
    oth = _precision(_with_crowd_copies(data, everyone), loose)[0]
    bg = np.where(oth > 0, 1.0, 0.0)
    fn = np.ones_like(oth)
    precision = np.stack([main[0], main[1], main[2], sim, oth, bg, fn])
    return AnalyzeResult(
        precision=precision,
        recall_thresholds=EvalParams().recall_thresholds,
        category_ids=data.category_ids,
        category_names=dict(data.categories),
        area_labels=EvalParams().area_labels,
    )
