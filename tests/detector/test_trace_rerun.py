"""Trace.rerun equals a model rebuilt with the new thresholds; memory and error handling."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.ops import roi_align

from detector.errors import DetScopeError, ModelError
from detector.geometry.roi import rebuild_roi_align
from detector.inference.run import image_to_tensor
from detector.models import load_model
from detector.trace import TraceError, trace_image

BASE = dict(
    min_size=96,
    max_size=128,
    box_score_thresh=0.001,
    box_detections_per_img=20,
    rpn_post_nms_top_n_test=200,
)
IMAGE = np.random.default_rng(7).integers(0, 256, (120, 170, 3), dtype=np.uint8)

RERUNS = [
    (
        dict(score_thresh=0.003, nms_thresh=0.3, detections_per_img=7),
        dict(box_score_thresh=0.003, box_nms_thresh=0.3, box_detections_per_img=7),
    ),
    (dict(rpn_nms_thresh=0.5), dict(rpn_nms_thresh=0.5)),
    (
        dict(rpn_post_nms_top_n=50, score_thresh=0.0),
        dict(rpn_post_nms_top_n_test=50, box_score_thresh=0.0),
    ),
]


def output_of(name: str, settings: dict) -> dict:
    model = load_model(name, weights=None, device="cpu", seed=3, **settings)
    with torch.inference_mode():
        return model.module([image_to_tensor(IMAGE)])[0]


@pytest.mark.parametrize("name", ["shapes", "fasterrcnn_mobilenet_v3_large_320_fpn"])
def test_rerun_equals_rebuilt_model(name):
    trace = trace_image(load_model(name, weights=None, device="cpu", seed=3, **BASE), IMAGE)
    for change, builder_change in RERUNS:
        rerun = trace.rerun(**change)
        expected = output_of(name, {**BASE, **builder_change})
        found_all = rerun.detections
        for key in expected:
            if key == "masks":  # pasted one at a time
                found = np.stack([found_all.mask_values(i) for i in range(len(found_all))])
                found = found.reshape(-1, 1, *expected[key].shape[2:])
            else:
                found = getattr(found_all, {"keypoints_scores": "keypoint_scores"}.get(key, key))
            np.testing.assert_array_equal(found, expected[key].numpy(), err_msg=f"{change}")
        assert rerun.settings != trace.settings
    assert len(trace.rerun(score_thresh=1.0).detections) == 0


def test_drop_features_and_memory():
    model = load_model("fasterrcnn_mobilenet_v3_large_320_fpn", weights=None, device="cpu", **BASE)
    trace = trace_image(model, IMAGE)
    before = trace.nbytes()
    name = trace.features[0].name
    assert trace.feature_map(name).shape == trace.features[0].shape
    trace.drop_features()
    assert trace.nbytes() < before and not trace.features_kept
    assert len(trace.rerun(score_thresh=0.01).detections) <= len(trace.detections)
    with pytest.raises(TraceError, match="dropped"):
        trace.rerun(rpn_nms_thresh=0.5)
    with pytest.raises(TraceError, match="dropped"):
        trace.feature_map(name)


def test_roi_align_geometry_rebuilds_the_pooled_features():
    model = load_model("fasterrcnn_mobilenet_v3_large_320_fpn", weights=None, device="cpu", **BASE)
    trace = trace_image(model, IMAGE)
    roi = trace.roi
    for proposal in (0, len(roi.proposals_resized) - 1):
        geometry = trace.roi_align_geometry(proposal)
        name = roi.pool_featmap_names[roi.proposal_pool_level[proposal]]
        features = torch.from_numpy(trace.feature_map(name))[None]
        box = torch.from_numpy(roi.proposals_resized[proposal : proposal + 1])
        expected = roi_align(
            features, [box], roi.pool_output_size, geometry.spatial_scale, roi.pool_sampling_ratio
        )[0]
        rebuilt = rebuild_roi_align(trace.feature_map(name), geometry)
        np.testing.assert_allclose(rebuilt, expected.numpy(), atol=1e-5)


def test_bad_input_is_refused_clearly():
    model = load_model("fasterrcnn_mobilenet_v3_large_320_fpn", weights=None, device="cpu", **BASE)
    with pytest.raises(TraceError, match="RGB"):
        trace_image(model, np.zeros((10, 10), dtype=np.uint8))
    with pytest.raises(TraceError, match="uint8"):
        trace_image(model, np.zeros((10, 10, 3), dtype=np.float32))
    trace = trace_image(model, IMAGE)
    with pytest.raises(DetScopeError, match="between 0 and 1"):
        trace.rerun(nms_thresh=1.5)
    model.module.train()
    try:
        with pytest.raises(ModelError, match="training"):
            trace_image(model, IMAGE)
    finally:
        model.module.eval()
