"""DetScope's engine: models, image reading, the inspection trace, data and evaluation.

Pure Python + torch + numpy + opencv: nothing here imports Qt or ``app``. Heavy modules
(torch) load lazily, so ``import detector`` is instant and the GUI can start before torch.
"""

from __future__ import annotations

from detector.lazy import lazy_names

_LAZY = {
    "load_model": "detector.models",
    "DetModel": "detector.models",
    "ModelError": "detector.errors",
    "ImageReadError": "detector.errors",
    "AnnotationError": "detector.errors",
    "DetScopeError": "detector.errors",
    "Dataset": "detector.data.dataset",
    "open_dataset": "detector.store",
    "save_dataset": "detector.store",
    "evaluate": "detector.evaluation",
    "from_coco": "detector.evaluation",
    "read_image": "detector.io.images",
    "load_image": "detector.io.images",
    "detect_layout": "detector.formats.layouts",
    "Detections": "detector.inference.detections",
    "detect": "detector.inference.run",
    "trace_image": "detector.trace",
    "Trace": "detector.trace",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_names(__name__, _LAZY)
