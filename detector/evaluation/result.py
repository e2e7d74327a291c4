"""EvaluationResult: the numbers, per-class rows, PR curves, per-image matches, JSON."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from detector.evaluation.accumulate import Accumulated
from detector.evaluation.block import Block
from detector.evaluation.inputs import EvaluationInput
from detector.evaluation.params import EvalParams, EvaluationError, IouType
from detector.evaluation.summary import STAT_NAMES, stats, summary_lines


@dataclass(kw_only=True)
class EvaluationResult:
    """precision [T, R, K, A, M] and recall [T, K, A, M] in COCOeval's layout; stats (12)."""

    data: EvaluationInput
    iou_type: IouType
    params: EvalParams
    accumulated: Accumulated
    tables: Block
    stats: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.stats = stats(self.precision, self.recall, self.params)

    @property
    def precision(self) -> np.ndarray:
        return self.accumulated.precision

    @property
    def recall(self) -> np.ndarray:
        return self.accumulated.recall

    @property
    def category_ids(self) -> list[int]:
        return self.data.category_ids

    @property
    def image_ids(self) -> list[int]:
        return self.data.image_ids

    @property
    def map(self) -> float:
        """COCO mAP: AP at IoU 0.50:0.95, all areas, 100 detections (stats[0])."""
        return float(self.stats[0])

    def stats_dict(self) -> dict[str, float]:
        return {name: float(value) for name, value in zip(STAT_NAMES, self.stats, strict=True)}

    def summary_lines(self) -> list[str]:
        return summary_lines(self.stats, self.params)

    def category_index(self, category: int | str) -> int:
        """Index of a category given by id or by name."""
        ids = self.category_ids
        if isinstance(category, str) and not category.lstrip("-").isdigit():
            names = [self.data.categories[c] for c in ids]
            if category not in names:
                raise EvaluationError(f"unknown category {category!r}")
            return names.index(category)
        if int(category) not in ids:
            raise EvaluationError(f"unknown category id {category!r}")
        return ids.index(int(category))

    def class_ap(self, category: int | str, iou: float | None = None) -> float:
        """COCO 101-point AP of one category (IoU 0.50:0.95 when iou is None), -1 if no GT."""
        k = self.category_index(category)
        values = self.precision[:, :, k, 0, -1]
        if iou is not None:
            values = values[self.params.iou_index(iou)]
        kept = values[values > -1]
        return float(np.mean(kept)) if kept.size else -1.0

    def class_recall(self, category: int | str) -> float:
        k = self.category_index(category)
        values = self.recall[:, k, 0, -1]
        kept = values[values > -1]
        return float(np.mean(kept)) if kept.size else -1.0

    def interpolated_curve(self, category: int | str, iou: float = 0.5) -> np.ndarray:
        """COCO's 101-point precision at recall 0, 0.01, ..., 1 (all areas, 100 dets)."""
        k = self.category_index(category)
        return self.precision[self.params.iou_index(iou), :, k, 0, -1].copy()

    def pr_curve(self, category: int | str, iou: float = 0.5):
        from detector.evaluation.curves import pr_curve

        return pr_curve(self, self.category_index(category), self.params.iou_index(iou))

    def image_matches(self, image_id: int):
        from detector.evaluation.curves import image_matches

        return image_matches(self, image_id)

    @property
    def per_class(self):
        from detector.evaluation.report import per_class_rows

        return per_class_rows(self)

    def confusion_matrix(self, iou: float = 0.5, score_threshold: float = 0.0):
        from detector.evaluation.confusion import confusion_matrix

        return confusion_matrix(self, iou, score_threshold)

    def to_json(self) -> dict:
        from detector.evaluation.report import result_to_json

        return result_to_json(self)
