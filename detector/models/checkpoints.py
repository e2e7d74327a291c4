"""Checkpoint validation: every field of a loaded checkpoint is checked before it is used.

A checkpoint is read with ``torch.load(weights_only=True)`` (no code runs), but what it
holds is still user data: a DetScope checkpoint may lack fields, hold the wrong types, name
an unknown architecture, carry settings torchvision's builders choke on, or hold tensors
whose *shape* (not size: a ``(300000000, 0)`` tensor is 1.7 KB) would make the loader
allocate gigabytes. Every failure is :class:`~detector.errors.ModelError` naming the file
and the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from detector.errors import ModelError
from detector.models.registry import ARCHITECTURES

MAX_CLASSES = 100_000  # LVIS has 1,204; a class head past this is a corrupt file
MAX_KEYPOINTS = 1_000
CLASS_WEIGHT = "roi_heads.box_predictor.cls_score.weight"


def _int_in(low: int, high: int):
    def check(value: Any) -> bool:
        return type(value) is int and low <= value <= high

    return check


def _fraction(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value) and 0.0 <= value <= 1.0


def _sizes(value: Any) -> bool:
    """``min_size``: one size or a tuple/list of sizes (multi-scale training)."""
    if isinstance(value, (list, tuple)):
        return 0 < len(value) <= 64 and all(_int_in(1, 16384)(v) for v in value)
    return _int_in(1, 16384)(value)


def _floats(count: int, positive: bool = False):
    def check(value: Any) -> bool:
        if not isinstance(value, (list, tuple)) or len(value) != count:
            return False
        ok = all(type(v) in (int, float) and math.isfinite(v) for v in value)
        return ok and (not positive or all(v > 0 for v in value))

    return check


_COUNT = _int_in(1, 100_000)
SETTING_CHECKS: dict[str, Any] = {
    "min_size": _sizes,
    "max_size": _int_in(1, 16384),
    "image_mean": _floats(3),
    "image_std": _floats(3, positive=True),
    "rpn_pre_nms_top_n_train": _COUNT,
    "rpn_pre_nms_top_n_test": _COUNT,
    "rpn_post_nms_top_n_train": _COUNT,
    "rpn_post_nms_top_n_test": _COUNT,
    "rpn_nms_thresh": _fraction,
    "rpn_fg_iou_thresh": _fraction,
    "rpn_bg_iou_thresh": _fraction,
    "rpn_batch_size_per_image": _COUNT,
    "rpn_positive_fraction": _fraction,
    "rpn_score_thresh": _fraction,
    "box_score_thresh": _fraction,
    "box_nms_thresh": _fraction,
    "box_detections_per_img": _COUNT,
    "box_fg_iou_thresh": _fraction,
    "box_bg_iou_thresh": _fraction,
    "box_batch_size_per_image": _COUNT,
    "box_positive_fraction": _fraction,
    "bbox_reg_weights": lambda v: v is None or _floats(4, positive=True)(v),
    "trainable_backbone_layers": _int_in(0, 5),
    "num_keypoints": _int_in(1, MAX_KEYPOINTS),
}


@dataclass(frozen=True)
class CheckedCheckpoint:
    """The fields of a DetScope checkpoint after validation (``state``: name -> tensor)."""

    architecture: str
    categories: list[str]
    settings: dict[str, Any]
    keypoint_names: list[str]
    state: dict[str, torch.Tensor]


def fail(path: Path, field: str, problem: str) -> ModelError:
    return ModelError(f"{path}: checkpoint field '{field}': {problem}")


def check_detscope_checkpoint(payload: dict, path: Path) -> CheckedCheckpoint:
    """Validate a DetScope checkpoint dict field by field (see the module docstring)."""
    architecture = payload.get("architecture")
    if not isinstance(architecture, str) or architecture not in ARCHITECTURES:
        known = ", ".join(sorted(ARCHITECTURES))
        shown = _short(architecture)
        raise fail(path, "architecture", f"{shown} is not a known architecture ({known})")
    state = check_state(payload.get("model"), path, "model")
    categories = payload.get("categories")
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        raise fail(path, "categories", "must be a list of class names (strings)")
    if not 2 <= len(categories) <= MAX_CLASSES:
        raise fail(path, "categories", f"{len(categories)} names (background + 1 at least)")
    found = classes_in_state(state, path)
    if found is not None and found != len(categories):
        raise fail(path, "categories", f"{len(categories)} names for a {found}-class head")
    keypoints = payload.get("keypoint_names", [])
    keypoints = [] if keypoints is None else keypoints
    if not isinstance(keypoints, list) or not all(isinstance(k, str) for k in keypoints):
        raise fail(path, "keypoint_names", "must be a list of strings")
    if len(keypoints) > MAX_KEYPOINTS:
        raise fail(path, "keypoint_names", f"{len(keypoints)} names (at most {MAX_KEYPOINTS})")
    settings = check_settings(payload.get("settings", {}), path)
    return CheckedCheckpoint(architecture, list(categories), settings, list(keypoints), state)


def check_state(state: Any, path: Path, field: str) -> dict[str, torch.Tensor]:
    """A dict of str -> floating or integer tensor (the ``model`` field, or a bare state dict)."""
    if not isinstance(state, dict) or not state:
        raise fail(path, field, "must be a non-empty state dict (weight name -> tensor)")
    for key, value in state.items():
        if not isinstance(key, str):
            raise fail(path, field, f"weight name {_short(key)} is not a string")
        if not isinstance(value, torch.Tensor):
            raise fail(path, f"{field}.{key}", f"is a {type(value).__name__}, not a tensor")
        if value.is_complex() or value.is_quantized or value.layout != torch.strided:
            raise fail(path, f"{field}.{key}", f"holds {value.dtype} values, not real numbers")
    return state


def classes_in_state(state: dict[str, torch.Tensor], path: Path) -> int | None:
    """The class count of the box head, bounded by ``MAX_CLASSES``; None when absent.

    Checked from the tensor's *shape* before anything is built from it: a zero-width
    ``(300000000, 0)`` weight costs no memory in the file but would size the model.
    """
    weight = state.get(CLASS_WEIGHT)
    if weight is None:
        return None
    shape = tuple(weight.shape)
    if len(shape) != 2 or not (2 <= shape[0] <= MAX_CLASSES) or not 1 <= shape[1] <= 65_536:
        raise fail(
            path, f"model.{CLASS_WEIGHT}", f"shape {shape} is not a (classes, features) head"
        )
    return int(shape[0])


def check_settings(settings: Any, path: Path) -> dict[str, Any]:
    """A dict of known torchvision builder keywords with sane values."""
    if not isinstance(settings, dict):
        raise fail(path, "settings", f"must be a dict, not {type(settings).__name__}")
    for key, value in settings.items():
        check = SETTING_CHECKS.get(key) if isinstance(key, str) else None
        if check is None:
            shown = key if isinstance(key, str) else _short(key)
            raise fail(path, f"settings.{shown[:60]}", "is not a known builder setting")
        if not check(value):
            raise fail(path, f"settings.{key}", f"value {_short(value)} is out of range")
    return dict(settings)


def build_checked(path: Path, name: str, num_classes: int, settings: dict) -> torch.nn.Module:
    """Architecture ``name`` with ``num_classes`` (validated), seeded; build errors as ModelError."""
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            return ARCHITECTURES[name].build(num_classes, **settings)
    except (TypeError, ValueError, RuntimeError, AssertionError) as exc:
        raise ModelError(f"{path}: cannot build {name} with these settings ({exc})") from None


def check_shapes(module: torch.nn.Module, state: dict, path: Path, name: str) -> None:
    """Every weight present with the module's shape, before ``load_state_dict`` copies it."""
    own = module.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if missing or unexpected:
        sample = ", ".join((missing or unexpected)[:3])
        raise ModelError(
            f"{path}: checkpoint does not fit {name}: {len(missing)} missing and "
            f"{len(unexpected)} unexpected weights (e.g. {sample})"
        )
    for key, value in state.items():
        if own[key].shape != value.shape:
            raise ModelError(
                f"{path}: checkpoint does not fit {name}: {key} has shape "
                f"{tuple(value.shape)}, the model expects {tuple(own[key].shape)} "
                f"(another class count?)"
            )


def _short(value: Any, limit: int = 60) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a repr that fails (int digit limit, recursion)
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
