"""What the Evaluate dock shows, computed from an EvaluationResult (numpy only).

Settings pick the IoU (0.50, 0.75 or the 0.50:0.95 average), the AP definition (COCO
101-point, VOC 11-point, VOC all-point) and the operating score threshold used for the
TP / FP / FN counts, the canvas marks and the error filters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from detector.evaluation.params import ApDefinition

IouMode = Literal["0.50", "0.75", "0.50:0.95"]
IOU_MODES: tuple[IouMode, ...] = get_args(IouMode)
AP_DEFINITIONS: dict[ApDefinition, str] = {
    "coco": "COCO (101-point)",
    "voc2007": "VOC 11-point",
    "voc2010": "VOC all-point",
}
AVERAGE_GRID = np.linspace(0.0, 1.0, 101)


@dataclass(frozen=True)
class ViewSettings:
    iou_mode: IouMode = "0.50"
    definition: ApDefinition = "coco"
    score_threshold: float = 0.5

    @property
    def averaged(self) -> bool:
        return self.iou_mode == "0.50:0.95"

    @property
    def match_iou(self) -> float:
        """The IoU of the raw curve, the counts and the canvas marks (0.50 when averaged)."""
        return 0.5 if self.averaged else float(self.iou_mode)

    def describe(self) -> str:
        return f"{AP_DEFINITIONS[self.definition]}, IoU {self.iou_mode}"


@dataclass(kw_only=True)
class ClassMetrics:
    """One table row; AP values are -1 where the class has no ground truth."""

    category_id: int
    name: str
    ap: float
    ap50: float
    ap75: float
    ar: float
    num_gt: int
    tp: int
    fp: int
    fn: int


@dataclass(kw_only=True)
class CurveData:
    """One class for the plot: the raw curve (a point per detection) and its interpolation."""

    category_id: int
    name: str
    ap: float
    recall: np.ndarray
    precision: np.ndarray
    scores: np.ndarray
    true_positive: np.ndarray
    image_ids: np.ndarray
    detection_indices: np.ndarray
    interp_recall: np.ndarray
    interp_precision: np.ndarray


@dataclass(kw_only=True)
class EvaluationView:
    settings: ViewSettings
    rows: list[ClassMetrics]
    curves: dict[int, CurveData]
    mean_ap: float
    image_errors: dict[int, tuple[int, int]]  # image id -> (false positives, misses)
    num_images: int


def build_view(result, settings: ViewSettings) -> EvaluationView:
    curves, rows = {}, []
    for category_id in result.category_ids:
        raw = result.pr_curve(category_id, settings.match_iou)
        curve = _curve_data(result, raw, settings)
        curves[category_id] = curve
        rows.append(_row(result, raw, curve.ap, settings))
    valid = [row.ap for row in rows if row.ap >= 0]
    mean_ap = float(np.mean(valid)) if valid else -1.0
    errors = image_errors(result, curves.values(), settings.score_threshold)
    return EvaluationView(
        settings=settings,
        rows=rows,
        curves=curves,
        mean_ap=mean_ap,
        image_errors=errors,
        num_images=len(result.image_ids),
    )


def class_ap(result, category_id: int, iou: float | None, definition: ApDefinition) -> float:
    """AP of one class at ``iou`` (None: mean over 0.50:0.95) in ``definition``."""
    if definition == "coco":
        return result.class_ap(category_id, iou)
    ious = [iou] if iou is not None else list(result.params.iou_thresholds)
    values = [result.pr_curve(category_id, float(t)).ap(definition) for t in ious]
    kept = [v for v in values if v >= 0]
    return float(np.mean(kept)) if kept else -1.0


def _row(result, raw, ap: float, settings: ViewSettings) -> ClassMetrics:
    operating = raw.scores >= settings.score_threshold
    tp = int(np.sum(raw.true_positive & operating))
    fp = int(np.sum(~raw.true_positive & operating))
    category_id = raw.category_id
    return ClassMetrics(
        category_id=category_id,
        name=result.data.categories[category_id],
        ap=ap,
        ap50=class_ap(result, category_id, 0.5, settings.definition),
        ap75=class_ap(result, category_id, 0.75, settings.definition),
        ar=result.class_recall(category_id),
        num_gt=raw.num_positives,
        tp=tp,
        fp=fp,
        fn=raw.num_positives - tp,
    )


def _curve_data(result, raw, settings: ViewSettings) -> CurveData:
    category_id = raw.category_id
    iou = None if settings.averaged else settings.match_iou
    ap = class_ap(result, category_id, iou, settings.definition)
    if settings.averaged:
        interp_recall, interp_precision = _averaged_interpolation(result, category_id, settings)
    else:
        interp_recall, interp_precision = interpolation(raw, settings.definition)
    return CurveData(
        category_id=category_id,
        name=result.data.categories[category_id],
        ap=ap,
        recall=raw.recall,
        precision=raw.precision,
        scores=raw.scores,
        true_positive=raw.true_positive,
        image_ids=raw.image_ids,
        detection_indices=raw.detection_indices,
        interp_recall=interp_recall,
        interp_precision=interp_precision,
    )


def interpolation(raw, definition: ApDefinition) -> tuple[np.ndarray, np.ndarray]:
    """The interpolated curve AP integrates: COCO's 101 points, VOC's 11, or the envelope."""
    if raw.num_positives == 0:
        return np.zeros(0), np.zeros(0)
    if definition == "coco":
        return AVERAGE_GRID.copy(), np.maximum(raw.interpolated, 0.0)
    if definition == "voc2007":
        grid = np.linspace(0.0, 1.0, 11)
        return grid, best_precision_from(raw.recall, raw.precision, grid)
    grid = np.unique(np.concatenate([[0.0], raw.recall]))
    return grid, best_precision_from(raw.recall, raw.precision, grid)


def best_precision_from(recall: np.ndarray, precision: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """For each r in ``grid``: the best precision at recall >= r (0 when never reached)."""
    if recall.size == 0:
        return np.zeros(len(grid))
    envelope = np.maximum.accumulate(np.nan_to_num(precision)[::-1])[::-1]
    index = np.searchsorted(recall, grid, side="left")
    reached = index < len(recall)
    return np.where(reached, envelope[np.minimum(index, len(recall) - 1)], 0.0)


def _averaged_interpolation(result, category_id: int, settings: ViewSettings):
    k = result.category_index(category_id)
    if settings.definition == "coco":
        values = result.precision[:, :, k, 0, -1]
        if np.all(values < 0):
            return np.zeros(0), np.zeros(0)
        return AVERAGE_GRID.copy(), np.mean(np.maximum(values, 0.0), axis=0)
    rows = []
    for iou in result.params.iou_thresholds:
        raw = result.pr_curve(category_id, float(iou))
        if raw.num_positives == 0:
            return np.zeros(0), np.zeros(0)
        rows.append(best_precision_from(raw.recall, raw.precision, AVERAGE_GRID))
    return AVERAGE_GRID.copy(), np.mean(rows, axis=0)


def image_errors(result, curves, score_threshold: float) -> dict[int, tuple[int, int]]:
    """Per evaluated image: (false positives, missed ground truths) at the operating point."""
    image_ids = np.asarray(result.image_ids, np.int64)
    n = len(image_ids)
    false_pos = np.zeros(n, np.int64)
    true_pos = np.zeros(n, np.int64)
    for curve in curves:
        operating = curve.scores >= score_threshold
        where = np.searchsorted(image_ids, curve.image_ids[operating])
        tp = curve.true_positive[operating]
        false_pos += np.bincount(where[~tp], minlength=n)
        true_pos += np.bincount(where[tp], minlength=n)
    gt = result.tables.gt
    positives = np.bincount(gt["img"][~gt["ignore"]], minlength=n)
    misses = positives - true_pos
    return {int(image_ids[i]): (int(false_pos[i]), int(misses[i])) for i in range(n)}
