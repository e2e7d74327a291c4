"""What the Evaluate dock shows (detector.evaluation.view), computed without Qt."""

from __future__ import annotations

import numpy as np
import pytest

from detector.evaluation import evaluate, from_coco
from detector.evaluation.view import ViewSettings, best_precision_from, build_view
from tests.detector.evaluation_synthetic import random_coco


@pytest.fixture(scope="module")
def result():
    gt, dt = random_coco(3, num_classes=4)
    return evaluate(from_coco(gt, dt))


def test_coco_rows_equal_the_results_ap_and_mean(result):
    view = build_view(result, ViewSettings(iou_mode="0.50:0.95"))
    for row in view.rows:
        assert row.ap == result.class_ap(row.category_id, None)
        assert row.ap50 == result.class_ap(row.category_id, 0.5)
        assert row.tp + row.fn == row.num_gt
    valid = [row.ap for row in view.rows if row.ap >= 0]
    assert view.mean_ap == pytest.approx(np.mean(valid))
    assert view.rows[-1].ap == -1  # the last class has no ground truth
    assert view.num_images == len(result.image_ids)


def test_voc_definitions_and_operating_threshold(result):
    loose = build_view(result, ViewSettings(definition="voc2010", score_threshold=0.0))
    strict = build_view(result, ViewSettings(definition="voc2010", score_threshold=0.99))
    for loose_row, strict_row in zip(loose.rows, strict.rows, strict=True):
        assert loose_row.ap == result.pr_curve(loose_row.category_id, 0.5).ap("voc2010")
        assert strict_row.tp <= loose_row.tp and strict_row.fp <= loose_row.fp
    errors = sum(fp for fp, _ in loose.image_errors.values())
    assert errors == sum(row.fp for row in loose.rows)


def test_best_precision_is_the_envelope():
    recall = np.array([0.2, 0.4, 0.6])
    precision = np.array([1.0, 0.5, 0.75])
    grid = np.array([0.0, 0.3, 0.5, 0.7])
    np.testing.assert_array_equal(best_precision_from(recall, precision, grid), [1, 0.75, 0.75, 0])
