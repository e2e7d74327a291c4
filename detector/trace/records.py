"""The first stages of a Trace: input geometry, backbone features and anchors.

Every array is numpy. Frames are named: ``*_image`` is original-image pixels, ``*_resized``
is the model's input pixels after ``model.transform`` resizes the image (the frame in which
anchors, proposals and RoI boxes live). Padding only adds rows/columns at the bottom/right,
so the resized frame is also the padded batch's frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(kw_only=True)
class TraceSettings:
    """The post-processing thresholds a Trace was computed with (``Trace.rerun`` changes them).

    score_thresh: box-head class probability must be > this. nms_thresh: per-class NMS IoU.
    detections_per_img: at most this many detections. rpn_nms_thresh: per-level RPN NMS IoU.
    rpn_post_nms_top_n: proposals kept after RPN NMS.
    """

    score_thresh: float
    nms_thresh: float
    detections_per_img: int
    rpn_nms_thresh: float
    rpn_post_nms_top_n: int

    @classmethod
    def from_module(cls, module) -> TraceSettings:
        """The thresholds a torchvision ``GeneralizedRCNN`` uses in eval mode."""
        roi_heads, rpn = module.roi_heads, module.rpn
        return cls(
            score_thresh=float(roi_heads.score_thresh),
            nms_thresh=float(roi_heads.nms_thresh),
            detections_per_img=int(roi_heads.detections_per_img),
            rpn_nms_thresh=float(rpn.nms_thresh),
            rpn_post_nms_top_n=int(rpn._post_nms_top_n["testing"]),
        )


@dataclass(kw_only=True)
class InputStage:
    """Image geometry through ``model.transform`` (sizes are (height, width)).

    original_size: the image as given. resized_size: after the transform's resize (the
    frame of every ``*_resized`` array). padded_size: the batch tensor after padding to a
    multiple of ``size_divisible``. resize_scale: the factor torchvision asked interpolate
    for, ``min(min_size / short side, max_size / long side)``. scale_x, scale_y: the factors
    actually applied, resized / original per axis. image_mean, image_std: normalization.
    """

    original_size: tuple[int, int]
    resized_size: tuple[int, int]
    padded_size: tuple[int, int]
    resize_scale: float
    scale_x: float
    scale_y: float
    image_mean: tuple[float, ...]
    image_std: tuple[float, ...]

    def boxes_to_image(self, boxes_resized: np.ndarray) -> np.ndarray:
        """float32[N, 4] resized-model pixels -> original-image pixels (as torchvision's
        ``resize_boxes``: float32 ratio original / resized per axis)."""
        ratio_x = np.float32(self.original_size[1]) / np.float32(self.resized_size[1])
        ratio_y = np.float32(self.original_size[0]) / np.float32(self.resized_size[0])
        factors = np.array([ratio_x, ratio_y, ratio_x, ratio_y], dtype=np.float32)
        return np.asarray(boxes_resized, dtype=np.float32).reshape(-1, 4) * factors

    def boxes_to_resized(self, boxes_image: np.ndarray) -> np.ndarray:
        """float32[N, 4] original-image pixels -> resized-model pixels."""
        ratio_x = np.float32(self.resized_size[1]) / np.float32(self.original_size[1])
        ratio_y = np.float32(self.resized_size[0]) / np.float32(self.original_size[0])
        factors = np.array([ratio_x, ratio_y, ratio_x, ratio_y], dtype=np.float32)
        return np.asarray(boxes_image, dtype=np.float32).reshape(-1, 4) * factors


@dataclass
class FeatureLevel:
    """One backbone (FPN) output map; the tensor itself stays in the Trace's private cache
    (``Trace.feature_map(name)`` returns it as numpy while features are kept).

    name: the backbone's key ("0".."3", "pool"). shape: (channels, height, width).
    stride: (y, x) = padded size // grid size, as ``AnchorGenerator`` computes it.
    """

    name: str
    shape: tuple[int, int, int]
    stride: tuple[int, int]


@dataclass(kw_only=True)
class AnchorLevel:
    """The anchors of one feature level: K boxes centred on every grid cell.

    name: the feature level. grid_size: (height, width). stride: (y, x) resized pixels
    between cell centres. cell_anchors (float32[K, 4]): the K zero-centred boxes of one cell
    (xyxy). sizes (float32[K]), aspect_ratios (float32[K]): the size and h/w ratio of each k.
    first: flat index of this level's first anchor. count: H * W * K.
    """

    name: str
    grid_size: tuple[int, int]
    stride: tuple[int, int]
    cell_anchors: np.ndarray
    sizes: np.ndarray
    aspect_ratios: np.ndarray
    first: int
    count: int

    @property
    def num_per_location(self) -> int:
        return int(self.cell_anchors.shape[0])


@dataclass
class AnchorStage:
    """Every anchor of the image in the RPN's flat order (level, then y, then x, then k).

    levels: per-level description. anchors_resized (float32[A, 4]): all anchors, xyxy.
    locations (int32[A, 4]): (level, y, x, k) of every anchor (the index map).
    """

    levels: list[AnchorLevel]
    anchors_resized: np.ndarray
    locations: np.ndarray

    def flat_index(self, level: int, y: int, x: int, k: int) -> int:
        """The flat anchor index of (level, y, x, k) (inverse of ``locations``)."""
        info = self.levels[level]
        return info.first + (y * info.grid_size[1] + x) * info.num_per_location + k


def anchor_stage(
    anchor_generator,
    anchors: np.ndarray,
    grid_sizes: list[tuple[int, int]],
    strides: list[tuple[int, int]],
    names: list[str],
) -> AnchorStage:
    """Describe the anchors ``anchor_generator`` produced for these feature grids."""
    levels, locations, first = [], [], 0
    for level, (grid, stride, name) in enumerate(zip(grid_sizes, strides, names, strict=True)):
        cell = anchor_generator.cell_anchors[level].detach().cpu().float().numpy()
        sizes = np.asarray(anchor_generator.sizes[level], dtype=np.float32)
        ratios = np.asarray(anchor_generator.aspect_ratios[level], dtype=np.float32)
        # generate_anchors lays them out ratio-major: k = ratio_index * len(sizes) + size_index
        per_k_sizes = np.tile(sizes, len(ratios))
        per_k_ratios = np.repeat(ratios, len(sizes))
        count = grid[0] * grid[1] * cell.shape[0]
        levels.append(
            AnchorLevel(
                name=name,
                grid_size=grid,
                stride=stride,
                cell_anchors=cell,
                sizes=per_k_sizes,
                aspect_ratios=per_k_ratios,
                first=first,
                count=count,
            )
        )
        ys, xs, ks = np.meshgrid(
            np.arange(grid[0]), np.arange(grid[1]), np.arange(cell.shape[0]), indexing="ij"
        )
        level_ids = np.full(ys.size, level)
        locations.append(np.stack([level_ids, ys.ravel(), xs.ravel(), ks.ravel()], axis=1))
        first += count
    index_map = np.concatenate(locations).astype(np.int32) if locations else np.zeros((0, 4))
    return AnchorStage(levels, anchors, index_map.astype(np.int32))
