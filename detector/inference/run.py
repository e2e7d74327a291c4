"""Run a DetModel on numpy images: the conversion every caller shares.

``forward`` is ``GeneralizedRCNN.forward`` in eval mode with two memory savings that keep
its numbers identical: the input is normalised in place and resized one image at a time
(one colour plane at a time above 4 MP: a 12 MP photo costs a third of one float copy, not
three copies), and masks are returned as the head's
M x M probabilities instead of being pasted N at a time into image-sized arrays
(``Detections.mask(i)`` pastes one on demand, equal to torchvision's paste).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch
from torchvision.models.detection.image_list import ImageList

from detector.inference.detections import Detections
from detector.io.images import LoadedImage
from detector.models import DetModel


def image_to_tensor(image: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """H x W x 3 uint8 RGB -> FloatTensor[3, H, W] in 0-1 (torchvision's input contract)."""
    tensor = torch.from_numpy(np.ascontiguousarray(image)).to(device)
    return tensor.permute(2, 0, 1).float().div_(255.0)


PLANE_AT_A_TIME_PIXELS = 4_000_000  # above this, normalise and resize one plane at a time


def prepare(transform, images: list[np.ndarray], device) -> tuple[ImageList, list[tuple]]:
    """``transform(tensors)`` (GeneralizedRCNNTransform, eval) for uint8 images, one image
    at a time and normalised in place: equal to ``transform([image_to_tensor(i)...])``.
    Returns the batched ImageList and the original (height, width) of each image.

    Images above ``PLANE_AT_A_TIME_PIXELS`` are converted, normalised and resized one colour
    plane at a time: a 24 MP photo then costs 96 MB of floats instead of 288 MB. Each
    element goes through the same operations; the results equal torchvision's whenever
    torch runs on 2+ threads (the default). At one thread torchvision's own bilinear resize
    of a 3-channel image rounds differently from its multi-thread result (its output
    depends on the thread count), and the plane-at-a-time result matches the latter.
    """
    resized, originals = [], []
    for image in images:
        originals.append((int(image.shape[0]), int(image.shape[1])))
        if image.shape[0] * image.shape[1] > PLANE_AT_A_TIME_PIXELS:
            resized.append(_planes_resized(transform, image, device))
            continue
        tensor = image_to_tensor(image, device)
        mean = torch.as_tensor(transform.image_mean, dtype=tensor.dtype, device=tensor.device)
        std = torch.as_tensor(transform.image_std, dtype=tensor.dtype, device=tensor.device)
        tensor.sub_(mean[:, None, None]).div_(std[:, None, None])  # = transform.normalize
        small, _ = transform.resize(tensor, None)
        del tensor
        resized.append(small)
    sizes = [(int(t.shape[-2]), int(t.shape[-1])) for t in resized]
    batched = transform.batch_images(resized, size_divisible=transform.size_divisible)
    return ImageList(batched, sizes), originals


def _planes_resized(transform, image: np.ndarray, device) -> torch.Tensor:
    """``transform.resize(transform.normalize(image_to_tensor(image)))``, one plane at a time."""
    mean = torch.as_tensor(transform.image_mean, dtype=torch.float32)
    std = torch.as_tensor(transform.image_std, dtype=torch.float32)
    planes = []
    for channel in range(image.shape[2]):
        plane = torch.from_numpy(image[..., channel]).to(device).float().div_(255.0)
        plane.sub_(mean[channel].to(plane.device)).div_(std[channel].to(plane.device))
        small, _ = transform.resize(plane[None], None)
        del plane
        planes.append(small)
    return torch.cat(planes)


def forward(module: torch.nn.Module, images: list[np.ndarray], device) -> list[dict]:
    """``module(tensors)`` in eval mode, except ``masks`` stay the head's probabilities
    (float[N, 1, M, M] over each box); boxes and keypoints are in original pixels."""
    image_list, originals = prepare(module.transform, images, device)
    features = module.backbone(image_list.tensors)
    if isinstance(features, torch.Tensor):
        features = OrderedDict([("0", features)])
    proposals, _ = module.rpn(image_list, features)
    results, _ = module.roi_heads(features, proposals, image_list.image_sizes)
    masks = [result.pop("masks", None) for result in results]
    results = module.transform.postprocess(results, image_list.image_sizes, originals)
    for result, mask in zip(results, masks, strict=True):
        if mask is not None:
            result["masks"] = mask
    return results


@torch.inference_mode()
def detect(model: DetModel, images: list[np.ndarray]) -> list[Detections]:
    """``model.module`` on a batch of images; outputs in original-image pixels, masks as
    probabilities over boxes (``Detections.mask(i)`` pastes one)."""
    if not images:
        return []
    module = model.module
    if not all(hasattr(module, name) for name in ("transform", "backbone", "rpn", "roi_heads")):
        # not a GeneralizedRCNN: any module with torchvision's call contract (masks, if
        # any, come pasted: [N, 1, H, W] probabilities are not what Detections keeps)
        outputs = module([image_to_tensor(image, model.device) for image in images])
        return [Detections.from_torch(o, i.shape[:2]) for o, i in zip(outputs, images, strict=True)]
    outputs = forward(module, images, model.device)
    return [
        Detections.from_torch(output, image.shape[:2])
        for output, image in zip(outputs, images, strict=True)
    ]


def detect_loaded(model: DetModel, images: list[LoadedImage]) -> list[Detections]:
    """``detect`` on decodes within the pixel budget (``detector.io.images.load_image``),
    reported in the original images' pixels: a reduced decode's detections are scaled up
    (their masks sampled up from the frame the model saw, see ``Detections.scaled``)."""
    found = detect(model, [image.pixels for image in images])
    return [
        d.scaled(i.scale_x, i.scale_y, (i.height, i.width)) if i.reduced else d
        for d, i in zip(found, images, strict=True)
    ]
