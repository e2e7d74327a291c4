"""The lecture room: box counts, proposal recall, R-CNN crops, Fast R-CNN pooling, PR walk."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from torchvision.ops import roi_align, roi_pool

from detector.evaluation import evaluate, from_coco
from detector.geometry.boxes import decode_boxes
from detector.lecture import (
    NEGATIVE_LABEL,
    NEUTRAL_LABEL,
    POSITIVE_LABEL,
    box_count,
    box_count_by_sizes,
    compare_rcnn,
    crop_window,
    first_hit_ranks,
    label_proposals,
    needed_for,
    pool_from_trace,
    pr_walk,
    recall_at,
    recall_table,
    regression_targets,
    rpn_proposals,
    selective_search,
    sliding_windows,
    warp_crops,
    window_cost,
    window_pyramid,
)
from detector.models import load_model
from detector.trace import trace_image
from tests.detector.evaluation_synthetic import random_coco


def _scene(height: int = 120, width: int = 160) -> tuple[np.ndarray, np.ndarray]:
    """A noisy image with two solid rectangles; their boxes are the ground truth."""
    rng = np.random.default_rng(0)
    image = rng.integers(90, 140, (height, width, 3), dtype=np.uint8)
    image[20:60, 30:80] = (230, 40, 40)
    image[70:110, 100:150] = (40, 40, 230)
    return image, np.array([[30, 20, 80, 60], [100, 70, 150, 110]], np.float32)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return load_model("shapes", weights=None, device="cpu", min_size=128, max_size=160)


@pytest.fixture(scope="module")
def traced(model):
    image, gt = _scene()
    return image, gt, trace_image(model, image)


# ----- sliding windows ------------------------------------------------------------------
@pytest.mark.parametrize("height,width", [(1, 1), (2, 3), (4, 4), (5, 7), (9, 6)])
def test_box_count_equals_enumeration(height, width):
    enumerated = sum(
        1
        for x1 in range(width)
        for x2 in range(x1 + 1, width + 1)
        for y1 in range(height)
        for y2 in range(y1 + 1, height + 1)
    )
    assert box_count(height, width) == enumerated == box_count_by_sizes(height, width)


def test_box_count_of_the_lectures_800_by_600_image():
    # H(H+1)/2 * W(W+1)/2: 57.8 thousand million (the slide's "~58M" drops a factor 1000)
    assert box_count(600, 800) == 180_300 * 320_400 == 57_768_120_000


def test_sliding_windows_fit_and_step_by_the_stride():
    boxes = sliding_windows(50, 70, (20, 30), 10)
    assert boxes.shape == (4 * 5, 4)  # y in 0..30 (4), x in 0..40 (5)
    assert (boxes[:, 2] <= 70).all() and (boxes[:, 3] <= 50).all()
    assert set(np.diff(np.unique(boxes[:, 0]))) == {10.0}
    assert len(sliding_windows(10, 10, (20, 20), 5)) == 0
    counts = [scale.count for scale in window_pyramid(200, 300)]
    assert counts == sorted(counts, reverse=True)  # bigger windows, fewer positions


def test_window_cost_is_measured_and_extrapolated(model, traced):
    image, _, trace = traced
    windows = sliding_windows(*image.shape[:2], (32, 32), 8)
    cost = window_cost(model, trace, windows, limit=50)
    assert cost.windows == 50 and cost.seconds > 0
    assert cost.all_boxes == box_count(*image.shape[:2])
    assert cost.all_boxes_s == pytest.approx(cost.per_thousand_s * cost.all_boxes / 1000)


# ----- proposals and recall --------------------------------------------------------------
def _iou_direct(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def _recall_direct(boxes, gt, iou, top_n) -> float:
    found = [any(_iou_direct(g, p) >= iou for p in boxes[:top_n]) for g in gt]
    return sum(found) / len(gt)


@pytest.mark.parametrize("mode", ["fast", "quality"])
def test_selective_search_recall_equals_a_direct_computation(mode):
    image, gt = _scene()
    found = selective_search(image, mode)
    assert found.count > 10 and found.seconds > 0
    boxes = found.boxes_image
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= 160).all() and (boxes[:, 3] <= 120).all()
    table = recall_table(found, gt, ious=(0.5, 0.7), top_ns=(5, 20, 2000))
    for (iou, top_n), value in table.recall.items():
        assert value == pytest.approx(_recall_direct(boxes.tolist(), gt.tolist(), iou, top_n))
    assert table.recall[(0.5, 2000)] == 1.0  # two solid rectangles are easy blobs


def test_recall_ranks_and_proposals_needed():
    rng = np.random.default_rng(3)
    corners = rng.uniform(0, 80, (300, 2))
    boxes = np.concatenate([corners, corners + rng.uniform(5, 40, (300, 2))], 1)
    gt = boxes[[250, 40, 7]] + 0.5
    ranks = first_hit_ranks(boxes, gt, 0.7)
    for top_n in (1, 10, 100, 300):
        assert recall_at(ranks, top_n) == pytest.approx(
            _recall_direct(boxes.tolist(), gt.tolist(), 0.7, top_n)
        )
    needed = needed_for(ranks, 1.0)
    assert recall_at(ranks, needed) == 1.0 and recall_at(ranks, needed - 1) < 1.0
    assert needed_for(np.array([0, 0]), 0.5) is None


def test_rpn_proposals_are_the_traces_in_objectness_order(traced):
    _, _, trace = traced
    found = rpn_proposals(trace, top_n=20)
    assert np.array_equal(
        found.boxes_image, trace.input.boxes_to_image(trace.rpn.proposals_resized[:20])
    )
    more = rpn_proposals(trace, top_n=len(trace.rpn.proposals_resized) + 50)
    assert more.count >= len(trace.rpn.proposals_resized)


# ----- R-CNN -----------------------------------------------------------------------------
def test_rcnn_labels_follow_the_lectures_rule():
    gt = np.array([[0, 0, 10, 10]], np.float32)
    proposals = np.array(
        [[0, 0, 10, 10], [0, 0, 10, 18], [0, 0, 10, 30], [50, 50, 60, 60]], np.float32
    )  # IoU 1, 0.556, 0.333, 0
    labels = label_proposals(proposals, gt)
    assert labels.labels.tolist() == [POSITIVE_LABEL, POSITIVE_LABEL, NEUTRAL_LABEL, NEGATIVE_LABEL]
    assert labels.best_iou[2] == pytest.approx(1 / 3)
    assert label_proposals(proposals, np.zeros((0, 4))).labels.tolist() == [NEGATIVE_LABEL] * 4


def test_regression_targets_are_the_lectures_formulas():
    proposals = np.array([[10, 20, 50, 100], [0, 0, 8, 4]], np.float32)
    gt = np.array([[12, 18, 60, 90], [1, 1, 9, 9]], np.float32)
    targets = regression_targets(proposals, gt)
    px, py, pw, ph = 30.0, 60.0, 40.0, 80.0
    bx, by, bw, bh = 36.0, 54.0, 48.0, 72.0
    expected = [(bx - px) / pw, (by - py) / ph, np.log(bw / pw), np.log(bh / ph)]
    assert targets.t[0] == pytest.approx(expected, rel=1e-6)
    assert decode_boxes(targets.t, proposals) == pytest.approx(gt, abs=1e-4)
    assert "t_w = log(b_w / p_w) = log(48.0 / 40.0)" in targets.formulas(0)[2]


def test_rcnn_crops_are_the_proposals_pixels_warped_like_opencv():
    image, _ = _scene()
    boxes = np.array([[30.4, 20.2, 80.9, 60.0], [0, 0, 160, 120], [150.5, 5, 170, 9]], np.float32)
    crops = warp_crops(image, boxes)
    assert crops.shape == (3, 224, 224, 3) and crops.dtype == np.uint8
    for crop, box in zip(crops, boxes, strict=True):
        x1, y1, x2, y2 = crop_window(box, 120, 160)
        oracle = cv2.resize(image[y1:y2, x1:x2], (224, 224), interpolation=cv2.INTER_LINEAR)
        assert np.abs(crop.astype(int) - oracle.astype(int)).max() <= 1  # cv2's fixed point


def test_fast_rcnn_pooling_equals_torchvision_ops(model, traced):
    _, gt, trace = traced
    boxes = np.concatenate([trace.rpn.proposals_resized[:6], trace.input.boxes_to_resized(gt)])
    pooled = pool_from_trace(model, trace, boxes)
    roi = trace.roi
    for index, box in enumerate(boxes):
        name = pooled.levels[index]
        level = roi.pool_featmap_names.index(name)
        feature = torch.from_numpy(trace.feature_map(name))[None]
        rois = [torch.from_numpy(box[None].copy())]
        scale = roi.pool_scales[level]
        expected_pool = roi_pool(feature, rois, 7, scale)[0].numpy()
        expected_align = roi_align(feature, rois, 7, scale, roi.pool_sampling_ratio)[0].numpy()
        np.testing.assert_allclose(pooled.roi_pool[index], expected_pool, atol=1e-6)
        np.testing.assert_allclose(pooled.roi_align[index], expected_align, atol=1e-5)
    # the level choice is the box head's: its MultiScaleRoIAlign gives the same features
    features = {
        level.name: torch.from_numpy(trace.feature_map(level.name))[None]
        for level in trace.features
    }
    with torch.inference_mode():
        head = model.module.roi_heads.box_roi_pool(
            features, [torch.from_numpy(boxes)], [trace.input.resized_size]
        ).numpy()
    np.testing.assert_allclose(pooled.roi_align, head, atol=1e-5)


def test_rcnn_versus_fast_rcnn_timing(model, traced):
    image, _, trace = traced
    proposals = rpn_proposals(trace, top_n=40).boxes_image
    timing = compare_rcnn(model, image, proposals, measure=3)
    assert timing.crops == 3 and timing.proposals == len(proposals)
    assert timing.rcnn_per_crop_s > 0 and timing.backbone_s > 0
    assert timing.ratio == pytest.approx(timing.rcnn_s / timing.fast_s)


# ----- the PR walk -----------------------------------------------------------------------
def test_pr_walk_reproduces_the_lectures_fractions():
    gt = {
        "images": [{"id": 1, "width": 100, "height": 100}],
        "categories": [{"id": 1, "name": "pretzel"}],
        "annotations": [
            {
                "id": k + 1,
                "image_id": 1,
                "category_id": 1,
                "bbox": [30 * k, 0, 20, 20],
                "area": 400,
                "iscrowd": 0,
            }
            for k in range(3)
        ],
    }
    dt = [
        {"image_id": 1, "category_id": 1, "bbox": bbox, "score": score}
        for bbox, score in [
            ([0, 0, 20, 20], 0.99),
            ([80, 80, 10, 10], 0.95),
            ([30, 0, 20, 20], 0.9),
            ([0, 50, 20, 20], 0.5),
            ([60, 0, 20, 20], 0.1),
        ]
    ]
    walk = pr_walk(from_coco(gt, dt), 1)
    assert [s.status for s in walk.steps] == ["TP", "FP", "TP", "FP", "TP"]
    assert walk.steps[0].describe() == "Precision = 1/1 = 1.00, Recall = 1/3 = 0.33"
    assert walk.steps[3].describe() == "Precision = 2/4 = 0.50, Recall = 2/3 = 0.67"
    assert walk.steps[4].describe() == "Precision = 3/5 = 0.60, Recall = 3/3 = 1.00"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pr_walk_ap_equals_the_evaluation_engine(seed):
    gt, dt = random_coco(seed, num_images=12, extra_dt=30 if seed == 2 else 0)
    data = from_coco(gt, dt)
    result = evaluate(data, iou_type="bbox")
    for category in data.category_ids:
        walk = pr_walk(data, category, iou=0.5)
        curve = result.pr_curve(category, iou=0.5)
        assert walk.ap("coco") == pytest.approx(result.class_ap(category, iou=0.5), abs=1e-12)
        assert walk.ap("voc2010") == pytest.approx(curve.ap("voc2010"), abs=1e-12)
        assert walk.ap("voc2007") == pytest.approx(curve.ap("voc2007"), abs=1e-12)
        np.testing.assert_array_equal(walk.precision, curve.precision)
