"""What-if sweeps from cached traces, F1 against confidence, and two runs side by side.

sweep = sweep_setting(model, items, categories, cache, "score_thresh", [0.1, 0.3, 0.5])
sweep.map50, sweep.map, sweep.found                     # one value per setting value
f1 = f1_curves(diagnosis.tide().tables)                 # per class: thresholds, F1, best
delta = compare(diagnosis_a, diagnosis_b)               # per-class dAP, flipped objects

A score threshold at or above the traces' own is answered by filtering the cached final
detections (torchvision's post-processing keeps every higher-scoring box unchanged when
the threshold rises); anything else re-runs each cached trace (``Trace.rerun``), never
the backbone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from detector.diagnosis.funnel import STAGE_INDEX
from detector.diagnosis.run import (
    SETTING_NAMES,
    DatasetDiagnosis,
    DiagnosisItem,
    TraceCache,
    category_mapping,
    diagnose_job,
)
from detector.diagnosis.tide_match import TideTables
from detector.errors import DetScopeError
from detector.evaluation import evaluate
from detector.evaluation.inputs import EvaluationInput, ImageInstances


@dataclass(kw_only=True)
class SweepResult:
    """name: the setting; values; map (COCO mAP 0.50:0.95), map50, found (objects the
    funnel calls found; -1 on the fast path, which does not redo the funnel)."""

    name: str
    values: list[float]
    map: list[float] = field(default_factory=list)
    map50: list[float] = field(default_factory=list)
    found: list[int] = field(default_factory=list)

    def to_json(self) -> dict:
        return dict(vars(self))


def _coco_numbers(data: EvaluationInput) -> tuple[float, float]:
    stats = evaluate(data).stats
    return float(stats[0]), float(stats[1])


def score_sweep(data: EvaluationInput, values: list[float]) -> SweepResult:
    """COCO mAP and AP50 keeping only detections scoring > each value (no model needed)."""
    result = SweepResult(name="score_thresh", values=[float(v) for v in values])
    for value in values:
        dt = {image_id: _above(dets, value) for image_id, dets in data.dt.items()}
        coco, coco50 = _coco_numbers(EvaluationInput(data.gt, dt, data.categories))
        result.map.append(coco)
        result.map50.append(coco50)
        result.found.append(-1)
    return result


def _above(dets: ImageInstances, value: float) -> ImageInstances:
    keep = np.flatnonzero(dets.scores > value)
    return ImageInstances(
        dets.boxes[keep],
        dets.labels[keep],
        scores=dets.scores[keep],
        areas=dets.areas[keep],
        ids=dets.ids[keep],
        masks=None if dets.masks is None else [dets.masks[i] for i in keep],
    )


def score_sweep_fast(diagnosis: DatasetDiagnosis, values: list[float]) -> SweepResult:
    """Sweep score thresholds >= the traced one from the cached final detections: equal
    to re-running every trace (torchvision keeps each higher-scoring box unchanged)."""
    base = float(diagnosis.settings.get("score_thresh", -1.0))
    low = [v for v in values if v < base]
    if low:
        raise DetScopeError(f"score_thresh {low[0]} is below the traced {base}: re-run")
    return score_sweep(diagnosis.data, values)


def sweep_job(
    model,
    items: list[DiagnosisItem],
    categories: dict[int, str],
    cache: TraceCache,
    name: str,
    values: list[float],
) -> Iterator[tuple[int, int, str]]:
    """Generator (progress for app/workers.py): re-run every cached trace per value."""
    if name not in SETTING_NAMES:
        raise DetScopeError(f"unknown setting {name!r}; one of {', '.join(SETTING_NAMES)}")
    result = SweepResult(name=name, values=list(values))
    total = len(values) * len(items)
    for step, value in enumerate(values):
        cast = int(value) if name in ("detections_per_img", "rpn_post_nms_top_n") else value
        job = diagnose_job(model, items, categories, cache=cache, settings={name: cast})
        while True:
            try:
                done, _, message = next(job)
            except StopIteration as stop:
                diagnosis = stop.value
                break
            yield step * len(items) + done, total, f"{name}={value}: {message}"
        coco, coco50 = _coco_numbers(diagnosis.data)
        result.map.append(coco)
        result.map50.append(coco50)
        result.found.append(int((diagnosis.funnel.stages == STAGE_INDEX["found"]).sum()))
    return result


def sweep_setting(model, items, categories, cache, name, values) -> SweepResult:
    job = sweep_job(model, items, categories, cache, name, values)
    while True:
        try:
            next(job)
        except StopIteration as stop:
            return stop.value


@dataclass(kw_only=True)
class F1Curve:
    """thresholds (float64[N]) descending scores; f1, precision, recall (float64[N]) when
    keeping detections scoring >= each; best_threshold / best_f1 at the maximum F1."""

    thresholds: np.ndarray
    f1: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    best_threshold: float
    best_f1: float


def f1_curve(tables: TideTables, class_id: int | None = None) -> F1Curve | None:
    """F1 against confidence from TIDE's matching at IoU 0.5 (detections inside ignore
    regions left out): one category, or every detection pooled (None without any
    detection or ground truth)."""
    gt_rows = tables.gt_class == class_id if class_id is not None else slice(None)
    npos = int(np.asarray(tables.gt_class[gt_rows]).size)
    keep = ~tables.det_ignored
    if class_id is not None:
        keep &= tables.det_class == class_id
    rows = np.flatnonzero(keep)
    rows = rows[np.argsort(-tables.det_score[rows], kind="stable")]
    if rows.size == 0 or npos == 0:
        return None
    tp = np.cumsum(tables.det_tp[rows])
    precision = tp / np.arange(1, rows.size + 1)
    recall = tp / npos
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    best = int(np.argmax(f1))
    return F1Curve(
        thresholds=tables.det_score[rows],
        f1=f1,
        precision=precision,
        recall=recall,
        best_threshold=float(tables.det_score[rows][best]),
        best_f1=float(f1[best]),
    )


def f1_curves(tables: TideTables) -> dict[int, F1Curve]:
    """Per category id with detections and ground truth: its F1Curve."""
    out = {}
    for class_id in np.unique(np.r_[tables.det_class, tables.gt_class]).tolist():
        curve = f1_curve(tables, int(class_id))
        if curve is not None:
            out[int(class_id)] = curve
    return out


@dataclass(kw_only=True)
class Comparison:
    """delta_ap: category id -> AP50 of B minus A (TIDE's AP50, points); gained / lost:
    (image id, object id) found by B but not A / by A but not B."""

    delta_ap: dict[int, float]
    gained: list[tuple[int, int]]
    lost: list[tuple[int, int]]

    def to_json(self) -> dict:
        return {
            "delta_ap50": {str(k): v for k, v in self.delta_ap.items()},
            "gained": [list(p) for p in self.gained],
            "lost": [list(p) for p in self.lost],
        }


def compare(a: DatasetDiagnosis, b: DatasetDiagnosis) -> Comparison:
    """Two runs over the same images: per-class AP change and objects that flipped."""
    ap_a, ap_b = a.tide().per_class, b.tide().per_class
    delta = {
        k: (ap_b[k]["ap"] or 0.0) - (ap_a.get(k, {}).get("ap") or 0.0)
        for k in sorted(ap_b)
        if ap_b[k]["ap"] is not None or (k in ap_a and ap_a[k]["ap"] is not None)
    }
    found = STAGE_INDEX["found"]

    def found_set(d: DatasetDiagnosis) -> set[tuple[int, int]]:
        keep = d.funnel.stages == found
        return set(
            zip(d.funnel.image_ids[keep].tolist(), d.funnel.object_ids[keep].tolist(), strict=True)
        )

    def all_set(d: DatasetDiagnosis) -> set[tuple[int, int]]:
        return set(zip(d.funnel.image_ids.tolist(), d.funnel.object_ids.tolist(), strict=True))

    both = all_set(a) & all_set(b)
    fa, fb = found_set(a) & both, found_set(b) & both
    return Comparison(delta_ap=delta, gained=sorted(fb - fa), lost=sorted(fa - fb))


__all__ = [
    "Comparison",
    "F1Curve",
    "SweepResult",
    "category_mapping",
    "compare",
    "f1_curve",
    "f1_curves",
    "score_sweep",
    "score_sweep_fast",
    "sweep_job",
    "sweep_setting",
]
