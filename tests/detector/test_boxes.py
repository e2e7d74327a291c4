"""detector.geometry.boxes against torchvision's BoxCoder and box_iou."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.models.detection._utils import BoxCoder
from torchvision.ops import box_iou as tv_box_iou
from torchvision.ops import clip_boxes_to_image

from detector.geometry import boxes as B


def random_boxes(rng: np.random.Generator, count: int, span: float = 200.0) -> np.ndarray:
    xy = rng.uniform(0, span, (count, 2))
    wh = rng.uniform(1, span / 2, (count, 2))
    return np.concatenate([xy, xy + wh], axis=1).astype(np.float32)


@pytest.mark.parametrize("weights", [B.RPN_WEIGHTS, B.ROI_WEIGHTS])
def test_encode_matches_box_coder(weights):
    rng = np.random.default_rng(1)
    targets, proposals = random_boxes(rng, 300), random_boxes(rng, 300)
    ours = B.encode_boxes(targets, proposals, weights)
    theirs = BoxCoder(weights).encode_single(torch.tensor(targets), torch.tensor(proposals))
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("weights", [B.RPN_WEIGHTS, B.ROI_WEIGHTS])
def test_decode_matches_box_coder_including_clamp(weights):
    rng = np.random.default_rng(2)
    anchors = random_boxes(rng, 200)
    deltas = rng.normal(0, 2, (200, 4 * 3)).astype(np.float32)
    deltas[:5, 2] = 50.0  # exp would overflow without torchvision's clamp
    ours = B.decode_boxes(deltas, anchors, weights)
    coder = BoxCoder(weights)
    theirs = coder.decode_single(torch.tensor(deltas), torch.tensor(anchors)).reshape(200, 3, 4)
    assert np.isfinite(ours).all()
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-5, atol=1e-3)
    single = B.decode_boxes(deltas[:, :4], anchors, weights)
    np.testing.assert_allclose(single, ours[:, 0], rtol=0, atol=0)


def test_decode_inverts_encode_as_the_lecture_writes():
    rng = np.random.default_rng(3)
    proposals, targets = random_boxes(rng, 50), random_boxes(rng, 50)
    transform = B.encode_boxes(targets, proposals)
    unclamped = (transform[:, 2:] < B.BBOX_XFORM_CLIP).all(axis=1)  # beyond it decode clamps
    assert unclamped.sum() > 40
    decoded = B.decode_boxes(transform, proposals)
    np.testing.assert_allclose(decoded[unclamped], targets[unclamped], atol=1e-3)
    p = B.xyxy_to_cxcywh(proposals)
    b = B.xyxy_to_cxcywh(targets)
    np.testing.assert_allclose(transform[:, 0], (b[:, 0] - p[:, 0]) / p[:, 2], rtol=1e-4)
    np.testing.assert_allclose(transform[:, 3], np.log(b[:, 3] / p[:, 3]), rtol=1e-4, atol=1e-6)


def test_iou_matches_torchvision_and_lecture_examples():
    rng = np.random.default_rng(4)
    a, b = random_boxes(rng, 40), random_boxes(rng, 30)
    np.testing.assert_allclose(
        B.box_iou(a, b), tv_box_iou(torch.tensor(a), torch.tensor(b)), rtol=1e-6, atol=1e-7
    )
    square = np.array([[0, 0, 10, 10]], dtype=np.float32)
    half = np.array([[5, 0, 15, 10]], dtype=np.float32)
    assert B.box_iou(square, half)[0, 0] == pytest.approx(1 / 3)
    assert B.box_iou(square, square)[0, 0] == 1.0


def test_formats_clip_and_scale():
    rng = np.random.default_rng(5)
    boxes = random_boxes(rng, 20, span=300)
    np.testing.assert_allclose(B.cxcywh_to_xyxy(B.xyxy_to_cxcywh(boxes)), boxes, atol=1e-4)
    clipped = B.clip_boxes(boxes, 120, 200)
    np.testing.assert_array_equal(clipped, clip_boxes_to_image(torch.tensor(boxes), (120, 200)))
    np.testing.assert_allclose(B.scale_boxes(boxes, 2.0, 0.5)[:, 1], boxes[:, 1] * 0.5)
    with pytest.raises(ValueError, match="shape"):
        B.box_area(np.zeros((3, 5)))


def test_pair_iou_is_box_iou_of_one_pair():
    from detector.geometry.boxes import box_iou, pair_iou

    a, b = (0.0, 0.0, 10.0, 10.0), (5.0, 0.0, 15.0, 10.0)
    assert pair_iou(a, b) == pytest.approx(1 / 3)
    assert pair_iou(a, b) == float(box_iou(np.array([a]), np.array([b]))[0, 0])
    assert pair_iou((1, 1, 1, 1), (1, 1, 1, 1)) == 0.0  # empty boxes: no nan
