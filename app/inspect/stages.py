"""The pipeline, in order: the stage views the dock lists.

App-side stage classes are named ``*View`` so they never shadow the engine's records
(``detector.trace.rpn.RpnStage``, ``detector.trace.roi.RoiStage``, ``TrainingView`` ...).
"""

from __future__ import annotations

from app.inspect.stage_anchors import AnchorsView
from app.inspect.stage_boxhead import BoxHeadView
from app.inspect.stage_features import FeaturesView
from app.inspect.stage_final import FinalView
from app.inspect.stage_input import InputView
from app.inspect.stage_nms import NmsView
from app.inspect.stage_roi import RoiView
from app.inspect.stage_rpn import RpnView
from app.inspect.stage_training import TrainingStepView
from app.inspect.stage_why import WhyView

STAGE_CLASSES = [
    InputView,
    FeaturesView,
    AnchorsView,
    RpnView,
    RoiView,
    BoxHeadView,
    NmsView,
    FinalView,
    TrainingStepView,
    WhyView,
]

# The lecture's story before Faster R-CNN (sliding windows, proposals, R-CNN / Fast R-CNN).
from app.inspect.lecture_stages import LECTURE_STAGES  # noqa: E402

STAGE_CLASSES += LECTURE_STAGES
