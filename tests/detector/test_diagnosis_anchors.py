"""Proposal recall, anchor shapes and the k-means anchor suggestion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from detector import load_model, read_image, trace_image
from detector.diagnosis.anchors import (
    PROPOSAL_COUNTS,
    anchor_report,
    anchor_shapes,
    centered_iou,
    kmeans_shapes,
    proposal_best_iou,
)
from detector.geometry.boxes import box_iou

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples" / "shapes"


@pytest.fixture(scope="module")
def random_model_trace():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = load_model(
        "fasterrcnn_resnet50_fpn", weights=None, num_classes=3, min_size=128, max_size=160
    )
    return model, trace_image(model, read_image(SAMPLES / "shapes_7_00000.jpg"))


def test_anchor_shapes_are_the_generators(random_model_trace):
    model, trace = random_model_trace
    shapes = anchor_shapes(model.module)
    anchors = trace.anchors.anchors_resized
    real = np.unique(np.round(anchors[:, 2:] - anchors[:, :2]), axis=0)
    # torchvision rounds each base anchor's corners: widths agree to within a pixel
    assert len(real) == len(shapes)
    assert np.abs(np.sort(real, axis=0) - np.sort(shapes, axis=0)).max() <= 1.0


def test_proposal_best_iou_is_the_best_of_the_top_n(random_model_trace):
    _, trace = random_model_trace
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 100, (6, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(10, 60, (6, 2))], 1).astype(np.float32)
    best = proposal_best_iou(trace, boxes)
    proposals = trace.rpn.proposals_resized
    for j, count in enumerate(PROPOSAL_COUNTS):
        expected = box_iou(boxes, proposals[:count]).max(axis=1)
        np.testing.assert_array_equal(best[:, j], expected)
    assert (np.diff(best, axis=1) >= 0).all()


def test_kmeans_finds_three_clusters_and_raises_coverage():
    rng = np.random.default_rng(1)
    centres = np.array([[10.0, 40.0], [60.0, 60.0], [200.0, 50.0]])
    wh = np.concatenate([c * rng.uniform(0.95, 1.05, (50, 2)) for c in centres])
    found = kmeans_shapes(wh, 3)
    np.testing.assert_allclose(found, centres, rtol=0.05)
    square = np.array([[32.0, 32.0], [64.0, 64.0], [128.0, 128.0]])  # poor fit for these
    report = anchor_report(wh, np.full(len(wh), 0.5), square, k=3)
    assert report.suggested_coverage == 1.0 > report.current_coverage
    assert report.suggested_mean_iou > report.current_mean_iou
    assert report.best_anchor_iou_below == {"0.7": 1.0, "0.3": 0.0}
    assert centered_iou(centres, centres).diagonal().tolist() == [1.0, 1.0, 1.0]
