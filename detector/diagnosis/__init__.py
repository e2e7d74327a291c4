"""Dataset-wide diagnosis: what costs AP (TIDE, COCO analyze) and where objects are lost.

from detector.diagnosis import tide
result = tide(evaluation_input)   # result.main["Loc"], result.special["FalseNeg"]
"""

from __future__ import annotations

from detector.diagnosis.analyze import AnalyzeResult, coco_analyze
from detector.diagnosis.tide import TideResult, tide

__all__ = ["AnalyzeResult", "TideResult", "coco_analyze", "tide"]
