"""The pipeline, in order: the stage classes the dock lists."""

from __future__ import annotations

from app.inspect.stage_anchors import AnchorsStage
from app.inspect.stage_boxhead import BoxHeadStage
from app.inspect.stage_features import FeaturesStage
from app.inspect.stage_final import FinalStage
from app.inspect.stage_input import InputStage
from app.inspect.stage_nms import NmsStage
from app.inspect.stage_roi import RoiStage
from app.inspect.stage_rpn import RpnStage
from app.inspect.stage_training import TrainingStage
from app.inspect.stage_why import WhyStage

STAGE_CLASSES = [
    InputStage,
    FeaturesStage,
    AnchorsStage,
    RpnStage,
    RoiStage,
    BoxHeadStage,
    NmsStage,
    FinalStage,
    TrainingStage,
    WhyStage,
]

# The lecture's story before Faster R-CNN (sliding windows, proposals, R-CNN / Fast R-CNN).
from app.inspect.lecture_stages import LECTURE_STAGES  # noqa: E402

STAGE_CLASSES += LECTURE_STAGES
