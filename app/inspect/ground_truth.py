"""The current image's identity and ground truth, read from the main window's dataset."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class GroundTruth:
    """boxes_image (float32[G, 4], xyxy original pixels), labels (int64[G]: model class
    indices), names (category names as annotated), masks (each object's ``Annotation.mask``:
    COCO polygons, RLE dict or None)."""

    boxes_image: np.ndarray
    labels: np.ndarray
    names: list[str]
    masks: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)

    def binary_masks(self, height: int, width: int) -> np.ndarray | None:
        """uint8[G, height, width] (1 inside), or None unless every object has a mask."""
        if len(self) == 0 or len(self.masks) != len(self) or any(m is None for m in self.masks):
            return None
        return np.stack([decode_mask(m, height, width) for m in self.masks]).astype(np.uint8)


def decode_mask(mask: list | dict, height: int, width: int) -> np.ndarray:
    """A COCO mask (polygons, uncompressed or compressed RLE) as uint8[height, width]."""
    from detector.data.masks import binary_mask

    decoded = binary_mask(mask, height, width)
    if decoded.shape != (height, width):
        raise ValueError(f"mask of size {decoded.shape} on a {height}x{width} image")
    return decoded


EMPTY = GroundTruth(np.zeros((0, 4), np.float32), np.zeros(0, np.int64), [])


class GroundTruthSource:
    def __init__(self, window) -> None:
        self._window = window

    def image_key(self) -> str | None:
        """Identifies the shown image for the trace cache (its file)."""
        path = self._window.current_path()
        return None if path is None else str(path)

    def current(self, categories: list[str]) -> GroundTruth:
        """Ground truth of the shown image, labels mapped to the model's ``categories``
        (by name, else by category id)."""
        dataset = self._window.dataset
        image_id = self._window.current_image_id
        if dataset is None or image_id is None:
            return EMPTY
        objects = [o for o in dataset.objects_in(image_id) if not o.iscrowd]
        names = [dataset.categories[o.category_id].name for o in objects]
        labels = [
            _model_label(name, o.category_id, categories)
            for name, o in zip(names, objects, strict=True)
        ]
        boxes = np.array([o.box for o in objects], np.float32).reshape(-1, 4)
        masks = [o.mask for o in objects]
        return GroundTruth(boxes, np.array(labels, np.int64), names, masks)


def _model_label(name: str, category_id: int, categories: list[str]) -> int:
    if name in categories:
        return categories.index(name)
    return category_id if 0 < category_id < len(categories) else 0
