"""evaluate() and IncrementalEvaluator: the entry points over the cached match arrays."""

from __future__ import annotations

import numpy as np

from detector.evaluation.accumulate import Accumulated, accumulate, reaccumulate
from detector.evaluation.block import evaluate_block
from detector.evaluation.inputs import EvaluationInput, ImageInstances
from detector.evaluation.params import EvalParams, EvaluationError, IouType
from detector.evaluation.result import EvaluationResult
from detector.evaluation.tables import replace_image


def evaluate(
    data: EvaluationInput, iou_type: IouType = "bbox", params: EvalParams | None = None
) -> EvaluationResult:
    """COCOeval's evaluate + accumulate + summarize on ``data`` (see from_coco, from_arrays)."""
    return IncrementalEvaluator(data, iou_type, params).result()


class IncrementalEvaluator:
    """Keeps per-detection match arrays; an edit re-matches one image and re-accumulates
    only the categories of its old and new rows (the others are copied unchanged).

    >>> ev = IncrementalEvaluator(data)
    >>> ev.update_image(42, dt=new_detections)   # or gt=..., or both
    >>> ev.result().stats
    """

    def __init__(
        self, data: EvaluationInput, iou_type: IouType = "bbox", params: EvalParams | None = None
    ) -> None:
        if iou_type not in ("bbox", "segm"):
            raise EvaluationError(f"iou_type must be 'bbox' or 'segm', not {iou_type!r}")
        self.data = data
        self.iou_type = iou_type
        self.params = params or EvalParams()
        self._image_ids = data.image_ids
        self._image_index = {image_id: i for i, image_id in enumerate(self._image_ids)}
        self._tables = evaluate_block(
            data, self._image_ids, self._image_index, self.params, iou_type
        )
        self._result: EvaluationResult | None = None
        self._accumulated: Accumulated | None = None
        self._stale = np.zeros(0, np.int64)  # categories edited since _accumulated

    def update_image(
        self, image_id: int, gt: ImageInstances | None = None, dt: ImageInstances | None = None
    ) -> None:
        """Replace one image's ground truth and/or detections (None: unchanged)."""
        if image_id not in self._image_index:
            raise EvaluationError(f"image {image_id} is not in the evaluated set")
        if gt is not None:
            self.data.gt[image_id] = gt
        if dt is not None:
            if dt.scores is None:
                raise EvaluationError("detections need scores")
            self.data.dt[image_id] = dt
        index = self._image_index[image_id]
        block = evaluate_block(self.data, [image_id], self._image_index, self.params, self.iou_type)
        self._tables, touched = replace_image(self._tables, index, block, self.params)
        self._stale = np.union1d(self._stale, touched)
        self._result = None

    def result(self) -> EvaluationResult:
        if self._result is None:
            if self._accumulated is None:
                acc = accumulate(self._tables, len(self.data.categories), self.params)
            else:
                acc = reaccumulate(self._accumulated, self._tables, self._stale, self.params)
            self._accumulated, self._stale = acc, self._stale[:0]
            self._result = EvaluationResult(
                data=self.data,
                iou_type=self.iou_type,
                params=self.params,
                accumulated=acc,
                tables=self._tables,
            )
        return self._result
