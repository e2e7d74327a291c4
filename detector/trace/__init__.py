"""The step-by-step trace of a two-stage detector (the Inspect dock's engine).

:mod:`.pipeline` runs torchvision's own submodules in the model's order and records each
stage (``trace_image``, ``Trace``, ``Trace.rerun``); :mod:`.records` holds the per-stage
records; :mod:`.rpn`, :mod:`.roi`, :mod:`.heads` the stages; :mod:`.training_view` the
training-time labels and losses.
"""

from __future__ import annotations

from detector.lazy import lazy_names

_LAZY = {
    "trace_image": "detector.trace.pipeline",
    "Trace": "detector.trace.pipeline",
    "TraceError": "detector.trace.pipeline",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_names(__name__, _LAZY)
