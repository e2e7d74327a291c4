"""The Lecture group of Inspect stages: what came before Faster R-CNN, on this image."""

from __future__ import annotations

from app.inspect.stage_iou import IouView
from app.inspect.stage_rcnn import RcnnView
from app.inspect.stage_selective_search import SelectiveSearchView
from app.inspect.stage_sliding_windows import SlidingWindowsView

LECTURE_STAGES = [IouView, SlidingWindowsView, SelectiveSearchView, RcnnView]
