"""TIDE error breakdown (Bolya et al. 2020), equal to tidecv 1.0.1 on the same inputs.

from detector.diagnosis import tide
result = tide(evaluation_input)           # detector.evaluation.EvaluationInput, bbox
result.ap, result.main["Loc"], result.special["FalseNeg"], result.per_class[3]["main"]

Each main error's dAP is the AP50 (points, 0-100) gained by fixing only that error type,
floored at 0 as tidecv does; special errors are not floored. ``per_size`` fixes only the
errors whose object (its ground truth when it has one, else the detection) is small /
medium / large by bbox area, as tidecv's ``fix_main_errors(qual=AREA[i])``. ``per_class``
is the change of that class's own AP under the same fixes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from detector.diagnosis.tide_match import (
    BKG,
    BOTH,
    CLS,
    DUPE,
    ERROR_NAMES,
    LOC,
    MISS,
    TideTables,
    tide_tables,
)
from detector.evaluation.inputs import EvaluationInput

SPECIAL_NAMES = ("FalsePos", "FalseNeg")
SIZE_RANGES = {
    "small": (-np.inf, 32.0**2),
    "medium": (32.0**2, 96.0**2),
    "large": (96.0**2, np.inf),
}
_RECALLS = np.arange(101) / 100  # tidecv's [x / 100 for x in range(101)]


@dataclass(kw_only=True)
class TideResult:
    """ap: AP at pos_thresh in points. main / special: error name -> dAP. counts: error
    name -> how many. per_class: category id -> {"name", "ap", "main", "special", "counts"}.
    per_size: "small" | "medium" | "large" -> {error name -> dAP}. tables: the rows."""

    ap: float
    main: dict[str, float]
    special: dict[str, float]
    counts: dict[str, int]
    per_class: dict[int, dict] = field(default_factory=dict)
    per_size: dict[str, dict[str, float]] = field(default_factory=dict)
    tables: TideTables | None = None

    def to_json(self) -> dict:
        return {
            "ap50": self.ap,
            "main": dict(self.main),
            "special": dict(self.special),
            "counts": dict(self.counts),
            "per_class": {str(k): v for k, v in self.per_class.items()},
            "per_size": self.per_size,
        }


@dataclass
class _Points:
    """AP data points: class index, score, true positive, valid (in the AP at all)."""

    cls: np.ndarray
    score: np.ndarray
    tp: np.ndarray
    valid: np.ndarray


class _Scenarios:
    """Builds tidecv's ``fix_errors`` data for any selection of errors and computes APs."""

    def __init__(self, tables: TideTables) -> None:
        self.t = tables
        self.classes = np.unique(np.r_[tables.det_class, tables.gt_class])
        self.det_cls = np.searchsorted(self.classes, tables.det_class)
        self.gt_cls = np.searchsorted(self.classes, tables.gt_class)
        self.npos = np.bincount(self.gt_cls, minlength=self.classes.size)
        target = np.maximum(tables.det_target, 0)
        self.target_cls = self.gt_cls[target] if self.gt_cls.size else self.det_cls
        # tidecv's orders: the run pushes in (image, rank) order; fix_errors pushes error
        # points first, then the original true positives (ties in score keep that order)
        t = tables
        self.base_order = np.lexsort((t.det_seq, -t.det_score))
        self.fix_order = np.lexsort((t.det_seq, t.det_tp, -t.det_score))
        self.fix_by_class = self.fix_order[np.argsort(self.det_cls[self.fix_order], kind="stable")]
        self.object_area = np.where(
            tables.det_target >= 0,
            tables.gt_area[target] if tables.gt_area.size else 0.0,
            tables.det_area,
        )

    def base(self) -> tuple[float, np.ndarray]:
        t = self.t
        points = _Points(self.det_cls, t.det_score, t.det_tp, ~t.det_ignored)
        return _map(points, self.npos, self.base_order)

    def fixed(self, det_fix: np.ndarray, gt_fix: np.ndarray) -> tuple[float, np.ndarray]:
        """Fix the errors of the detections in det_fix (bool[D]) and the misses in gt_fix."""
        t = self.t
        promoted = det_fix & t.det_best & ((t.det_error == CLS) | (t.det_error == LOC))
        valid = (~t.det_ignored & ~det_fix) | promoted
        cls = np.where(promoted & (t.det_error == CLS), self.target_cls, self.det_cls)
        points = _Points(cls, t.det_score, t.det_tp | promoted, valid)
        npos = self.npos - np.bincount(self.gt_cls[gt_fix], minlength=self.classes.size)
        moved = bool((promoted & (t.det_error == CLS)).any())
        if moved:
            return _map(points, npos, self.fix_order)
        return _map(points, npos, self.fix_by_class, by_class=True)

    def false_pos(self) -> tuple[float, np.ndarray]:
        t = self.t
        score = t.det_tp.astype(np.float64)
        points = _Points(self.det_cls, score, t.det_tp, ~t.det_ignored)
        order = np.lexsort((t.det_seq, t.det_tp, -score))
        return _map(points, self.npos, order)

    def false_neg(self) -> tuple[float, np.ndarray]:
        t = self.t
        npos = self.npos - np.bincount(self.gt_cls[~t.gt_used], minlength=self.classes.size)
        points = _Points(self.det_cls, t.det_score, t.det_tp, ~t.det_ignored)
        return _map(points, npos, self.fix_by_class, by_class=True)

    def selection(self, code: int, det_keep=None, gt_keep=None) -> tuple[np.ndarray, np.ndarray]:
        t = self.t
        det_fix = t.det_error == code if code != MISS else np.zeros(t.det_error.size, bool)
        gt_fix = t.gt_missed if code == MISS else np.zeros(t.gt_used.size, bool)
        if det_keep is not None:
            det_fix &= det_keep
            gt_fix &= gt_keep
        return det_fix, gt_fix


