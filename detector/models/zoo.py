"""The model zoo: a registry of torchvision two-stage detectors and how to load their weights.

``load_model`` returns a :class:`DetModel`: the plain torchvision module (``.module``, the
reference for every equality test), its category names (index = label id, 0 = background),
the device it lives on, and where its weights came from.

Weights may be ``None`` (seeded random init, for tests and teaching), a local checkpoint
(a torchvision state dict, or a DetScope checkpoint recording architecture, categories and
settings), or a torchvision weights name such as ``"COCO_V1"``, found in the torch hub cache
and never downloaded unless ``download=True``. Checkpoints are always read with
``torch.load(weights_only=True)``: a .pth file can carry code, and we never unpickle objects.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from detector.errors import ModelError
from detector.models import shapes  # noqa: F401  (registers the bundled architecture)
from detector.models.checkpoints import (
    build_checked,
    check_detscope_checkpoint,
    check_shapes,
    check_state,
    classes_in_state,
)
from detector.models.registry import (
    ARCHITECTURES,
    DetModel,
    default_category_names,
    resolve_device,
)
from detector.models.sidecars import resolve_plain_checkpoint

CHECKPOINT_FORMAT = "detscope-checkpoint"
RESOURCES = Path(__file__).resolve().parents[2] / "resources"
BUNDLED_CHECKPOINTS = {"shapes": RESOURCES / "models" / "shapes.pth"}


def load_model(
    name: str,
    *,
    weights: str | os.PathLike | None = "default",
    num_classes: int | None = None,
    categories: list[str] | None = None,
    device: str | torch.device | None = "auto",
    seed: int = 0,
    download: bool = False,
    **settings: Any,
) -> DetModel:
    """Build architecture ``name`` (or load a checkpoint path given as ``name``).

    ``weights``: ``None`` for seeded random init; a checkpoint path; a torchvision weights
    name (``"COCO_V1"``, ``"DEFAULT"``); or ``"default"``: the bundled checkpoint for bundled
    models, random init otherwise. ``settings`` are torchvision builder keywords
    (``min_size``, ``box_score_thresh``, ``rpn_post_nms_top_n_test`` ...).
    """
    if name not in ARCHITECTURES and Path(name).suffix in (".pth", ".pt") or Path(name).is_file():
        return _load_checkpoint_file(Path(name), None, num_classes, device, settings)
    if name not in ARCHITECTURES:
        known = ", ".join(sorted(ARCHITECTURES))
        raise ModelError(f"unknown model {name!r}; known architectures: {known}")
    if weights == "default":
        bundled = BUNDLED_CHECKPOINTS.get(name)
        weights = bundled if bundled is not None and bundled.is_file() else None
    if weights is None:
        return _build_random(name, num_classes, categories, device, seed, settings)
    if (
        isinstance(weights, os.PathLike)
        or Path(str(weights)).suffix in (".pth", ".pt")
        or Path(str(weights)).is_file()
    ):
        return _load_checkpoint_file(Path(weights), name, num_classes, device, settings)
    return _load_torchvision_weights(name, str(weights), device, download, settings)


def _build_random(
    name: str,
    num_classes: int | None,
    categories: list[str] | None,
    device: Any,
    seed: int,
    settings: dict,
) -> DetModel:
    arch = ARCHITECTURES[name]
    if categories is not None:
        num_classes = len(categories)
    num_classes = num_classes or arch.default_num_classes
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = arch.build(num_classes, **settings)
    names = categories or default_category_names(arch, num_classes)
    return _finish(module, name, names, device, f"random init, seed {seed}", False, settings)


def _finish(
    module: nn.Module,
    name: str,
    categories: list[str],
    device: Any,
    source: str,
    trained: bool,
    settings: dict,
    keypoint_names: list[str] | None = None,
) -> DetModel:
    target = resolve_device(device)
    module.eval().to(target)
    return DetModel(
        module=module,
        architecture=name,
        categories=list(categories),
        device=target,
        source=source,
        trained=trained,
        settings=dict(settings),
        keypoint_names=list(keypoint_names or []),
    )


def _load_torchvision_weights(
    name: str, weights_name: str, device: Any, download: bool, settings: dict
) -> DetModel:
    import torchvision.models as tv_models

    arch = ARCHITECTURES[name]
    if arch.torchvision_builder is None:
        raise ModelError(f"{name} has no torchvision weights; give a checkpoint path")
    enum = tv_models.get_model_weights(arch.torchvision_builder)
    try:
        chosen = enum[weights_name] if weights_name != "DEFAULT" else enum.DEFAULT
    except KeyError:
        known = ", ".join(w.name for w in enum)
        raise ModelError(f"{name} has no weights {weights_name!r}; known: {known}") from None
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(chosen.url).name
    if not cached.is_file() and download:  # verified, atomic, honours the mirror variable
        from detector.models.weights import download_weights, find_weights

        download_weights(find_weights(name, chosen.name))
    if not cached.is_file() and not download:
        raise ModelError(
            f"weights {name} {chosen.name} are not in the torch hub cache ({cached}). "
            f"Download them (python main.py weights get {name} --weights {chosen.name}, or "
            f"the Model dock's Download button), or copy the file {Path(chosen.url).name} there."
        )
    import torchvision.models.detection as detection

    module = getattr(detection, arch.torchvision_builder)(weights=chosen, **settings)
    return _finish(
        module,
        name,
        chosen.meta["categories"],
        device,
        f"torchvision {chosen.name}",
        True,
        settings,
        chosen.meta.get("keypoint_names"),
    )


def read_checkpoint(path: Path) -> dict[str, Any]:
    """``torch.load(weights_only=True)`` with one clear error for every way a file can be bad."""
    if not path.is_file():
        raise ModelError(f"{path}: no such checkpoint file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zip, pickle with code, not a torch file at all
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"{path}: not a loadable weights-only checkpoint ({reason})") from None
    if not isinstance(payload, dict):
        raise ModelError(f"{path}: not a checkpoint (holds a {type(payload).__name__})")
    return payload


def _load_checkpoint_file(
    path: Path, name: str | None, num_classes: int | None, device: Any, settings: dict
) -> DetModel:
    """Load a checkpoint validated field by field (:mod:`detector.models.checkpoints`)."""
    payload = read_checkpoint(path)
    keypoint_names = None
    if payload.get("format") == CHECKPOINT_FORMAT:
        checked = check_detscope_checkpoint(payload, path)
        if name is not None and name != checked.architecture:
            raise ModelError(f"{path}: checkpoint is for {checked.architecture}, not {name}")
        name, state, categories = checked.architecture, checked.state, checked.categories
        settings = {**checked.settings, **settings}
        keypoint_names = checked.keypoint_names
    else:
        inner = payload.get("model")
        state = check_state(inner if isinstance(inner, dict) else payload, path, "model")
        found = classes_in_state(state, path)
        if num_classes is not None and found is not None and found != num_classes:
            raise ModelError(f"{path}: checkpoint has {found} classes, {num_classes} expected")
        plain = resolve_plain_checkpoint(path, state, name)  # architecture, names: sidecars
        name, categories = plain.architecture, plain.categories
    if name not in ARCHITECTURES:
        raise ModelError(f"{path}: unknown architecture {name!r} recorded in the checkpoint")
    module = build_checked(path, name, len(categories), settings)
    own = module.state_dict()
    # torchvision's pretrained files use FrozenBatchNorm2d: no num_batches_tracked buffers
    state = {**{k: v for k, v in own.items() if k.endswith("num_batches_tracked")}, **state}
    check_shapes(module, state, path, name)
    try:
        module.load_state_dict(state)
    except (RuntimeError, TypeError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"{path}: checkpoint weights cannot be loaded ({reason})") from None
    return _finish(module, name, categories, device, str(path), True, settings, keypoint_names)


def save_checkpoint(model: DetModel, path: str | os.PathLike, **extra: Any) -> Path:
    """Write a DetScope checkpoint atomically (loads with ``weights_only=True``)."""
    import io

    from detector.io.files import atomic_write_bytes

    payload = {
        "format": CHECKPOINT_FORMAT,
        "architecture": model.architecture,
        "categories": list(model.categories),
        "settings": dict(model.settings),
        "keypoint_names": list(model.keypoint_names),
        "model": {k: v.detach().cpu() for k, v in model.module.state_dict().items()},
        **extra,
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return atomic_write_bytes(path, buffer.getvalue())
