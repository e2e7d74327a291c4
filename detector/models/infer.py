"""Which zoo architecture a plain state dict is for, read from its parameter names and shapes.

Each architecture is built on the ``meta`` device (shapes only, no memory, ~0.1 s) with the
class count the file itself holds (``roi_heads.box_predictor.cls_score.weight``: [C, 1024])
and, for Keypoint R-CNN, its keypoint count; the file fits when its tensor names and shapes
equal the built module's. ``num_batches_tracked`` buffers are ignored on both sides:
torchvision's pretrained files use FrozenBatchNorm2d and have none, a random-init module
has them.

What is true of torchvision's zoo: v1 and v2 differ by names and shapes (v2 has batch norm
in its heads), Faster vs Mask vs Keypoint R-CNN by their predictors; but
``fasterrcnn_mobilenet_v3_large_fpn`` and ``fasterrcnn_mobilenet_v3_large_320_fpn`` have
identical parameters (they differ only in input size and RPN settings), so a file of either
fits both: the answer is then ambiguous and the user (or a sidecar's ``architecture``) says.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch

from detector.errors import ModelError
from detector.models import shapes  # noqa: F401  (registers the bundled architecture)
from detector.models.registry import ARCHITECTURES

CLASS_KEY = "roi_heads.box_predictor.cls_score.weight"
KEYPOINT_KEY = "roi_heads.keypoint_predictor.kps_score_lowres.weight"
Signature = dict[str, tuple[int, ...]]


class AmbiguousArchitectureError(ModelError):
    """More than one zoo architecture fits a state dict; ``candidates`` lists them."""

    def __init__(self, message: str, candidates: tuple[str, ...]) -> None:
        super().__init__(message)
        self.candidates = candidates


@dataclass(frozen=True)
class ArchitectureMatch:
    """What fits: ``candidates`` (zoo names), ``num_classes`` (with background) from the file,
    and for no fit, the ``closest`` architecture and what differs (``mismatch``)."""

    candidates: tuple[str, ...]
    num_classes: int | None
    closest: str | None = None
    mismatch: str = ""


def infer_architecture(state: dict[str, torch.Tensor]) -> ArchitectureMatch:
    """Every zoo architecture whose parameter names and shapes equal those of ``state``."""
    num_classes = _count(state, CLASS_KEY, 0)
    if num_classes is None:
        return ArchitectureMatch((), None, None, f"no {CLASS_KEY} (not a two-stage detector?)")
    keypoints = _count(state, KEYPOINT_KEY, 1)
    ours = _shapes(state)
    fits, best = [], (None, 1 << 30, "")
    for name in ARCHITECTURES:
        theirs = _signature(name, num_classes, keypoints if _is_keypoint(name) else None)
        differences = _differences(ours, theirs)
        if not differences:
            fits.append(name)
        elif len(differences) < best[1]:
            best = (name, len(differences), _describe(differences, ours, theirs))
    if fits:
        return ArchitectureMatch(tuple(fits), num_classes)
    return ArchitectureMatch((), num_classes, best[0], best[2])


def choose_architecture(
    state: dict[str, torch.Tensor], source: object, preferred: str | None = None
) -> str:
    """The one architecture that fits ``state``; ``preferred`` (a sidecar's) settles a tie.

    Raises :class:`AmbiguousArchitectureError` (with ``candidates``) when several fit, and
    ModelError naming the closest architecture and the first difference when none does.
    """
    match = infer_architecture(state)
    if preferred is not None and preferred in match.candidates:
        return preferred
    if len(match.candidates) == 1:
        return match.candidates[0]
    if match.candidates:
        names = ", ".join(match.candidates)
        raise AmbiguousArchitectureError(
            f"{source}: these weights fit {len(match.candidates)} architectures ({names}); "
            f"say which (--model ARCH --weights FILE, or the Model dock's Architecture)",
            match.candidates,
        )
    closest = f"; closest is {match.closest}: {match.mismatch}" if match.closest else ""
    detail = closest or f": {match.mismatch}"
    raise ModelError(f"{source}: these weights fit no architecture of the zoo{detail}")


def _is_keypoint(name: str) -> bool:
    return ARCHITECTURES[name].kind == "keypoint"


def _count(state: dict, key: str, dim: int) -> int | None:
    value = state.get(key)
    if isinstance(value, torch.Tensor) and value.dim() > dim:
        return int(value.shape[dim])
    return None


def _shapes(state: dict) -> Signature:
    return {
        k: tuple(v.shape)
        for k, v in state.items()
        if isinstance(v, torch.Tensor) and not k.endswith("num_batches_tracked")
    }


@lru_cache(maxsize=64)
def _signature(name: str, num_classes: int, keypoints: int | None) -> Signature:
    extra = {} if keypoints is None else {"num_keypoints": keypoints}
    with torch.device("meta"):
        module = ARCHITECTURES[name].build(num_classes, **extra)
    return _shapes(module.state_dict())


def _differences(ours: Signature, theirs: Signature) -> list[str]:
    keys = ours.keys() | theirs.keys()
    return sorted(k for k in keys if ours.get(k) != theirs.get(k))


def _describe(differences: list[str], ours: Signature, theirs: Signature) -> str:
    key = differences[0]
    if key not in ours:
        first = f"{key} missing from the file"
    elif key not in theirs:
        first = f"{key} in the file is not a parameter of it"
    else:
        first = f"{key} has shape {ours[key]}, it expects {theirs[key]}"
    return f"{len(differences)} tensors differ, e.g. {first}"
