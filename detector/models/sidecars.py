"""A plain state dict's architecture and class names, from the file and the files beside it.

Class names, in order of preference (a DetScope checkpoint records its own and never gets
here):

1. ``<checkpoint>.json`` beside the file (``model.pth.json`` or ``model.json``):
   ``{"architecture": "fasterrcnn_resnet50_fpn", "categories": ["cat", "dog"]}``;
2. ``classes.txt`` beside the file: one name per line, background excluded;
3. the file is torchvision's own (its name is a weights enum's file name): that enum's names;
4. ``class_1`` ... ``class_N``.

The class count always comes from the weights (``cls_score`` has N + 1 rows); a sidecar with
another count is an error naming the sidecar. The architecture is the sidecar's when it fits
the weights, else the one zoo architecture that fits (:mod:`detector.models.infer`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from detector.errors import ModelError
from detector.models.infer import CLASS_KEY, choose_architecture
from detector.models.registry import ARCHITECTURES
from detector.models.weights import HASH_IN_NAME, list_weights

CLASSES_TXT = "classes.txt"
BACKGROUND_NAMES = ("__background__", "background", "__bg__")


@dataclass(frozen=True)
class Sidecar:
    """What the files beside a checkpoint say: ``categories`` exclude the background."""

    architecture: str | None = None
    categories: tuple[str, ...] | None = None
    source: Path | None = None


@dataclass(frozen=True)
class PlainCheckpoint:
    """How a plain state dict will be loaded: ``categories[0]`` is the background."""

    architecture: str
    categories: list[str]
    architecture_from: str  # "given", "sidecar model.json", "inferred from the weights"
    names_from: str  # "classes.txt", "model.json", "torchvision COCO_V1", "class_N"


def json_sidecar_paths(checkpoint: Path) -> list[Path]:
    """``model.pth.json`` then ``model.json``."""
    return [checkpoint.with_name(checkpoint.name + ".json"), checkpoint.with_suffix(".json")]


def read_sidecar(checkpoint: Path) -> Sidecar:
    """The first JSON sidecar that exists, else ``classes.txt``, else an empty Sidecar."""
    for path in json_sidecar_paths(checkpoint):
        if path.is_file() and path != checkpoint:
            return _read_json(path)
    text_path = checkpoint.with_name(CLASSES_TXT)
    if text_path.is_file():
        try:
            lines = text_path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelError(f"{text_path}: cannot read class names ({exc})") from None
        names = tuple(line.strip() for line in lines if line.strip())
        return Sidecar(None, names, text_path)
    return Sidecar()


def _read_json(path: Path) -> Sidecar:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: not a readable JSON sidecar ({exc})") from None
    if not isinstance(document, dict):
        raise ModelError(f"{path}: a sidecar is a JSON object with architecture and categories")
    architecture = document.get("architecture")
    if architecture is not None and architecture not in ARCHITECTURES:
        known = ", ".join(sorted(ARCHITECTURES))
        raise ModelError(f"{path}: architecture {architecture!r} is not in the zoo ({known})")
    categories = document.get("categories")
    if categories is None:
        return Sidecar(architecture, None, path)
    names = []
    for index, item in enumerate(categories if isinstance(categories, list) else [None]):
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str) or not name.strip():
            raise ModelError(f"{path}: categories[{index}] is not a name")
        names.append(name.strip())
    return Sidecar(architecture, tuple(names), path)


def write_sidecar(checkpoint: Path, architecture: str, categories: list[str]) -> Path:
    """Write ``<checkpoint>.json`` atomically (``categories`` without the background)."""
    from detector.io.files import atomic_write_json

    target = json_sidecar_paths(Path(checkpoint))[0]
    document = {"architecture": architecture, "categories": list(categories)}
    return atomic_write_json(target, document, indent=2)


def resolve_plain_checkpoint(
    path: Path, state: dict[str, torch.Tensor], architecture: str | None = None
) -> PlainCheckpoint:
    """Architecture and class names (background first) for the plain state dict at ``path``."""
    sidecar = read_sidecar(path)
    if architecture is not None:
        how = "given"
    else:
        named = sidecar.architecture or _torchvision_architecture(path)
        architecture = choose_architecture(state, path, named)
        if sidecar.architecture == architecture:
            how = f"sidecar {sidecar.source.name}"
        else:
            how = "file name" if named == architecture else "inferred from the weights"
    weight = state.get(CLASS_KEY)
    if not isinstance(weight, torch.Tensor):
        raise ModelError(f"{path}: no {CLASS_KEY} in the file (not a two-stage detector?)")
    num_classes = int(weight.shape[0])
    if sidecar.categories is not None:
        names = _checked_names(sidecar, path, num_classes)
        return PlainCheckpoint(architecture, names, how, sidecar.source.name)
    torchvision_names = _torchvision_names(path, architecture, num_classes)
    if torchvision_names is not None:
        return PlainCheckpoint(architecture, torchvision_names[1], how, torchvision_names[0])
    names = ["__background__"] + [f"class_{i}" for i in range(1, num_classes)]
    return PlainCheckpoint(architecture, names, how, "class_N")


def _checked_names(sidecar: Sidecar, path: Path, num_classes: int) -> list[str]:
    """The sidecar's names with the background first; a leading background name is allowed."""
    names = list(sidecar.categories or ())
    if len(names) == num_classes and names and names[0].lower() in BACKGROUND_NAMES:
        names = names[1:]
    if len(names) != num_classes - 1:
        raise ModelError(
            f"{sidecar.source}: {len(names)} class names, but {path.name} has "
            f"{num_classes - 1} classes (plus background)"
        )
    return ["__background__", *names]


def _torchvision_architecture(path: Path) -> str | None:
    """The zoo architecture whose torchvision weights file is called ``path.name``, if any."""
    if HASH_IN_NAME.search(path.name) is None:
        return None
    for entry in list_weights():
        if entry.file_name == path.name:
            return entry.architecture
    return None


def _torchvision_names(
    path: Path, architecture: str, num_classes: int
) -> tuple[str, list[str]] | None:
    """``("torchvision COCO_V1", names)`` when ``path`` carries a torchvision weights file name."""
    builder = ARCHITECTURES[architecture].torchvision_builder
    if builder is None:
        return None
    import torchvision.models as tv_models

    for weights in tv_models.get_model_weights(builder):
        names = list(weights.meta["categories"])
        if weights.url.rsplit("/", 1)[-1] == path.name and len(names) == num_classes:
            return f"torchvision {weights.name}", names
    return None