def _map(
    points: _Points, npos: np.ndarray, order: np.ndarray, by_class: bool = False
) -> tuple[float, np.ndarray]:
    """(mAP, per-class AP with NaN for classes tidecv leaves out: no points, no positives).

    order: every point in tidecv's sort order (already grouped by class when by_class)."""
    order = order[points.valid[order]]
    if not by_class:
        order = order[np.argsort(points.cls[order], kind="stable")]
    cls = points.cls[order]
    num_classes = npos.size
    bounds = np.searchsorted(cls, np.arange(num_classes + 1))
    aps = np.full(num_classes, np.nan)
    for k in range(num_classes):
        lo, hi = bounds[k], bounds[k + 1]
        if hi == lo and npos[k] == 0:
            continue
        aps[k] = 0.0 if npos[k] == 0 else _class_ap(points.tp[order[lo:hi]], int(npos[k]))
    present = aps[~np.isnan(aps)]
    total = float(np.cumsum(present)[-1]) if present.size else 0.0
    return (total / present.size if present.size else 0.0), aps


def _class_ap(tp_sorted: np.ndarray, npos: int) -> float:
    """tidecv's APDataObject.get_ap on detections already sorted by its order."""
    if tp_sorted.size == 0:
        return 0.0
    num_true = np.cumsum(tp_sorted)
    precision = num_true / np.arange(1, tp_sorted.size + 1)
    recall = num_true / npos
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    index = np.searchsorted(recall, _RECALLS, side="left")
    y = np.where(index < precision.size, precision[np.minimum(index, precision.size - 1)], 0.0)
    return float(np.cumsum(y)[-1]) / 101 * 100


def tide(
    data: EvaluationInput,
    pos_thresh: float = 0.5,
    bg_thresh: float = 0.1,
    max_dets: int = 100,
    per_size: bool = True,
) -> TideResult:
    """TIDE's main and special errors, per class and per size, for bbox detections."""
    tables = tide_tables(data, pos_thresh, bg_thresh, max_dets)
    sc = _Scenarios(tables)
    base_ap, base_class = sc.base()
    main, class_main = {}, {}
    for code, name in enumerate(ERROR_NAMES):
        ap, per_class = sc.fixed(*sc.selection(code))
        main[name] = max(ap - base_ap, 0.0)
        class_main[name] = np.maximum(np.nan_to_num(per_class - base_class), 0.0)
    fp_ap, fp_class = sc.false_pos()
    fn_ap, fn_class = sc.false_neg()
    special = {"FalsePos": fp_ap - base_ap, "FalseNeg": fn_ap - base_ap}
    class_special = {
        "FalsePos": np.nan_to_num(fp_class - base_class),
        "FalseNeg": np.nan_to_num(fn_class - base_class),
    }
    counts = _counts(tables)
    result = TideResult(ap=base_ap, main=main, special=special, counts=counts, tables=tables)
    result.per_class = _per_class(sc, data, base_class, class_main, class_special)
    if per_size:
        result.per_size = _per_size(sc, base_ap)
    return result


def _counts(tables: TideTables, det_keep=None, gt_keep=None) -> dict[str, int]:
    det_keep = np.ones(tables.det_error.size, bool) if det_keep is None else det_keep
    gt_keep = np.ones(tables.gt_used.size, bool) if gt_keep is None else gt_keep
    counts = {
        name: int(((tables.det_error == code) & det_keep).sum())
        for code, name in enumerate(ERROR_NAMES[:MISS])
    }
    counts["Miss"] = int((tables.gt_missed & gt_keep).sum())
    return counts


def _per_class(sc: _Scenarios, data, base_class, class_main, class_special) -> dict[int, dict]:
    out = {}
    for k, class_id in enumerate(sc.classes.tolist()):
        det_keep, gt_keep = sc.det_cls == k, sc.gt_cls == k
        out[int(class_id)] = {
            "name": data.categories.get(int(class_id), str(class_id)),
            "ap": None if np.isnan(base_class[k]) else float(base_class[k]),
            "main": {name: float(v[k]) for name, v in class_main.items()},
            "special": {name: float(v[k]) for name, v in class_special.items()},
            "counts": _counts(sc.t, det_keep, gt_keep),
        }
    return out


def _per_size(sc: _Scenarios, base_ap: float) -> dict[str, dict[str, float]]:
    out = {}
    for size, (lo, hi) in SIZE_RANGES.items():
        det_keep = (sc.object_area > lo) & (sc.object_area <= hi)
        gt_keep = (sc.t.gt_area > lo) & (sc.t.gt_area <= hi)
        row = {}
        for code, name in enumerate(ERROR_NAMES):
            ap, _ = sc.fixed(*sc.selection(code, det_keep, gt_keep))
            row[name] = max(ap - base_ap, 0.0)
        out[size] = row
    return out


__all__ = ["BKG", "BOTH", "CLS", "DUPE", "LOC", "MISS", "TideResult", "tide"]
