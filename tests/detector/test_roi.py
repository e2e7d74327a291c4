"""RoIAlign / RoIPool geometry rebuilds torchvision's ops from sample points and weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.ops import roi_align, roi_pool

from detector.geometry.roi import (
    rebuild_roi_align,
    rebuild_roi_pool,
    roi_align_geometry,
    roi_pool_geometry,
)

FEATURE_H, FEATURE_W = 13, 17


def sample_boxes() -> np.ndarray:
    rng = np.random.default_rng(0)
    xy = rng.uniform(-20, 60, (25, 2))
    wh = rng.uniform(0.2, 50, (25, 2))
    boxes = np.concatenate([xy, xy + wh], axis=1)
    edges = [[0, 0, 68, 52], [60, 45, 80, 60], [-10, -10, 2, 3], [10.5, 10.5, 10.6, 10.6]]
    return np.concatenate([boxes, edges]).astype(np.float32)


@pytest.mark.parametrize("aligned", [False, True])
@pytest.mark.parametrize("sampling_ratio", [2, 0, 1])
@pytest.mark.parametrize("scale", [0.25, 0.125])
def test_roi_align_rebuilt_from_samples_matches_op(aligned, sampling_ratio, scale):
    features = torch.randn(1, 3, FEATURE_H, FEATURE_W, generator=torch.Generator().manual_seed(1))
    boxes = sample_boxes()
    rois = torch.cat([torch.zeros(len(boxes), 1), torch.tensor(boxes)], dim=1)
    expected = roi_align(features, rois, (7, 5), scale, sampling_ratio, aligned).numpy()
    for index, box in enumerate(boxes):
        geometry = roi_align_geometry(
            box, scale, (7, 5), sampling_ratio, aligned, FEATURE_H, FEATURE_W
        )
        rebuilt = rebuild_roi_align(features[0].numpy(), geometry)
        np.testing.assert_allclose(rebuilt, expected[index], atol=1e-5, err_msg=f"box {box}")


def test_roi_align_geometry_is_the_lecture_bilinear_formula():
    geometry = roi_align_geometry(np.array([4, 4, 36, 28]), 0.25, 2, 2, False, 20, 20)
    assert geometry.sample_points_feature.shape == (2, 2, 2, 2, 2)
    assert geometry.count == 4
    np.testing.assert_allclose(geometry.weights.sum(axis=-1), 1.0, rtol=1e-6)
    x, y = geometry.sample_points_feature[0, 0, 0, 0]
    rows, cols = geometry.neighbours[0, 0, 0, 0].T
    expected = np.maximum(0, 1 - np.abs(x - cols)) * np.maximum(0, 1 - np.abs(y - rows))
    np.testing.assert_allclose(geometry.weights[0, 0, 0, 0], expected, rtol=1e-6)
    np.testing.assert_allclose(geometry.feature_to_resized(geometry.box_feature), [4, 4, 36, 28])


@pytest.mark.parametrize("scale", [1.0, 0.25])
def test_roi_pool_bins_rebuild_op(scale):
    features = torch.randn(1, 2, FEATURE_H, FEATURE_W, generator=torch.Generator().manual_seed(2))
    boxes = sample_boxes()
    rois = torch.cat([torch.zeros(len(boxes), 1), torch.tensor(boxes)], dim=1)
    expected = roi_pool(features, rois, (3, 4), scale).numpy()
    for index, box in enumerate(boxes):
        geometry = roi_pool_geometry(box, scale, (3, 4), FEATURE_H, FEATURE_W)
        np.testing.assert_array_equal(
            rebuild_roi_pool(features[0].numpy(), geometry), expected[index], err_msg=f"box {box}"
        )
