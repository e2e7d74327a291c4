"""Which model predictions "Accept all" should turn into ground truth.

A prediction that repeats a ground-truth object already there (same category, IoU at or
above ``match_iou``) is skipped, so accepting on an annotated image never duplicates it;
predictions of categories the dataset lacks are listed apart, so the caller can ask before
creating those classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from detector.data.dataset import Dataset
from detector.geometry.boxes import box_iou

MATCH_IOU = 0.5  # the IoU at which a prediction counts as an object already annotated


@dataclass(frozen=True)
class AcceptPlan:
    """Prediction ids to accept, those that repeat existing objects, and the categories the
    predictions to accept would add to the dataset (ids with no Category yet)."""

    accept: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    new_categories: list[int] = field(default_factory=list)


def plan_accept(
    dataset: Dataset, image_id: int, *, score_thresh: float, match_iou: float = MATCH_IOU
) -> AcceptPlan:
    """Predictions of ``image_id`` scoring >= ``score_thresh``, without repeats of ground truth."""
    candidates = [a for a in dataset.predictions_in(image_id) if (a.score or 0.0) >= score_thresh]
    objects = dataset.objects_in(image_id)
    if not candidates:
        return AcceptPlan()
    if objects:
        ious = box_iou(
            np.array([a.box for a in candidates], np.float64),
            np.array([o.box for o in objects], np.float64),
        )
        same = np.array([[a.category_id == o.category_id for o in objects] for a in candidates])
        repeats = ((ious >= match_iou) & same).any(axis=1)
    else:
        repeats = np.zeros(len(candidates), bool)
    accept = [a.id for a, r in zip(candidates, repeats, strict=True) if not r]
    duplicates = [a.id for a, r in zip(candidates, repeats, strict=True) if r]
    chosen = {a.id: a for a in candidates}
    new = sorted({chosen[i].category_id for i in accept} - set(dataset.categories))
    return AcceptPlan(accept, duplicates, new)
