"""The mask and keypoint branches of the RoI head, recorded, and the final postprocess.

Both run on the final detection boxes (resized frame), exactly as ``RoIHeads.forward`` does
in eval mode; ``GeneralizedRCNNTransform.postprocess`` then maps boxes and keypoints to the
original image, so the output equals ``model.module([image])``. Masks are not pasted here
(torchvision pastes all N into image-sized arrays): the detections keep the head's
probabilities and ``Detections.mask(i)`` pastes one, equal to torchvision's paste.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torchvision.models.detection.roi_heads import keypointrcnn_inference, maskrcnn_inference

from detector.trace.roi import pool_levels
from detector.trace.rpn import to_numpy


@dataclass
class MaskStage:
    """Mask R-CNN's branch for D detections.

    pool_level (int64[D]): the FPN level each detection box was RoIAligned from.
    mask_probs (float32[D, M, M]): sigmoid of the mask logits of the detection's class
    (M = 28 in torchvision), over the detection box (the same array as
    ``Trace.detections.mask_probs``; ``Trace.detections.mask(i)`` pastes one into the
    original image).
    """

    pool_level: np.ndarray
    mask_probs: np.ndarray


@dataclass
class KeypointStage:
    """Keypoint R-CNN's branch for D detections and K keypoints.

    pool_level (int64[D]): the FPN level each detection box was pooled from.
    heatmaps (float32[D, K, S, S]): keypoint logits over the detection box (S = 56).
    keypoints_resized (float32[D, K, 3]): (x, y, 1) per keypoint in the resized frame.
    keypoints_image (float32[D, K, 3]): the same in original-image pixels.
    keypoint_scores (float32[D, K]): the heatmap value at each keypoint (bicubic upsampled).
    """

    pool_level: np.ndarray
    heatmaps: np.ndarray
    keypoints_resized: np.ndarray
    keypoints_image: np.ndarray
    keypoint_scores: np.ndarray


def run_mask_branch(roi_heads, features: dict, result: dict, image_sizes) -> np.ndarray | None:
    """Add ``masks`` (resized-frame probabilities [D, 1, M, M]) to ``result``; returns the
    pool levels, or None for a model without a mask head."""
    if not roi_heads.has_mask():
        return None
    boxes = result["boxes"]
    mask_features = roi_heads.mask_roi_pool(features, [boxes], image_sizes)
    mask_features = roi_heads.mask_head(mask_features)
    mask_logits = roi_heads.mask_predictor(mask_features)
    result["masks"] = maskrcnn_inference(mask_logits, [result["labels"]])[0]
    return to_numpy(pool_levels(roi_heads.mask_roi_pool, boxes))


def run_keypoint_branch(
    roi_heads, features: dict, result: dict, image_sizes
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Add ``keypoints`` and ``keypoints_scores`` to ``result``; returns (pool levels,
    heatmaps, keypoints in the resized frame), or None without a keypoint head."""
    if (
        roi_heads.keypoint_roi_pool is None
        or roi_heads.keypoint_head is None
        or roi_heads.keypoint_predictor is None
    ):
        return None
    boxes = result["boxes"]
    keypoint_features = roi_heads.keypoint_roi_pool(features, [boxes], image_sizes)
    keypoint_features = roi_heads.keypoint_head(keypoint_features)
    keypoint_logits = roi_heads.keypoint_predictor(keypoint_features)
    keypoints, scores = keypointrcnn_inference(keypoint_logits, [boxes])
    result["keypoints"], result["keypoints_scores"] = keypoints[0], scores[0]
    levels = to_numpy(pool_levels(roi_heads.keypoint_roi_pool, boxes))
    return levels, to_numpy(keypoint_logits), to_numpy(keypoints[0])


def finish(
    module, features: dict, result: dict, image_sizes, original_size: tuple[int, int]
) -> tuple[dict, MaskStage | None, KeypointStage | None]:
    """Mask and keypoint branches, then ``transform.postprocess`` (boxes, keypoints); returns
    the model's output dict for the image (``masks``: unpasted probabilities) and the
    recorded branch stages."""
    roi_heads = module.roi_heads
    mask_levels = run_mask_branch(roi_heads, features, result, image_sizes)
    keypoint_info = run_keypoint_branch(roi_heads, features, result, image_sizes)
    masks = result.pop("masks", None)
    output = module.transform.postprocess([result], image_sizes, [original_size])[0]
    masks_stage = keypoint_stage = None
    if masks is not None:
        output["masks"] = masks  # probabilities [D, 1, M, M], pasted on demand
        masks_stage = MaskStage(mask_levels, to_numpy(masks[:, 0]))
    if keypoint_info is not None:
        levels, heatmaps, keypoints_resized = keypoint_info
        keypoint_stage = KeypointStage(
            levels,
            heatmaps,
            keypoints_resized,
            to_numpy(output["keypoints"]),
            to_numpy(output["keypoints_scores"]),
        )
    return output, masks_stage, keypoint_stage
