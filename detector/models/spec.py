"""A model choice as one string, as the window stores and the command line gives it.

``ARCH`` (the architecture's default: the bundled checkpoint, else random init),
``ARCH@none`` (seeded random init), ``ARCH@COCO_V1`` (torchvision weights from the cache),
``ARCH@/path/to/file.pth`` (a checkpoint for that architecture), or a bare checkpoint path
(its architecture recorded or inferred). Parsing needs no torch, so the window can do it
before torch has loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEPARATOR = "@"
RANDOM = "none"
DEFAULT = "default"
_ARCH_NAME = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass(frozen=True)
class ModelChoice:
    """``architecture`` None means a bare checkpoint path in ``weights`` decides."""

    architecture: str | None
    weights: str = DEFAULT

    @property
    def spec(self) -> str:
        if self.architecture is None:
            return self.weights
        if self.weights == DEFAULT:
            return self.architecture
        return f"{self.architecture}{SEPARATOR}{self.weights}"

    @property
    def is_random(self) -> bool:
        return self.weights.lower() == RANDOM

    @property
    def is_file(self) -> bool:
        """The weights are a checkpoint file (a bare path, a .pth/.pt name, or any path)."""
        weights = self.weights
        return (
            self.architecture is None
            or Path(weights).suffix in (".pth", ".pt")
            or "/" in weights
            or "\\" in weights
            or Path(weights).is_file()
        )

    def label(self) -> str:
        """``fasterrcnn_resnet50_fpn · COCO_V1``, ``… · random init``, ``… · mine.pth``."""
        if self.architecture is None:
            return Path(self.weights).name
        if self.is_random:
            return f"{self.architecture} · random init"
        if self.is_file:
            return f"{self.architecture} · {Path(self.weights).name}"
        return (
            self.architecture
            if self.weights == DEFAULT
            else f"{self.architecture} · {self.weights}"
        )


def parse_model_spec(spec: str) -> ModelChoice:
    """The inverse of :attr:`ModelChoice.spec`."""
    head, separator, tail = spec.partition(SEPARATOR)
    if separator and _ARCH_NAME.match(head) and tail:
        return ModelChoice(head, tail)
    if _ARCH_NAME.match(spec):
        return ModelChoice(spec, DEFAULT)
    return ModelChoice(None, spec)


def choice_from_arguments(model: str | None, weights: str | None) -> ModelChoice | None:
    """``--model ARCH|PATH --weights NAME|none|PATH`` as given on the command line."""
    if model is None and weights is None:
        return None
    if model is None:
        return ModelChoice(None, weights) if Path(weights).suffix in (".pth", ".pt") else None
    choice = parse_model_spec(model)
    if weights is None or choice.architecture is None:
        return choice
    return ModelChoice(choice.architecture, RANDOM if weights.lower() == RANDOM else weights)


def load_choice(choice: ModelChoice, device: str = "auto", **settings: Any):
    """Load the :class:`~detector.models.registry.DetModel` that ``choice`` names."""
    from detector.models.zoo import load_model

    if choice.architecture is None:
        return load_model(choice.weights, device=device, **settings)
    if choice.is_random:
        return load_model(choice.architecture, weights=None, device=device, **settings)
    weights: Any = Path(choice.weights) if choice.is_file else choice.weights
    return load_model(choice.architecture, weights=weights, device=device, **settings)


def model_label(model: Any) -> str:
    """A loaded model as the status bar names it: ``fasterrcnn_resnet50_fpn · COCO_V1``."""
    source = str(getattr(model, "source", ""))  # stand-in models may carry less
    architecture = getattr(model, "architecture", "model")
    if not getattr(model, "trained", True):
        return f"{architecture} · RANDOM INIT (untrained)"
    if not source:
        return architecture
    if source.startswith("torchvision "):
        return f"{architecture} · {source.removeprefix('torchvision ')}"
    if source.startswith("fine-tuned"):
        return f"{architecture} · {source}"
    return f"{architecture} · {Path(source).name}"
