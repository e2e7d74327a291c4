"""Crowd and VOC-difficult ground truth are ignored regions in from_coco (the CLI's path)."""

from __future__ import annotations

import pytest

from detector.evaluation import evaluate, from_coco


def _coco(flags: dict) -> tuple[dict, list]:
    boxes = [[0, 0, 10, 10], [20, 0, 10, 10], [40, 0, 10, 10]]
    gt = {
        "images": [{"id": 1, "file_name": "a.png", "width": 100, "height": 100}],
        "categories": [{"id": 1, "name": "pretzel"}],
        "annotations": [
            {"id": i + 1, "image_id": 1, "category_id": 1, "bbox": box, "area": 100.0,
             "iscrowd": 0, **(flags if i == 2 else {})}
            for i, box in enumerate(boxes)
        ],
    }  # fmt: skip
    detections = [
        {"image_id": 1, "category_id": 1, "bbox": box, "score": score}
        for box, score in zip(boxes, [0.9, 0.8, 0.7], strict=True)
    ]
    return gt, detections


@pytest.mark.parametrize("flags", [{"difficult": 1}, {"difficult": "1"}, {"iscrowd": 1}])
def test_flagged_ground_truth_is_neither_a_positive_nor_a_false_positive(flags):
    curve = evaluate(from_coco(*_coco(flags))).pr_curve("pretzel", iou=0.5)
    assert curve.num_positives == 2
    assert curve.true_positive.tolist() == [True, True]  # the third detection is ignored


def test_difficult_zero_counts_as_usual():
    curve = evaluate(from_coco(*_coco({"difficult": 0}))).pr_curve("pretzel", iou=0.5)
    assert curve.num_positives == 3
