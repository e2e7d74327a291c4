"""One image's ground truth as a model sees it: boxes, model labels, names and masks.

The Inspect stages (anchor labels, training view, Why?) compare a trace with this. Labels
are the model's class indices, mapped from the dataset's categories by
``detector.data.labelmap.model_label``; crowd regions are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from detector.data.dataset import Dataset
from detector.data.labelmap import model_label
from detector.data.masks import decode_mask, decode_mask_crop


@dataclass
class GroundTruth:
    """boxes_image (float32[G, 4], xyxy original pixels), labels (int64[G]: model class
    indices), names (category names as annotated), masks (each object's ``Annotation.mask``:
    COCO polygons, RLE dict or None)."""

    boxes_image: np.ndarray
    labels: np.ndarray
    names: list[str]
    masks: list = field(default_factory=list)
    mask_frame: tuple[int, int] | None = None  # (height, width) the masks are drawn in

    def __len__(self) -> int:
        return len(self.labels)

    def reduced(self, scale_x: float, scale_y: float, original: tuple[int, int]) -> GroundTruth:
        """The same objects on a reduced decode of an ``original`` (height, width) image:
        boxes divided by the scales; masks stay as annotated and are sampled on decode."""
        factors = np.array([scale_x, scale_y, scale_x, scale_y], np.float32)
        return GroundTruth(
            self.boxes_image / factors, self.labels, self.names, self.masks, tuple(original)
        )

    def binary_masks(self, height: int, width: int) -> np.ndarray | None:
        """uint8[G, height, width] (1 inside), or None unless every object has a mask."""
        if len(self) == 0 or len(self.masks) != len(self) or any(m is None for m in self.masks):
            return None
        if self.mask_frame is None or tuple(self.mask_frame) == (height, width):
            return np.stack([decode_mask(m, height, width) for m in self.masks]).astype(np.uint8)
        # a reduced frame: each mask's crop in the original, sampled at the pixel centres
        full_h, full_w = self.mask_frame
        ys = np.minimum(((np.arange(height) + 0.5) * full_h / height).astype(np.int64), full_h - 1)
        xs = np.minimum(((np.arange(width) + 0.5) * full_w / width).astype(np.int64), full_w - 1)
        out = np.zeros((len(self), height, width), np.uint8)
        for index, mask in enumerate(self.masks):
            crop = decode_mask_crop(mask, full_h, full_w)
            if crop is None:
                continue
            h, w = crop.mask.shape
            rows = (ys >= crop.y) & (ys < crop.y + h)
            cols = (xs >= crop.x) & (xs < crop.x + w)
            out[index][np.ix_(rows, cols)] = crop.mask[np.ix_(ys[rows] - crop.y, xs[cols] - crop.x)]
        return out


EMPTY = GroundTruth(np.zeros((0, 4), np.float32), np.zeros(0, np.int64), [])


def image_ground_truth(
    dataset: Dataset | None, image_id: int | None, model_categories: Sequence[str]
) -> GroundTruth:
    """The non-crowd objects of ``image_id``, labelled with ``model_categories`` indices."""
    if dataset is None or image_id is None:
        return EMPTY
    objects = [o for o in dataset.objects_in(image_id) if not o.iscrowd]
    names = [dataset.categories[o.category_id].name for o in objects]
    labels = [
        model_label(name, o.category_id, model_categories)
        for name, o in zip(names, objects, strict=True)
    ]
    boxes = np.array([o.box for o in objects], np.float32).reshape(-1, 4)
    masks = [o.mask for o in objects]
    return GroundTruth(boxes, np.array(labels, np.int64), names, masks)
