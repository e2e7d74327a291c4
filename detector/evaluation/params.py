"""Evaluation parameters: COCOeval's defaults, built the same way so floats compare equal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from detector.errors import DetScopeError

AREA_LABELS = ("all", "small", "medium", "large")
IouType = Literal["bbox", "segm"]
ApDefinition = Literal["coco", "voc2007", "voc2010"]  # 101-point, 11-point, all-point


class EvaluationError(DetScopeError):
    """Evaluation input is malformed (wrong structure, unknown image, bad values)."""


def _iou_thresholds() -> np.ndarray:
    # Exactly pycocotools' Params.setDetParams (np.arange would drift).
    return np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)


def _recall_thresholds() -> np.ndarray:
    return np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)


def _area_ranges() -> np.ndarray:
    return np.array([[0**2, 1e5**2], [0**2, 32**2], [32**2, 96**2], [96**2, 1e5**2]], float)


@dataclass(frozen=True, kw_only=True)
class EvalParams:
    """T IoU thresholds, R recall thresholds, A area ranges, M max detections per image.

    The defaults are COCOeval's for ``bbox`` and ``segm``; summary lines assume them.
    """

    iou_thresholds: np.ndarray = field(default_factory=_iou_thresholds)
    recall_thresholds: np.ndarray = field(default_factory=_recall_thresholds)
    area_ranges: np.ndarray = field(default_factory=_area_ranges)
    area_labels: tuple[str, ...] = AREA_LABELS
    max_dets: tuple[int, ...] = (1, 10, 100)

    @property
    def matching_thresholds(self) -> np.ndarray:
        """COCOeval's ``min(t, 1 - 1e-10)``: an IoU of exactly 1 still matches at 1.0."""
        return np.minimum(self.iou_thresholds, 1 - 1e-10)

    def iou_index(self, iou: float) -> int:
        """Index of threshold ``iou`` (0.5, 0.75, ...), or an EvaluationError."""
        hits = np.flatnonzero(np.isclose(self.iou_thresholds, iou, atol=1e-9))
        if hits.size == 0:
            known = ", ".join(f"{t:.2f}" for t in self.iou_thresholds)
            raise EvaluationError(f"IoU threshold {iou} is not evaluated (known: {known})")
        return int(hits[0])
