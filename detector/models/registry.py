"""The zoo's registry: which architectures exist, what a loaded model is, and devices.

An :class:`Architecture` builds a random-init torchvision module; a :class:`DetModel` is a
module ready to run with its category names, device and the source of its weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from detector.errors import ModelError

ModelKind = Literal["box", "mask", "keypoint"]  # Faster, Mask or Keypoint R-CNN


@dataclass(frozen=True, kw_only=True)
class Architecture:
    """One entry of the zoo. ``build(num_classes, **settings)`` returns a random-init module."""

    name: str
    build: Callable[..., nn.Module]
    kind: ModelKind
    default_num_classes: int
    description: str
    torchvision_builder: str | None = None  # name in torchvision.models, for weight enums
    categories: tuple[str, ...] = ()  # names for default_num_classes (index 0 = background)


@dataclass(kw_only=True)
class DetModel:
    """A detector ready to run: ``module([tensor])`` is torchvision's own forward."""

    module: nn.Module
    architecture: str
    categories: list[str]
    device: torch.device
    source: str
    trained: bool
    settings: dict[str, Any] = field(default_factory=dict)
    keypoint_names: list[str] = field(default_factory=list)

    @property
    def kind(self) -> ModelKind:
        return ARCHITECTURES[self.architecture].kind

    @property
    def num_classes(self) -> int:
        return len(self.categories)

    def to(self, device: str | torch.device) -> DetModel:
        self.device = resolve_device(device)
        self.module.to(self.device)
        return self

    def describe(self) -> str:
        state = "trained" if self.trained else "UNTRAINED random weights"
        return f"{self.architecture} ({state}; {self.source}) on {self.device}"


def _torchvision(builder_name: str, **fixed: Any) -> Callable[..., nn.Module]:
    def build(num_classes: int, **settings: Any) -> nn.Module:
        import torchvision.models.detection as detection

        builder = getattr(detection, builder_name)
        kwargs = {**fixed, **settings}
        return builder(weights=None, weights_backbone=None, num_classes=num_classes, **kwargs)

    return build


def _register_torchvision() -> dict[str, Architecture]:
    table = [
        ("fasterrcnn_resnet50_fpn", "box", "Faster R-CNN, ResNet-50 FPN (the paper's detector)"),
        ("fasterrcnn_resnet50_fpn_v2", "box", "Faster R-CNN v2, ResNet-50 FPN, better recipe"),
        ("fasterrcnn_mobilenet_v3_large_fpn", "box", "Faster R-CNN, MobileNetV3-Large FPN (fast)"),
        ("fasterrcnn_mobilenet_v3_large_320_fpn", "box", "the same at 320 px (fastest, for CPU)"),
        ("maskrcnn_resnet50_fpn", "mask", "Mask R-CNN, ResNet-50 FPN"),
        ("maskrcnn_resnet50_fpn_v2", "mask", "Mask R-CNN v2, ResNet-50 FPN"),
        ("keypointrcnn_resnet50_fpn", "keypoint", "Keypoint R-CNN (the lecture's pose extension)"),
    ]
    registry = {}
    for name, kind, description in table:
        num_classes = 2 if kind == "keypoint" else 91
        registry[name] = Architecture(
            name=name,
            build=_torchvision(name),
            kind=kind,
            default_num_classes=num_classes,
            description=description,
            torchvision_builder=name,
        )
    return registry


ARCHITECTURES: dict[str, Architecture] = _register_torchvision()


def register_architecture(arch: Architecture) -> None:
    """Add an architecture to the zoo (the bundled ``shapes`` model registers itself here)."""
    ARCHITECTURES[arch.name] = arch


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """``auto`` (or None) is CUDA when available, else CPU."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ModelError(f"unknown device {device!r} (use auto, cpu, cuda or cuda:N)") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ModelError(f"device {device!r} asked for, but CUDA is not available here")
    return resolved


def default_category_names(arch: Architecture, num_classes: int) -> list[str]:
    """The architecture's own names, COCO's for 91 classes, else ``class_1`` ...; 0 = background."""
    if len(arch.categories) == num_classes:
        return list(arch.categories)
    if arch.kind == "keypoint" and num_classes == 2:
        return ["__background__", "person"]
    if num_classes == 91:
        from torchvision.models.detection import FasterRCNN_ResNet50_FPN_Weights

        return list(FasterRCNN_ResNet50_FPN_Weights.COCO_V1.meta["categories"])
    return ["__background__"] + [f"class_{i}" for i in range(1, num_classes)]
