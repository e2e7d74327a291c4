"""The step-by-step trace of a two-stage detector (the Inspect dock's engine).

:mod:`.pipeline` runs torchvision's own submodules in the model's order and records each
stage (``trace_image``, ``Trace``, ``Trace.rerun``); :mod:`.records` holds the per-stage
records; :mod:`.rpn`, :mod:`.roi`, :mod:`.heads` the stages; :mod:`.training_view` the
training-time labels and losses.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "trace_image": "detector.trace.pipeline",
    "Trace": "detector.trace.pipeline",
    "TraceError": "detector.trace.pipeline",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module), name)
