"""The recording NMS keeps exactly what torchvision keeps, in the same order."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.geometry.boxes import box_iou
from detector.geometry.nms import batched_nms_trace, nms_trace, uses_loop_path


def random_case(seed: int, count: int, classes: int = 4, levels: int = 5):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, (count, 2))
    wh = rng.uniform(1, 40, (count, 2))
    boxes = np.concatenate([xy, xy + wh], axis=1).astype(np.float32)
    scores = (rng.integers(0, levels, count) / levels).astype(np.float32)  # many equal scores
    idxs = rng.integers(0, classes, count)
    return boxes, scores, idxs


def reference(boxes, scores, idxs, threshold) -> np.ndarray:
    return torchvision.ops.batched_nms(
        torch.tensor(boxes), torch.tensor(scores), torch.tensor(idxs), threshold
    ).numpy()


@pytest.mark.parametrize("count", [0, 1, 7, 300, 1000, 1001, 2500])
@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
def test_batched_trace_equals_torchvision_on_both_paths(count, threshold):
    boxes, scores, idxs = random_case(count, count)
    trace = batched_nms_trace(boxes, scores, idxs, threshold)
    assert trace.path == ("loop" if count * 4 > 4000 else "offset")
    np.testing.assert_array_equal(trace.keep, reference(boxes, scores, idxs, threshold))


@pytest.mark.parametrize("count", [5, 400, 3000])
def test_single_trace_equals_torchvision_nms(count):
    boxes, scores, _ = random_case(count + 1, count)
    trace = nms_trace(boxes, scores, 0.5)
    expected = torchvision.ops.nms(torch.tensor(boxes), torch.tensor(scores), 0.5).numpy()
    np.testing.assert_array_equal(trace.keep, expected)


def test_identical_boxes_and_equal_scores_keep_the_first():
    boxes = np.array([[0, 0, 10, 10]] * 4 + [[50, 50, 60, 60]] * 2, dtype=np.float32)
    scores = np.array([0.5, 0.5, 0.9, 0.5, 0.2, 0.2], dtype=np.float32)
    trace = nms_trace(boxes, scores, 0.5)
    np.testing.assert_array_equal(trace.keep, [2, 4])
    np.testing.assert_array_equal(trace.suppressed_by, [2, 2, -1, 2, -1, 4])
    np.testing.assert_allclose(trace.suppress_iou[[0, 1, 3, 5]], 1.0)


def test_iou_exactly_at_threshold_is_not_suppressed():
    # IoU of these two is exactly 0.5 in float32: strict '>' keeps both
    boxes = np.array([[0, 0, 30, 10], [10, 0, 40, 10], [0, 0, 30, 10.5]], dtype=np.float32)
    scores = np.array([0.9, 0.8, 0.1], dtype=np.float32)
    assert box_iou(boxes[:1], boxes[1:2])[0, 0] == 0.5
    trace = nms_trace(boxes, scores, 0.5)
    expected = torchvision.ops.nms(torch.tensor(boxes), torch.tensor(scores), 0.5).numpy()
    np.testing.assert_array_equal(trace.keep, expected)
    assert 1 in trace.keep.tolist()


def test_steps_record_who_suppressed_whom():
    boxes, scores, idxs = random_case(11, 200)
    trace = batched_nms_trace(boxes, scores, idxs, 0.4)
    steps = trace.steps
    assert [step.kept for step in steps] == trace.keep.tolist()
    suppressed = np.concatenate([step.suppressed for step in steps])
    assert sorted(suppressed.tolist() + trace.keep.tolist()) == list(range(200))
    for step in steps:
        assert (idxs[step.suppressed] == idxs[step.kept]).all()
        assert (step.ious > 0.4).all()
        assert (scores[step.suppressed] <= scores[step.kept]).all()
        if len(step.suppressed):
            true_iou = box_iou(boxes[[step.kept]], boxes[step.suppressed])[0]
            np.testing.assert_allclose(step.ious, true_iou, rtol=1e-4)


def test_loop_path_switch_follows_device_and_size():
    assert not uses_loop_path(torch.zeros(1000, 4))
    assert uses_loop_path(torch.zeros(1001, 4))


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="boxes"):
        nms_trace(np.zeros((3, 3)), np.zeros(3), 0.5)
    with pytest.raises(ValueError, match="scores"):
        nms_trace(np.zeros((3, 4)), np.zeros(2), 0.5)


coordinate = st.integers(0, 40).map(float)  # small integer grid: many ties and exact IoUs


@st.composite
def nms_inputs(draw):
    count = draw(st.integers(0, 60))
    corners = draw(
        st.lists(
            st.tuples(coordinate, coordinate, st.integers(1, 20), st.integers(1, 20)),
            min_size=count,
            max_size=count,
        )
    )
    boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in corners], dtype=np.float32)
    boxes = boxes.reshape(-1, 4)
    scores = np.array(
        draw(st.lists(st.sampled_from([0.1, 0.5, 0.9, 0.25]), min_size=count, max_size=count)),
        dtype=np.float32,
    )
    idxs = np.array(
        draw(st.lists(st.integers(0, 2), min_size=count, max_size=count)), dtype=np.int64
    )
    threshold = draw(st.sampled_from([0.0, 0.25, 1 / 3, 0.5, 0.7, 1.0]))
    return boxes, scores, idxs, threshold


@settings(max_examples=150, deadline=None)
@given(nms_inputs())
def test_property_keep_equals_torchvision(case):
    boxes, scores, idxs, threshold = case
    trace = batched_nms_trace(boxes, scores, idxs, threshold)
    np.testing.assert_array_equal(trace.keep, reference(boxes, scores, idxs, threshold))
    plain = nms_trace(boxes, scores, threshold)
    expected = torchvision.ops.nms(torch.tensor(boxes), torch.tensor(scores), threshold)
    np.testing.assert_array_equal(plain.keep, expected.numpy())


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_property_loop_path_large_inputs(seed):
    boxes, scores, idxs = random_case(seed, 1200, classes=6)
    trace = batched_nms_trace(boxes, scores, idxs, 0.5)
    assert trace.path == "loop"
    np.testing.assert_array_equal(trace.keep, reference(boxes, scores, idxs, 0.5))
