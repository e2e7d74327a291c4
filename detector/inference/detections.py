"""Detections as numpy (never torch) so they cross into app/ and files freely.

Masks are kept as the mask head gives them (``mask_probs``: M x M probabilities over each
box) and pasted into the image one at a time on demand (``mask``, ``mask_crop``,
``mask_rle``), so a photo with 100 detections never holds 100 image-sized masks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.inference.masks import MaskCrop, crop_rle, full_mask, paste_mask_crop


@dataclass
class Detections:
    """One image's detections, in original-image pixels.

    boxes (float32[N, 4]) in [x1, y1, x2, y2]; labels (int64[N]) index the model's
    categories; scores (float32[N]) descending as the model returns them.
    mask_probs (float32[N, M, M], M = 28 in torchvision) for mask models: each detection's
    mask probabilities over its box; image_size (height, width) of the original image, the
    frame the masks are pasted into. keypoints (float32[N, K, 3]: x, y, visibility) and
    keypoint_scores (float32[N, K]) for keypoint models.
    """

    boxes: np.ndarray
    labels: np.ndarray
    scores: np.ndarray
    mask_probs: np.ndarray | None = None
    image_size: tuple[int, int] | None = None
    keypoints: np.ndarray | None = None
    keypoint_scores: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    @property
    def has_masks(self) -> bool:
        return self.mask_probs is not None

    @property
    def masks(self) -> PastedMasks | None:
        """The pasted masks as a lazy sequence (``masks[i]``: float32[H, W], one at a time;
        ``shape`` (N, H, W)), or None for models without masks. Kept for the public API;
        prefer ``mask(i)`` / ``mask_crop(i)`` / ``mask_rle(i)``."""
        return None if self.mask_probs is None else PastedMasks(self)

    def mask_crop(self, index: int) -> MaskCrop:
        """Detection ``index``'s pasted mask over its expanded box (float values 0-1);
        equal to torchvision's ``paste_masks_in_image(...)[index, 0]`` there, 0 elsewhere."""
        if self.mask_probs is None or self.image_size is None:
            raise ValueError("these detections have no masks")
        height, width = self.image_size
        return paste_mask_crop(self.mask_probs[index], self.boxes[index], height, width)

    def mask(self, index: int) -> np.ndarray:
        """bool[H, W]: detection ``index``'s pasted mask above 0.5 (one image-sized array)."""
        return full_mask(self.mask_crop(index), *self.image_size)

    def mask_values(self, index: int) -> np.ndarray:
        """float32[H, W]: exactly ``paste_masks_in_image(...)[index, 0]``."""
        return full_mask(self.mask_crop(index), *self.image_size, binary=False)

    def mask_rle(self, index: int) -> dict:
        """COCO compressed RLE (str ``counts``) of ``mask(index)``, made from the crop."""
        return crop_rle(self.mask_crop(index), *self.image_size)

    def mask_area(self, index: int) -> int:
        """Pixels of ``mask(index)``."""
        return int(self.mask_crop(index).binary.sum())

    @classmethod
    def from_torch(cls, output: dict, image_size: tuple[int, int] | None = None) -> Detections:
        """Convert one element of the model's output. ``masks`` must be the head's
        probabilities ([N, 1, M, M], before pasting) and ``image_size`` the original
        (height, width); see ``detector.inference.run.forward``."""

        def grab(key: str) -> np.ndarray | None:
            value = output.get(key)
            return None if value is None else value.detach().cpu().numpy()

        masks = grab("masks")
        if masks is not None and masks.ndim == 4:
            masks = masks[:, 0]
        return cls(
            boxes=grab("boxes"),
            labels=grab("labels"),
            scores=grab("scores"),
            mask_probs=masks,
            image_size=None if image_size is None else (int(image_size[0]), int(image_size[1])),
            keypoints=grab("keypoints"),
            keypoint_scores=grab("keypoints_scores"),
        )

    def select(self, keep: np.ndarray) -> Detections:
        """The detections at ``keep`` (a boolean mask or index array)."""

        def pick(value: np.ndarray | None) -> np.ndarray | None:
            return None if value is None else value[keep]

        return Detections(
            boxes=self.boxes[keep],
            labels=self.labels[keep],
            scores=self.scores[keep],
            mask_probs=pick(self.mask_probs),
            image_size=self.image_size,
            keypoints=pick(self.keypoints),
            keypoint_scores=pick(self.keypoint_scores),
        )

    def scaled(self, factor_x: float, factor_y: float, image_size: tuple[int, int]) -> Detections:
        """The same detections in a frame ``factor`` times larger (boxes and keypoints
        multiplied; masks follow the boxes): detections on a reduced decode reported in
        the original image's pixels. ``image_size``: (height, width) of that frame."""
        factors = np.array([factor_x, factor_y, factor_x, factor_y], np.float32)
        keypoints = None
        if self.keypoints is not None:
            keypoints = self.keypoints.copy()
            keypoints[..., 0] *= factor_x
            keypoints[..., 1] *= factor_y
        return Detections(
            boxes=(self.boxes * factors).astype(np.float32),
            labels=self.labels,
            scores=self.scores,
            mask_probs=self.mask_probs,
            image_size=image_size,
            keypoints=keypoints,
            keypoint_scores=self.keypoint_scores,
        )


class PastedMasks:
    """``Detections.masks``: indexable like the old float32[N, H, W] array, but each mask
    is pasted when indexed and nothing is kept (``np.stack`` it only for small images)."""

    def __init__(self, detections: Detections) -> None:
        self._detections = detections

    @property
    def shape(self) -> tuple[int, int, int]:
        return (len(self._detections), *self._detections.image_size)

    def __len__(self) -> int:
        return len(self._detections)

    def __getitem__(self, index: int) -> np.ndarray:
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return self._detections.mask_values(index % len(self))

    def __iter__(self):
        return (self[i] for i in range(len(self)))


def detections_to_coco(detections: Detections, image_id: int, first_id: int) -> list[dict]:
    """COCO annotation dicts (with ``score``; RLE ``segmentation`` for masks at 0.5)."""
    annotations = []
    for index in range(len(detections)):
        x1, y1, x2, y2 = (float(v) for v in detections.boxes[index])
        entry = {
            "id": first_id + index,
            "image_id": image_id,
            "category_id": int(detections.labels[index]),
            "bbox": [round(x1, 2), round(y1, 2), round(x2 - x1, 2), round(y2 - y1, 2)],
            "area": round((x2 - x1) * (y2 - y1), 2),
            "score": round(float(detections.scores[index]), 5),
            "iscrowd": 0,
        }
        if detections.has_masks:
            crop = detections.mask_crop(index)
            entry["segmentation"] = crop_rle(crop, *detections.image_size)
            entry["area"] = int(crop.binary.sum())
        if detections.keypoints is not None:
            points = detections.keypoints[index]
            entry["keypoints"] = [round(float(v), 2) for v in points.reshape(-1)]
            entry["num_keypoints"] = int((points[:, 2] > 0).sum())
        annotations.append(entry)
    return annotations
