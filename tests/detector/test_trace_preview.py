"""The numpy box-head preview equals ``Trace.rerun`` (property-tested) and Why? answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.models import load_model
from detector.trace import trace_image
from detector.trace.preview import from_trace, postprocess_preview
from detector.trace.why import explain_detection, explain_missed, missed_ground_truth

IMAGE = np.random.default_rng(11).integers(0, 256, (110, 150, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def trace():
    torch.set_num_threads(1)
    model = load_model(
        "fasterrcnn_resnet50_fpn",
        weights=None,
        num_classes=4,
        device="cpu",
        seed=5,
        min_size=96,
        max_size=128,
        box_score_thresh=0.001,
        rpn_post_nms_top_n_test=150,
    )
    return trace_image(model, IMAGE)


def test_from_trace_is_the_traces_own_postprocessing(trace):
    post = from_trace(trace)
    np.testing.assert_array_equal(
        trace.input.boxes_to_image(post.boxes_resized), trace.detections.boxes
    )
    np.testing.assert_array_equal(post.labels, trace.detections.labels)
    np.testing.assert_array_equal(post.scores, trace.detections.scores)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    score=st.floats(0.0, 0.45, allow_nan=False),
    nms=st.floats(0.05, 0.95, allow_nan=False),
    per_image=st.integers(1, 60),
)
def test_preview_equals_rerun_at_random_thresholds(trace, score, nms, per_image):
    post = postprocess_preview(trace.roi, score, nms, per_image)
    rerun = trace.rerun(score_thresh=score, nms_thresh=nms, detections_per_img=per_image)
    np.testing.assert_array_equal(post.labels, rerun.detections.labels)
    np.testing.assert_array_equal(post.scores, rerun.detections.scores)
    np.testing.assert_array_equal(
        trace.input.boxes_to_image(post.boxes_resized), rerun.detections.boxes
    )
    np.testing.assert_array_equal(post.nms_input, rerun.roi.nms_input)
    np.testing.assert_array_equal(post.nms.keep, rerun.roi.nms_keep)


def test_why_follows_a_detection_to_its_proposal_and_anchor(trace):
    assert len(trace.detections) > 0
    answer = explain_detection(trace, 0)
    assert answer.proposal == trace.provenance.proposal[0]
    assert answer.anchor == trace.provenance.anchor[0]
    assert answer.label == trace.detections.labels[0]


def test_why_a_box_far_from_every_anchor_is_lost_at_the_anchors(trace):
    tiny = np.array([1.0, 1.0, 1.5, 1.5], np.float32)  # no anchor overlaps 0.25 px^2
    assert explain_missed(trace, tiny, 1).stage == "anchors"
    found = trace.provenance.boxes_resized[:1]
    label = trace.provenance.label[:1]
    assert not missed_ground_truth(trace, found, label).any()
    assert missed_ground_truth(trace, tiny[None], np.array([1])).all()
