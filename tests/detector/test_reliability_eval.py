"""Issue 18 for evaluation inputs: mistyped ids and scores are clear EvaluationErrors."""

from __future__ import annotations

import copy
import json

import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from detector.evaluation import evaluate, from_coco
from detector.evaluation.params import EvaluationError
from main import main


def gt_doc() -> dict:
    return {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 80}],
        "categories": [{"id": 1, "name": "cat"}],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "bbox": [10, 10, 20, 20],
                "area": 400,
                "iscrowd": 0,
                "segmentation": [[10, 10, 30, 10, 30, 30, 10, 30]],
            }
        ],
    }


def results() -> list[dict]:
    return [{"image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.9}]


def test_valid_input_still_evaluates():
    assert evaluate(from_coco(gt_doc(), results())).stats[0] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("image_id", [1], "'image_id' must be a 64-bit integer, got a list"),
        ("category_id", 1e20, "'category_id' must be a 64-bit integer, got 1e+20"),
        ("category_id", 10**5000, "too large for 64 bits"),
        ("category_id", "1", "'category_id' must be a 64-bit integer, got '1'"),
        ("score", "0.9", "'score' must be a finite number, got '0.9'"),
        ("score", float("nan"), "'score' must be a finite number"),
        ("bbox", [1, 2, "3", 4], "'bbox' must be 4 finite numbers"),
        ("bbox", [10**400, 2, 3, 4], "'bbox' must be 4 finite numbers"),
    ],
    ids=[
        "id-list",
        "cat-1e20",
        "cat-5000-digits",
        "cat-str",
        "score-str",
        "nan",
        "bbox-str",
        "huge",
    ],
)
def test_mistyped_detections_are_refused_clearly(key, value, message):
    dt = results()
    dt[0][key] = value
    with pytest.raises(EvaluationError) as info:
        from_coco(gt_doc(), dt)
    assert message in str(info.value)
    assert "annotation 0" in str(info.value)


def test_pycocotools_refuses_a_string_score_too():
    """The behaviour we match: COCOeval cannot sort a string score."""
    coco = COCO()
    coco.dataset = gt_doc()
    coco.createIndex()
    dt = results()
    dt[0]["score"] = "0.9"
    evaluator = COCOeval(coco, coco.loadRes(copy.deepcopy(dt)), "bbox")
    with pytest.raises(TypeError):
        evaluator.evaluate()


@pytest.mark.parametrize(
    ("where", "value"),
    [("image", "1"), ("image", 1.0), ("category", [1]), ("image", 2**64)],
    ids=["str", "float", "list", "2**64"],
)
def test_mistyped_ground_truth_ids_are_refused(where, value):
    gt = gt_doc()
    gt["images" if where == "image" else "categories"][0]["id"] = value
    with pytest.raises(EvaluationError, match="64-bit integer"):
        from_coco(gt, results())


def test_segm_with_a_huge_image_or_bad_rle_is_refused():
    gt = gt_doc()
    gt["images"][0]["width"] = 1e300
    with pytest.raises(EvaluationError, match="height and width"):
        from_coco(gt, results(), iou_type="segm")
    dt = results()
    dt[0]["segmentation"] = {"size": [80, 100], "counts": "\x7f\x7f"}
    with pytest.raises(EvaluationError, match="valid RLE"):
        from_coco(gt_doc(), dt, iou_type="segm")


def test_cli_turns_huge_numbers_and_deep_nesting_into_messages(tmp_path, capsys):
    gt = tmp_path / "gt.json"
    gt.write_text(json.dumps(gt_doc()))
    for name, text in {
        "digits.json": '[{"image_id": 1, "category_id": ' + "9" * 5000 + "}]",
        "deep.json": "[" * 100000 + "]" * 100000,
        "list_id.json": json.dumps([{**results()[0], "image_id": [1]}]),
    }.items():
        (tmp_path / name).write_text(text)
        assert main(["eval", str(gt), str(tmp_path / name)]) == 1
        err = capsys.readouterr().err
        assert name in err or "image_id" in err
        assert "Traceback" not in err
