"""``main.py diagnose`` end to end: from two COCO files, and from a folder with a model."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest
import torch

import main
from detector.diagnosis import tide
from detector.evaluation import evaluate, from_coco
from tests.detector.evaluation_synthetic import random_coco

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples" / "shapes"
MAIN_ERRORS = {"Cls", "Loc", "Both", "Dupe", "Bkg", "Miss"}


@pytest.fixture
def files(tmp_path):
    gt, dt = random_coco(7, num_images=12)
    gt_path, dt_path = tmp_path / "gt.json", tmp_path / "dt.json"
    gt_path.write_text(json.dumps(gt))
    dt_path.write_text(json.dumps(dt))
    return gt, dt, gt_path, dt_path


def test_files_form_writes_json_and_charts(files, tmp_path, capsys):
    gt, dt, gt_path, dt_path = files
    out, plots = tmp_path / "report.json", tmp_path / "plots"
    assert (
        main.main(
            ["diagnose", str(gt_path), str(dt_path), "--json", str(out), "--plot", str(plots)]
        )
        == 0
    )
    report = json.loads(out.read_text())
    expected = tide(from_coco(gt, dt))
    assert set(report["tide"]["main"]) == MAIN_ERRORS
    assert set(report["tide"]["special"]) == {"FalsePos", "FalseNeg"}
    for name, value in expected.main.items():
        assert report["tide"]["main"][name] == pytest.approx(value, abs=1e-12)
    assert "funnel" not in report  # no model: error breakdowns only
    assert set(report["analyze"]["areas"]["all"]) == {"C75", "C50", "Loc", "Sim", "Oth", "BG", "FN"}
    pngs = sorted(p.name for p in plots.glob("*.png"))
    assert "tide_main.png" in pngs and "analyze_all.png" in pngs
    assert cv2.imread(str(plots / "tide_main.png")) is not None
    assert "TIDE  AP50" in capsys.readouterr().out
    sweep = report["sweep"]
    assert sweep["values"][0] == 0.0 and len(sweep["map50"]) == len(sweep["values"])
    assert sweep["map50"][0] == pytest.approx(evaluate(from_coco(gt, dt)).stats[1], abs=1e-12)
    assert "sweep_score.png" in pngs
    assert all(0 < row["best_f1"] <= 1 for row in report["f1"].values())


def test_folder_form_adds_the_funnel(tmp_path):
    torch.set_num_threads(1)
    out = tmp_path / "report.json"
    args = ["diagnose", str(SAMPLES), "--model", "shapes", "--max-images", "2", "--json", str(out)]
    assert main.main(args) == 0
    report = json.loads(out.read_text())
    document = json.loads((SAMPLES / "annotations.json").read_text())
    first_two = sorted(image["id"] for image in document["images"])[:2]
    objects = [
        a for a in document["annotations"] if a["image_id"] in first_two and not a.get("iscrowd")
    ]
    total = report["funnel"]["total"]
    assert sum(total.values()) == len(objects)
    assert list(total)[-1] == "found" and "anchors" in total
    assert set(report["funnel"]["per_size"]) == {"small", "medium", "large"}
    assert set(report["tide"]["main"]) == MAIN_ERRORS


def test_bad_input_is_a_clear_error(tmp_path, capsys):
    assert main.main(["diagnose", str(tmp_path / "missing.json"), str(tmp_path / "x.json")]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main.main(["diagnose", str(tmp_path)]) == 1
    assert "--model" in capsys.readouterr().err
