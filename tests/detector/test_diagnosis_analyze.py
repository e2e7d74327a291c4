"""COCO analyze breakdown equals pycocotools' COCOeval run as mmdetection's analyze runs it."""

from __future__ import annotations

import contextlib
import copy
import io
import json

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from detector.diagnosis.analyze import TYPES, coco_analyze
from detector.evaluation import from_coco
from tests.detector.evaluation_synthetic import random_coco


def _coco(dataset: dict, tmp_path, name: str) -> COCO:
    path = tmp_path / name
    path.write_text(json.dumps(dataset))
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(path))


def _eval(gt: COCO, dt: COCO, thresholds: list[float]) -> np.ndarray:
    with contextlib.redirect_stdout(io.StringIO()):
        ev = COCOeval(gt, dt, "bbox")
        ev.params.imgIds = gt.getImgIds()
        ev.params.iouThrs = thresholds
        ev.params.maxDets = [100]
        ev.evaluate()
        ev.accumulate()
    return ev.eval["precision"]


def _oracle(gt_dict: dict, dt_list: list[dict], tmp_path) -> np.ndarray:
    """mmdetection's coco_error_analysis.analyze_results, figures only."""
    coco_gt = _coco(gt_dict, tmp_path, "gt.json")
    with contextlib.redirect_stdout(io.StringIO()):
        coco_dt = coco_gt.loadRes(copy.deepcopy(dt_list))
    ps = _eval(coco_gt, coco_dt, [0.75, 0.5, 0.1])
    ps = np.vstack([ps, np.zeros((4, *ps.shape[1:]))])
    for k, cat_id in enumerate(coco_gt.getCatIds()):
        name = coco_gt.loadCats(cat_id)[0]
        dt = copy.deepcopy(coco_dt)
        dt.dataset["annotations"] = [
            a for a in dt.dataset["annotations"] if a["category_id"] == cat_id
        ]
        dt.createIndex()
        siblings = set(coco_gt.getCatIds(supNms=[name["supercategory"]]))
        for slot, group in ((3, siblings), (4, set(coco_gt.getCatIds()))):
            gt = copy.deepcopy(coco_gt)
            for ann in gt.dataset["annotations"]:
                if ann["category_id"] in group and ann["category_id"] != cat_id:
                    ann["ignore"], ann["iscrowd"], ann["category_id"] = 1, 1, cat_id
            gt.createIndex()
            ps[slot, :, k] = _eval(gt, copy.deepcopy(dt), [0.1])[0, :, k]
        ps[5, :, k][ps[4, :, k] > 0] = 1
        ps[6, :, k] = 1.0
    return ps[..., 0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stacked_curves_equal_pycocotools(seed, tmp_path):
    gt, dt = random_coco(seed, num_images=15, num_classes=5, extra_dt=110 * (seed == 1))
    supers = ["animal", "animal", "vehicle", "vehicle", "other"]
    for cat in gt["categories"]:
        cat["supercategory"] = supers[(cat["id"] - 1) % len(supers)]
    expected = _oracle(gt, dt, tmp_path)
    result = coco_analyze(
        from_coco(gt, dt), {c["id"]: c["supercategory"] for c in gt["categories"]}
    )
    assert result.precision.shape == expected.shape
    np.testing.assert_allclose(result.precision, expected, rtol=0, atol=1e-12)
    # the table is the mean over categories with ground truth; curves stack upwards
    table = result.areas()
    assert list(table) == list(TYPES)
    values = [table[name] for name in TYPES]
    assert values == sorted(values) and values[-1] == 1.0


def test_without_supercategories_sim_equals_loc():
    gt, dt = random_coco(4, num_images=10)
    result = coco_analyze(from_coco(gt, dt))
    assert np.array_equal(result.precision[3], result.precision[2])
