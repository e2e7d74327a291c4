"""The lecture's story before Faster R-CNN, measured on the user's own image.

windows: the number of boxes in an image and the cost of classifying sliding windows.
proposals: Selective Search (OpenCV contrib) next to the RPN, recall at IoU 0.5 / 0.7.
rcnn: R-CNN labels, regression targets, warped crops; R-CNN versus Fast R-CNN timings and
RoIPool / RoIAlign from shared features. pr_walk: a class's PR curve one detection at a time.
shared: the timed backbone / RPN passes. Uses detector.trace (the RPN's proposals, kept
features) and detector.evaluation (AP definitions); nothing here imports Qt.
"""

from __future__ import annotations

from detector.lecture.pr_walk import PRWalk, WalkStep, pr_walk
from detector.lecture.proposals import (
    ProposalSet,
    RecallTable,
    first_hit_ranks,
    needed_for,
    recall_at,
    recall_table,
    rpn_proposals,
    selective_search,
)
from detector.lecture.rcnn import (
    NEGATIVE_LABEL,
    NEUTRAL_LABEL,
    POSITIVE_LABEL,
    PooledFeatures,
    ProposalLabels,
    RcnnTiming,
    RegressionTargets,
    compare_rcnn,
    crop_window,
    label_proposals,
    pool_from_trace,
    regression_targets,
    warp_crops,
)
from detector.lecture.shared import BackbonePass, backbone_once, rpn_seconds
from detector.lecture.windows import (
    LectureError,
    WindowCost,
    WindowScale,
    box_count,
    box_count_by_sizes,
    classify_boxes,
    sliding_windows,
    window_cost,
    window_pyramid,
)

__all__ = [
    "NEGATIVE_LABEL",
    "NEUTRAL_LABEL",
    "POSITIVE_LABEL",
    "BackbonePass",
    "LectureError",
    "PRWalk",
    "PooledFeatures",
    "ProposalLabels",
    "ProposalSet",
    "RcnnTiming",
    "RecallTable",
    "RegressionTargets",
    "WalkStep",
    "WindowCost",
    "WindowScale",
    "backbone_once",
    "box_count",
    "box_count_by_sizes",
    "classify_boxes",
    "compare_rcnn",
    "crop_window",
    "first_hit_ranks",
    "label_proposals",
    "needed_for",
    "pool_from_trace",
    "pr_walk",
    "recall_at",
    "recall_table",
    "regression_targets",
    "rpn_proposals",
    "rpn_seconds",
    "selective_search",
    "sliding_windows",
    "warp_crops",
    "window_cost",
    "window_pyramid",
]
