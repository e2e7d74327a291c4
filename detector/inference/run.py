"""Run a DetModel on numpy images: the conversion every caller shares."""

from __future__ import annotations

import numpy as np
import torch

from detector.inference.detections import Detections
from detector.models import DetModel


def image_to_tensor(image: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """H x W x 3 uint8 RGB -> FloatTensor[3, H, W] in 0-1 (torchvision's input contract)."""
    tensor = torch.from_numpy(np.ascontiguousarray(image)).to(device)
    return tensor.permute(2, 0, 1).float().div_(255.0)


@torch.inference_mode()
def detect(model: DetModel, images: list[np.ndarray]) -> list[Detections]:
    """``model.module`` on a batch of images; outputs in original-image pixels."""
    if not images:
        return []
    tensors = [image_to_tensor(image, model.device) for image in images]
    outputs = model.module(tensors)
    return [Detections.from_torch(output) for output in outputs]
