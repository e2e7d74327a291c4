"""Detections as numpy (never torch) so they cross into app/ and files freely."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.data.masks import encode_mask_rle


@dataclass(kw_only=True)
class Detections:
    """One image's detections, in original-image pixels.

    boxes (float32[N, 4]) in [x1, y1, x2, y2]; labels (int64[N]) index the model's
    categories; scores (float32[N]) descending as the model returns them; masks
    (float32[N, H, W] probabilities in 0-1) for mask models; keypoints (float32[N, K, 3]:
    x, y, visibility) and keypoint_scores (float32[N, K]) for keypoint models.
    """

    boxes: np.ndarray
    labels: np.ndarray
    scores: np.ndarray
    masks: np.ndarray | None = None
    keypoints: np.ndarray | None = None
    keypoint_scores: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    @classmethod
    def from_torch(cls, output: dict) -> Detections:
        """Convert one element of ``model.module([...])``'s output."""

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
            masks=masks,
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
            masks=pick(self.masks),
            keypoints=pick(self.keypoints),
            keypoint_scores=pick(self.keypoint_scores),
        )


MASK_THRESHOLD = 0.5  # a mask probability above this is inside (torchvision's paste_masks)


def mask_rles(detections: Detections) -> list[dict] | None:
    """COCO RLE (str counts) of each mask at ``MASK_THRESHOLD``, or None without masks.

    What an accepted prediction keeps and what a written detection's ``segmentation`` is.
    """
    if detections.masks is None:
        return None
    return [encode_mask_rle(mask > MASK_THRESHOLD) for mask in detections.masks]
