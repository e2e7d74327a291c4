"""Timed passes through the model's own modules: the backbone once, the RPN after it.

These are the numbers the lecture compares: R-CNN runs a CNN per region, Fast R-CNN runs
the backbone once per image, Faster R-CNN adds only the RPN head on the shared features.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch

from detector.inference.run import image_to_tensor


def synchronize(device) -> None:
    """Wait for queued GPU work, so a wall-clock reading covers it (no-op on CPU)."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@dataclass
class BackbonePass:
    """One image through ``model.transform`` and ``model.backbone``.

    features: backbone outputs (model device, [1, C, H, W] each); images: the transform's
    ImageList; resized_size (h, w); seconds: wall time of transform + backbone.
    """

    features: OrderedDict
    images: object
    resized_size: tuple[int, int]
    seconds: float


def backbone_once(model, image: np.ndarray) -> BackbonePass:
    """Run the transform and the backbone on ``image`` (uint8 H x W x 3 RGB), timed."""
    module = model.module
    with torch.inference_mode():
        started = time.perf_counter()
        tensor = image_to_tensor(image, model.device)
        images, _ = module.transform([tensor])
        features = module.backbone(images.tensors)
        if isinstance(features, torch.Tensor):
            features = OrderedDict([("0", features)])
        synchronize(model.device)
        seconds = time.perf_counter() - started
    size = (int(images.image_sizes[0][0]), int(images.image_sizes[0][1]))
    return BackbonePass(features, images, size, seconds)


def rpn_seconds(model, image: np.ndarray) -> float:
    """Wall time of transform + backbone + RPN (anchors, head, decode, NMS) on ``image``."""
    module = model.module
    passed = backbone_once(model, image)
    with torch.inference_mode():
        started = time.perf_counter()
        module.rpn(passed.images, passed.features)
        synchronize(model.device)
        return passed.seconds + time.perf_counter() - started
