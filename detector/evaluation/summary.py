"""COCOeval.summarize: the 12 numbers and their exact text."""

from __future__ import annotations

import numpy as np

from detector.evaluation.params import EvalParams

# (is AP, IoU threshold or None for 0.50:0.95, area label, index into max_dets)
SUMMARY_ROWS = (
    (True, None, "all", 2),
    (True, 0.5, "all", 2),
    (True, 0.75, "all", 2),
    (True, None, "small", 2),
    (True, None, "medium", 2),
    (True, None, "large", 2),
    (False, None, "all", 0),
    (False, None, "all", 1),
    (False, None, "all", 2),
    (False, None, "small", 2),
    (False, None, "medium", 2),
    (False, None, "large", 2),
)
STAT_NAMES = (
    "AP",
    "AP50",
    "AP75",
    "AP_small",
    "AP_medium",
    "AP_large",
    "AR1",
    "AR10",
    "AR100",
    "AR_small",
    "AR_medium",
    "AR_large",
)


def summarize_value(
    precision: np.ndarray,
    recall: np.ndarray,
    params: EvalParams,
    ap: bool,
    iou: float | None,
    area: str,
    max_dets: int,
) -> float:
    """One COCOeval._summarize number (same slicing, so the same float)."""
    aind = [i for i, label in enumerate(params.area_labels) if label == area]
    mind = [i for i, m in enumerate(params.max_dets) if m == max_dets]
    values = precision if ap else recall
    if iou is not None:
        values = values[np.where(iou == params.iou_thresholds)[0]]
    values = values[:, :, :, aind, mind] if ap else values[:, :, aind, mind]
    kept = values[values > -1]
    return -1.0 if len(kept) == 0 else float(np.mean(kept))


def stats(precision: np.ndarray, recall: np.ndarray, params: EvalParams) -> np.ndarray:
    return np.array(
        [
            summarize_value(precision, recall, params, ap, iou, area, params.max_dets[m])
            for ap, iou, area, m in SUMMARY_ROWS
        ]
    )


def summary_lines(values: np.ndarray, params: EvalParams) -> list[str]:
    """pycocotools' printed lines, character for character."""
    template = " {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}"
    lines = []
    for (ap, iou, area, m), value in zip(SUMMARY_ROWS, values, strict=True):
        title = "Average Precision" if ap else "Average Recall"
        kind = "(AP)" if ap else "(AR)"
        thresholds = params.iou_thresholds
        iou_text = f"{thresholds[0]:0.2f}:{thresholds[-1]:0.2f}" if iou is None else f"{iou:0.2f}"
        lines.append(template.format(title, kind, iou_text, area, params.max_dets[m], value))
    return lines
