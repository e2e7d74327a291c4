"""Per-class table rows and the JSON document of a result."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(kw_only=True)
class ClassRow:
    """One category: counts and AP in every definition (-1: no ground truth)."""

    category_id: int
    name: str
    num_gt: int
    num_dt: int
    ap: float  # COCO, IoU 0.50:0.95
    ap50: float
    ap75: float
    ar100: float
    voc2007_ap50: float
    voc2010_ap50: float


def per_class_rows(result) -> list[ClassRow]:
    det = result.tables.det
    num_dt = np.bincount(det["cls"], minlength=len(result.category_ids))
    rows = []
    for k, category_id in enumerate(result.category_ids):
        curve = result.pr_curve(category_id, 0.5)
        rows.append(
            ClassRow(
                category_id=category_id,
                name=result.data.categories[category_id],
                num_gt=int(result.accumulated.num_positives[k, 0]),
                num_dt=int(num_dt[k]),
                ap=result.class_ap(category_id),
                ap50=result.class_ap(category_id, 0.5),
                ap75=result.class_ap(category_id, 0.75),
                ar100=result.class_recall(category_id),
                voc2007_ap50=curve.ap("voc2007"),
                voc2010_ap50=curve.ap("voc2010"),
            )
        )
    return rows


def per_class_table(rows: list[ClassRow]) -> list[str]:
    header = (
        f"{'category':<24} {'GT':>6} {'DT':>7} {'AP':>7} {'AP50':>7} {'AP75':>7} "
        f"{'AR100':>7} {'VOC07':>7} {'VOC10':>7}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        values = (row.ap, row.ap50, row.ap75, row.ar100, row.voc2007_ap50, row.voc2010_ap50)
        cells = " ".join(f"{v:7.3f}" if v >= 0 else f"{'-':>7}" for v in values)
        lines.append(f"{row.name[:24]:<24} {row.num_gt:>6} {row.num_dt:>7} {cells}")
    return lines


def result_to_json(result) -> dict:
    """All numbers: stats, per-class rows, 101-point curves, confusion matrix."""
    params = result.params
    curves = {}
    for category_id in result.category_ids:
        curves[str(category_id)] = {
            f"{iou:.2f}": result.interpolated_curve(category_id, iou).tolist()
            for iou in (0.5, 0.75)
        }
    confusion = result.confusion_matrix()
    return {
        "iou_type": result.iou_type,
        "stats": result.stats_dict(),
        "summary": result.summary_lines(),
        "iou_thresholds": params.iou_thresholds.tolist(),
        "recall_thresholds": params.recall_thresholds.tolist(),
        "per_class": [asdict(row) for row in result.per_class],
        "interpolated_precision": curves,
        "confusion_matrix": confusion.to_json(),
    }
