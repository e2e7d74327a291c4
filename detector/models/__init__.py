"""The model zoo (:mod:`.zoo`: ``load_model``, checkpoints), its registry (:mod:`.registry`)
and the bundled ``shapes`` architecture (:mod:`.shapes`). Names load lazily: torch is
imported on first use, not by ``import detector.models``.
"""

from __future__ import annotations

from detector.lazy import lazy_names

_LAZY = {
    "load_model": "detector.models.zoo",
    "read_checkpoint": "detector.models.zoo",
    "save_checkpoint": "detector.models.zoo",
    "BUNDLED_CHECKPOINTS": "detector.models.zoo",
    "RESOURCES": "detector.models.zoo",
    "CHECKPOINT_FORMAT": "detector.models.zoo",
    "ARCHITECTURES": "detector.models.zoo",
    "Architecture": "detector.models.zoo",
    "DetModel": "detector.models.zoo",
    "register_architecture": "detector.models.zoo",
    "resolve_device": "detector.models.zoo",
    "default_category_names": "detector.models.zoo",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_names(__name__, _LAZY)
