"""Evaluation equals pycocotools' COCOeval; VOC AP on hand-worked cases; incremental; API."""

from __future__ import annotations

import contextlib
import copy
import io

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from detector.evaluation import (
    EvaluationError,
    ImageInstances,
    IncrementalEvaluator,
    evaluate,
    from_arrays,
    from_coco,
    voc_ap,
)
from tests.detector.evaluation_synthetic import random_coco


def reference(gt: dict, dt: list[dict], iou_type: str = "bbox") -> tuple[COCOeval, list[str]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        coco = COCO()
        coco.dataset = copy.deepcopy(gt)
        coco.createIndex()
        ev = COCOeval(coco, coco.loadRes(copy.deepcopy(dt)), iou_type)
        ev.evaluate()
        ev.accumulate()
    with contextlib.redirect_stdout(out := io.StringIO()):
        ev.summarize()
    return ev, out.getvalue().splitlines()


def assert_same(ev: COCOeval, result) -> None:
    np.testing.assert_allclose(result.stats, ev.stats, rtol=0, atol=1e-9)
    np.testing.assert_allclose(result.precision, ev.eval["precision"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.recall, ev.eval["recall"], rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(12))
def test_bbox_equals_pycocotools(seed):
    gt, dt = random_coco(
        seed,
        num_classes=4 + seed % 3,
        extra_dt=130 if seed % 4 == 0 else 0,
        crowd_rate=0.15,
        empty_rate=0.15,
    )
    ev, lines = reference(gt, dt)
    result = evaluate(from_coco(copy.deepcopy(gt), copy.deepcopy(dt)))
    assert_same(ev, result)
    assert result.summary_lines() == lines
    assert (result.precision[:, :, -1] == -1).all()  # the last class has no ground truth


def test_bbox_many_ties_and_duplicates():
    gt, dt = random_coco(99, tie_rate=1.0, dt_per_image=30)
    for det in dt:
        det["score"] = round(det["score"] * 3) / 3  # only four distinct scores
    dt += copy.deepcopy(dt[:40])
    ev, _ = reference(gt, dt)
    assert_same(ev, evaluate(from_coco(copy.deepcopy(gt), copy.deepcopy(dt))))


def _mask_set(seed: int) -> tuple[dict, list[dict]]:
    """Segm set: polygon and RLE ground truths, RLE detections, crowds, empty images."""
    from pycocotools import mask as mask_utils

    rng = np.random.default_rng(seed)
    gt, dt = random_coco(seed, num_images=8, image_size=64, gt_per_image=3, dt_per_image=5)
    for ann in gt["annotations"] + dt:
        x, y, w, h = ann["bbox"]
        x2, y2 = min(x + max(w, 2), 63), min(y + max(h, 2), 63)
        if "score" not in ann and rng.random() < 0.5 and not ann["iscrowd"]:
            ann["segmentation"] = [[x, y, x2, y + 1, x2, y2, x + 1, y2]]
            continue
        mask = np.zeros((64, 64), np.uint8)
        mask[int(y) : int(y2) + 1, int(x) : int(x2) + 1] = 1
        mask[int(y) : int(y) + 2, int(x) : int(x) + 3] = 0
        rle = mask_utils.encode(np.asfortranarray(mask))
        ann["segmentation"] = {"size": rle["size"], "counts": rle["counts"].decode("ascii")}
    return gt, dt


@pytest.mark.parametrize("seed", range(3))
def test_segm_equals_pycocotools(seed):
    gt, dt = _mask_set(seed)
    ev, lines = reference(gt, dt, "segm")
    result = evaluate(from_coco(copy.deepcopy(gt), copy.deepcopy(dt), "segm"), "segm")
    assert_same(ev, result)
    assert result.summary_lines() == lines


def test_segm_results_without_boxes_use_mask_area():
    gt, dt = _mask_set(7)
    for det in dt:
        del det["bbox"]
    ev, _ = reference(gt, dt, "segm")
    assert_same(ev, evaluate(from_coco(copy.deepcopy(gt), copy.deepcopy(dt), "segm"), "segm"))


def pretzels(difficult_extra: bool = False):
    """The lecture's example: 3 pretzels, 5 detections ranked TP FP TP FP TP at IoU 0.5."""
    gt_boxes = [[0, 0, 10, 10], [20, 0, 10, 10], [40, 0, 10, 10]]
    dt_boxes = [[0, 0, 10, 10], [60, 0, 10, 10], [20, 0, 10, 10], [80, 0, 10, 10], [40, 0, 10, 10]]
    ignore = [False, False, False]
    if difficult_extra:
        gt_boxes.append([100, 0, 10, 10])
        dt_boxes.append([100, 0, 10, 10])
        ignore.append(True)
    gt = ImageInstances(boxes=gt_boxes, labels=[1] * len(gt_boxes), ignore=ignore)
    scores = [0.9, 0.8, 0.7, 0.6, 0.5] + ([0.95] if difficult_extra else [])
    dt = ImageInstances(boxes=dt_boxes, labels=[1] * len(dt_boxes), scores=scores)
    return evaluate(from_arrays({1: gt}, {1: dt}, {1: "pretzel"}))


def test_voc_ap_on_the_lecture_example():
    curve = pretzels().pr_curve("pretzel", iou=0.5)
    np.testing.assert_allclose(curve.precision, [1, 1 / 2, 2 / 3, 2 / 4, 3 / 5])
    np.testing.assert_allclose(curve.recall, [1 / 3, 1 / 3, 2 / 3, 2 / 3, 1])
    assert curve.true_positive.tolist() == [True, False, True, False, True]
    assert curve.ap("voc2010") == pytest.approx((1 + 2 / 3 + 3 / 5) / 3, abs=1e-12)
    assert curve.ap("voc2007") == pytest.approx((4 * 1 + 3 * 2 / 3 + 4 * 3 / 5) / 11, abs=1e-12)
    assert curve.ap("coco") == pytest.approx((34 + 33 * 2 / 3 + 34 * 0.6) / 101, abs=1e-12)
    assert curve.scores.tolist() == [0.9, 0.8, 0.7, 0.6, 0.5]


def test_voc_difficult_is_ignored():
    curve = pretzels(difficult_extra=True).pr_curve("pretzel", iou=0.5)
    assert curve.num_positives == 3  # the difficult pretzel is not a positive
    assert len(curve.scores) == 5  # its detection is neither TP nor FP
    assert curve.ap("voc2010") == pytest.approx((1 + 2 / 3 + 3 / 5) / 3, abs=1e-12)


def test_voc_ap_definition_edge_cases():
    assert voc_ap(np.array([]), np.array([])) == 0.0
    assert voc_ap(np.array([0.5, 1.0]), np.array([1.0, 1.0])) == 1.0
    assert voc_ap(np.array([0.5]), np.array([1.0]), eleven_point=True) == pytest.approx(6 / 11)


def test_incremental_equals_full_evaluation():
    gt, dt = random_coco(21, num_images=15, crowd_rate=0.2)
    evaluator = IncrementalEvaluator(from_coco(gt, dt))
    rng = np.random.default_rng(0)
    image_ids = evaluator.data.image_ids
    for step, image_id in enumerate(rng.choice(image_ids, 6, replace=False)):
        old = evaluator.data.detections(int(image_id))
        n = len(old) + 3
        boxes = rng.uniform(0, 150, (n, 4))
        new_dt = ImageInstances(boxes=boxes, labels=rng.integers(1, 4, n), scores=rng.random(n))
        new_gt = ImageInstances(boxes=boxes[:2] + 1, labels=[1, 2], iscrowd=[False, step % 2 == 0])
        evaluator.update_image(int(image_id), dt=new_dt, gt=new_gt if step % 3 else None)
        incremental = evaluator.result()
        full = evaluate(copy.deepcopy(evaluator.data))
        np.testing.assert_array_equal(incremental.precision, full.precision)
        np.testing.assert_array_equal(incremental.recall, full.recall)
    assert incremental.stats.tolist() == full.stats.tolist()


def test_image_matches_and_confusion_matrix():
    gt = ImageInstances.from_xyxy([[0, 0, 10, 10], [20, 20, 30, 30], [50, 50, 60, 60]], [1, 2, 2])
    dt = ImageInstances.from_xyxy(
        [[0, 0, 10, 10], [20, 20, 30, 31], [70, 70, 80, 80]], [1, 1, 2], scores=[0.9, 0.8, 0.7]
    )
    result = evaluate(from_arrays({5: gt}, {5: dt}, {1: "cat", 2: "dog"}))
    matches = result.image_matches(5)
    assert matches.dt_status[:, 0].tolist() == [1, 0, 0]
    assert matches.dt_gt_id[:, 0].tolist() == [1, -1, -1]
    assert matches.dt_iou[0, 0] == 1.0
    assert matches.gt_matched[:, 0].tolist() == [True, False, False]
    cm = result.confusion_matrix(0.5)
    # rows: gt cat, dog, background; columns: predicted cat, dog, background
    assert cm.matrix.tolist() == [[1, 0, 0], [1, 0, 1], [0, 1, 0]]
    assert cm.matrix[:, :2].sum() == len(dt)  # each detection counted once


def test_confusion_matrix_cells_list_their_images():
    gt = ImageInstances.from_xyxy([[0, 0, 10, 10], [20, 20, 30, 30], [50, 50, 60, 60]], [1, 2, 2])
    dt = ImageInstances.from_xyxy(
        [[0, 0, 10, 10], [20, 20, 30, 31], [70, 70, 80, 80]], [1, 1, 2], scores=[0.9, 0.8, 0.7]
    )
    empty = ImageInstances.empty(with_scores=True)
    result = evaluate(from_arrays({5: gt, 7: gt}, {5: dt, 7: empty}, {1: "cat", 2: "dog"}))
    cm = result.confusion_matrix(0.5)
    assert cm.matrix.tolist() == [[1, 0, 1], [1, 0, 3], [0, 1, 0]]
    assert cm.cell_images(1, 2) == [7, 5]  # image 7 misses both dogs, image 5 one
    assert cm.cell_breakdown(1, 2) == [(7, 2), (5, 1)]
    assert cm.cell_images(1, 0) == [5] and cm.cell_images(2, 2) == []


@pytest.mark.parametrize("seed", range(3))
def test_confusion_matrix_split_by_image_equals_each_image_alone(seed):
    gt, dt = random_coco(seed, num_images=15, tie_rate=0.5, extra_dt=110 * (seed == 0))
    data = from_coco(gt, dt)
    for iou, threshold in ((0.5, 0.0), (0.75, 0.4)):
        cm = evaluate(data).confusion_matrix(iou, threshold)
        total = np.zeros_like(cm.matrix)
        for image_id in data.image_ids:
            alone = from_arrays(
                {image_id: data.gt[image_id]},
                {image_id: data.detections(image_id)},
                data.categories,
            )
            own = evaluate(alone).confusion_matrix(iou, threshold).matrix
            total += own
            for row, col in zip(*np.nonzero(own), strict=True):
                assert (image_id, own[row, col]) in cm.cell_breakdown(int(row), int(col))
        np.testing.assert_array_equal(cm.matrix, total)
        for row, col in np.ndindex(*cm.matrix.shape):
            assert sum(n for _, n in cm.cell_breakdown(row, col)) == cm.matrix[row, col]


def test_pr_curve_references_point_at_detections():
    gt, dt = random_coco(4)
    result = evaluate(from_coco(gt, dt))
    curve = result.pr_curve(1, iou=0.5)
    assert np.all(np.diff(curve.scores) <= 0)
    for image_id, index, score in zip(
        curve.image_ids, curve.detection_indices, curve.scores, strict=True
    ):
        assert result.data.detections(int(image_id)).scores[index] == score


def test_detscope_dataset_with_scores_matches_by_file_name():
    gt, dt = random_coco(8, num_images=6)
    ev, _ = reference(gt, dt)
    shifted = {img["id"]: img["id"] + 1000 for img in gt["images"]}
    dataset = {
        "images": [{**img, "id": shifted[img["id"]]} for img in gt["images"]],
        "categories": gt["categories"],
        "annotations": [
            {**d, "id": i + 1, "image_id": shifted[d["image_id"]]} for i, d in enumerate(dt)
        ],
    }
    assert_same(ev, evaluate(from_coco(gt, dataset)))


@pytest.mark.parametrize(
    "bad_dt, message",
    [
        ([{"image_id": 999, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}], "unknown image"),
        ([{"image_id": 3, "bbox": [0, 0, 1, 1], "score": 1}], "category_id"),
        ([{"image_id": 3, "category_id": 1, "bbox": [0, 0], "score": 1}], "bbox"),
        ({"annotations": []}, "images"),
    ],
)
def test_malformed_input_is_a_clear_error(bad_dt, message):
    gt, _ = random_coco(1, num_images=2)
    with pytest.raises(EvaluationError, match=message):
        from_coco(gt, bad_dt)


def test_cli_prints_pycocotools_lines_and_writes_json_and_plot(tmp_path, capsys):
    import json

    import cv2

    from main import main

    gt, dt = random_coco(2)
    _, lines = reference(gt, dt)
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "dt.json").write_text(json.dumps(dt))
    out_json, out_png = tmp_path / "out.json", tmp_path / "pr.png"
    code = main(
        [
            "eval",
            str(tmp_path / "gt.json"),
            str(tmp_path / "dt.json"),
            "--per-class",
            "--json",
            str(out_json),
            "--plot",
            str(out_png),
        ]
    )
    printed = capsys.readouterr().out.splitlines()
    assert code == 0
    assert printed[:12] == lines
    assert any(line.startswith("class1 ") for line in printed)
    numbers = json.loads(out_json.read_text())
    assert len(numbers["per_class"]) == len(gt["categories"])
    assert cv2.imread(str(out_png)) is not None
    (tmp_path / "bad.json").write_text("[1, 2")
    assert main(["eval", str(tmp_path / "gt.json"), str(tmp_path / "bad.json")]) == 1
    assert "not readable JSON" in capsys.readouterr().err


def _assert_incremental_equals_full(evaluator: IncrementalEvaluator) -> None:
    incremental = evaluator.result()
    full = evaluate(copy.deepcopy(evaluator.data))
    np.testing.assert_array_equal(incremental.precision, full.precision)
    np.testing.assert_array_equal(incremental.recall, full.recall)
    np.testing.assert_array_equal(
        incremental.accumulated.num_positives, full.accumulated.num_positives
    )
    assert incremental.stats.tolist() == full.stats.tolist()


def test_incremental_class_gains_and_loses_its_only_ground_truth():
    gt, dt = random_coco(5, num_images=12, num_classes=5)
    evaluator = IncrementalEvaluator(from_coco(gt, dt))
    evaluator.result()
    last = max(evaluator.data.category_ids)  # random_coco never gives it ground truth
    k = evaluator.result().category_index(last)
    assert (evaluator.result().precision[:, :, k] == -1).all()
    image_id = evaluator.data.image_ids[3]
    box = [[10.0, 10.0, 40.0, 30.0]]
    other = ImageInstances(boxes=[[100.0, 100.0, 20.0, 20.0]], labels=[1], scores=[0.5])
    evaluator.update_image(image_id, dt=other)  # from now on no detection of ``last`` here
    evaluator.result()
    evaluator.update_image(image_id, gt=ImageInstances(boxes=box, labels=[last]))
    _assert_incremental_equals_full(evaluator)  # a first ground truth: AP 0, no longer -1
    assert (evaluator.result().precision[:, :, k, 0, -1] == 0).all()
    dets = ImageInstances(
        boxes=box + [[100.0, 100.0, 20.0, 20.0]], labels=[last, 1], scores=[0.9, 0.5]
    )
    evaluator.update_image(image_id, dt=dets)
    _assert_incremental_equals_full(evaluator)
    assert evaluator.result().class_ap(last, 0.5) > 0  # found, behind other images' FPs
    evaluator.update_image(image_id, dt=other)
    evaluator.result()
    evaluator.update_image(image_id, gt=ImageInstances.empty())  # its last ground truth
    _assert_incremental_equals_full(evaluator)
    assert (evaluator.result().precision[:, :, k] == -1).all()
    assert (evaluator.result().recall[:, k] == -1).all()


def test_incremental_crosses_max_dets_truncation():
    gt, dt = random_coco(8, num_images=10, num_classes=3)
    evaluator = IncrementalEvaluator(from_coco(gt, dt))
    evaluator.result()
    rng = np.random.default_rng(3)
    image_id = evaluator.data.image_ids[2]
    truth = evaluator.data.gt[image_id]
    # past maxDets 100; one class past 10 in the image (its maxDets-10 lane differs); back
    for count, top_label in ((140, 4), (30, 2), (105, 4), (3, 4)):
        near = truth.boxes[rng.integers(0, max(len(truth), 1), count)] if len(truth) else None
        boxes = (
            rng.uniform(0, 200, (count, 4)) if near is None else near + rng.normal(0, 3, (count, 4))
        )
        boxes[:, 2:] = np.abs(boxes[:, 2:]) + 1
        labels = rng.integers(1, top_label, count)
        evaluator.update_image(
            image_id, dt=ImageInstances(boxes=boxes, labels=labels, scores=rng.random(count))
        )
        _assert_incremental_equals_full(evaluator)
    assert len(evaluator.data.dt[image_id]) == 3


def test_incremental_matches_full_over_many_mixed_edits():
    gt, dt = random_coco(13, num_images=25, num_classes=6, crowd_rate=0.2, tie_rate=0.5)
    evaluator = IncrementalEvaluator(from_coco(gt, dt))
    evaluator.result()
    rng = np.random.default_rng(4)
    for step in range(12):
        image_id = int(rng.choice(evaluator.data.image_ids))
        old = evaluator.data.detections(image_id)
        keep = rng.random(len(old)) < 0.6
        boxes = np.concatenate([old.boxes[keep], rng.uniform(0, 200, (4, 4))])
        labels = np.concatenate([old.labels[keep], rng.integers(1, 7, 4)])
        scores = np.round(rng.random(len(boxes)), 1)  # ties with other images' scores
        new_gt = None
        if step % 4 == 1:
            new_gt = ImageInstances(
                boxes=boxes[:2] + 2, labels=labels[:2], iscrowd=[step % 8 == 1, False]
            )
        evaluator.update_image(
            image_id, gt=new_gt, dt=ImageInstances(boxes=boxes, labels=labels, scores=scores)
        )
        if step % 3 == 2:  # several edits between results
            _assert_incremental_equals_full(evaluator)
    _assert_incremental_equals_full(evaluator)
