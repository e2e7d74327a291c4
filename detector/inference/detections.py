"""Detections as numpy (never torch) so they cross into app/ and files freely.

Masks are kept as the mask head gives them (``mask_probs``: M x M probabilities over each
box) and pasted into the image one at a time on demand (``mask``, ``mask_crop``,
``mask_rle``), so a photo with 100 detections never holds 100 image-sized masks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.inference.masks import (
    MaskCrop,
    crop_rle,
    full_mask,
    paste_mask_crop,
    upscale_crop,
    upscaled_area,
    upscaled_rle,
)


@dataclass(kw_only=True)
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
    mask_source: MaskSource | None = None  # set by ``scaled``: where the masks are pasted

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
        if self.mask_source is not None:
            return upscale_crop(self._source_crop(index), *self.mask_source.scale, height, width)
        return paste_mask_crop(self.mask_probs[index], self.boxes[index], height, width)

    def _source_crop(self, index: int) -> MaskCrop:
        source = self.mask_source
        return paste_mask_crop(self.mask_probs[index], source.boxes[index], *source.image_size)

    def mask(self, index: int) -> np.ndarray:
        """bool[H, W]: detection ``index``'s pasted mask above 0.5 (one image-sized array)."""
        return full_mask(self.mask_crop(index), *self.image_size)

    def mask_values(self, index: int) -> np.ndarray:
        """float32[H, W]: exactly ``paste_masks_in_image(...)[index, 0]``."""
        return full_mask(self.mask_crop(index), *self.image_size, binary=False)

    def mask_rle(self, index: int) -> dict:
        """COCO compressed RLE (str ``counts``) of ``mask(index)``, made from the crop."""
        if self.mask_source is not None:
            crop = self._source_crop(index)
            return upscaled_rle(crop, *self.mask_source.scale, *self.image_size)
        return crop_rle(self.mask_crop(index), *self.image_size)

    def mask_area(self, index: int) -> int:
        """Pixels of ``mask(index)``."""
        if self.mask_source is not None:
            crop = self._source_crop(index)
            return upscaled_area(crop, *self.mask_source.scale, *self.image_size)
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
            mask_source=None if self.mask_source is None else self.mask_source.select(keep),
        )

    def scaled(self, factor_x: float, factor_y: float, image_size: tuple[int, int]) -> Detections:
        """The same detections in a frame ``factor`` times larger (boxes and keypoints
        multiplied): detections on a reduced decode reported in the original image's
        pixels. ``image_size``: (height, width) of that frame. Masks are still pasted in
        the frame the model saw (as torchvision would there) and sampled up (nearest), so
        a mask on a 20000 x 20000 photo never costs a box-sized float array."""
        factors = np.array([factor_x, factor_y, factor_x, factor_y], np.float32)
        source = self.mask_source
        if self.mask_probs is not None and self.image_size is not None:
            if source is None:
                source = MaskSource(self.boxes, self.image_size, (factor_x, factor_y))
            else:
                sx, sy = source.scale
                source = MaskSource(source.boxes, source.image_size, (sx * factor_x, sy * factor_y))
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
            mask_source=source,
        )


@dataclass(frozen=True)
class MaskSource:
    """Where ``scaled`` detections' masks are pasted: the ``boxes`` (float32[N, 4]) and
    ``image_size`` (height, width) of the frame the model saw, and ``scale`` (x, y): image
    pixels per pixel of that frame."""

    boxes: np.ndarray
    image_size: tuple[int, int]
    scale: tuple[float, float]

    def select(self, keep: np.ndarray) -> MaskSource:
        return MaskSource(self.boxes[keep], self.image_size, self.scale)


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


MASK_THRESHOLD = 0.5  # a mask probability above this is inside (torchvision's paste_masks)


def mask_rles(detections: Detections) -> list[dict] | None:
    """COCO RLE (str counts) of each mask at ``MASK_THRESHOLD``, or None without masks.

    What an accepted prediction keeps and what a written detection's ``segmentation`` is;
    each is encoded from its box crop, never from an image-sized mask.
    """
    if not detections.has_masks:
        return None
    return [detections.mask_rle(index) for index in range(len(detections))]
