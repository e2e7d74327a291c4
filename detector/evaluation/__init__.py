"""Detection evaluation identical to pycocotools' COCOeval, fast and incremental.

from detector.evaluation import evaluate, from_coco
result = evaluate(from_coco(gt_dict, results_list), iou_type="bbox")
result.stats, result.summary_lines(), result.pr_curve("cat", iou=0.5)
"""

from __future__ import annotations

from detector.evaluation.coco_input import from_coco
from detector.evaluation.engine import IncrementalEvaluator, evaluate
from detector.evaluation.inputs import EvaluationInput, ImageInstances, from_arrays
from detector.evaluation.params import EvalParams, EvaluationError
from detector.evaluation.result import EvaluationResult
from detector.evaluation.voc import voc_ap

__all__ = [
    "EvalParams",
    "EvaluationError",
    "EvaluationInput",
    "EvaluationResult",
    "ImageInstances",
    "IncrementalEvaluator",
    "evaluate",
    "from_arrays",
    "from_coco",
    "voc_ap",
]
