"""The training loop: loss goes down, checkpoints load, Ctrl+C saves, resume continues."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from detector.errors import AnnotationError, DetScopeError, ModelError
from detector.models import load_model
from detector.training.data import CocoFolder
from detector.training.loop import TrainConfig, TrainingInterrupted, TrainProgress, train
from detector.training.synthetic import SynthConfig, write_dataset
from main import main

TINY = {"min_size": 128, "max_size": 128, "box_detections_per_img": 10}


def _config(tmp_path, **changes) -> TrainConfig:
    base = dict(
        architecture="shapes",
        out=str(tmp_path / "run.pth"),
        synthetic_seed=5,
        synthetic_size=128,
        steps=6,
        batch_size=2,
        lr=1e-3,
        warmup_steps=1,
        checkpoint_every=1000,
        log_every=1,
        seed=0,
        device="cpu",
        val_count=2,
        val_size=128,
        settings=dict(TINY),
    )
    base.update(changes)
    return TrainConfig(**base)


def test_a_tiny_run_lowers_the_loss_and_writes_a_checkpoint_that_loads(tmp_path):
    lines: list[TrainProgress] = []
    result = train(_config(tmp_path, steps=8), progress=lines.append)
    assert result.steps_done == 8 and result.checkpoint.is_file()
    assert result.last_loss < result.first_loss
    assert [p.step for p in lines if not p.message] == list(range(1, 9))
    assert "loss_mask" in lines[0].losses and "step 1/8" in lines[0].line()
    assert {"bbox_AP", "bbox_AP50", "segm_AP"} <= set(result.metrics)
    payload = torch.load(result.checkpoint, weights_only=True)
    assert payload["training"]["finished"] and payload["training"]["step"] == 8
    assert "optimizer" not in payload  # the finished checkpoint is slim
    model = load_model(str(result.checkpoint), device="cpu")
    assert model.architecture == "shapes" and model.trained
    assert model.categories[1:] == ["circle", "square", "triangle", "star", "hexagon"]
    assert model.module.transform.min_size == (128,)  # the recorded settings come back


def _stop_after(step: int):
    def progress(p: TrainProgress) -> None:
        if p.step == step and not p.message:
            raise KeyboardInterrupt  # what Ctrl+C raises mid-loop

    return progress


def test_ctrl_c_saves_a_resumable_checkpoint_and_resume_matches_an_unbroken_run(tmp_path):
    unbroken = train(_config(tmp_path / "a", steps=4))
    config = _config(tmp_path / "b", steps=4)
    with pytest.raises(TrainingInterrupted, match="step 2"):
        train(config, progress=_stop_after(2))
    saved = torch.load(config.out, weights_only=True)
    assert (
        saved["training"]["step"] == 2
        and "optimizer" in saved
        and not saved["training"]["finished"]
    )
    messages: list[str] = []
    resumed = train(
        _config(tmp_path / "b", steps=4, resume=True), progress=lambda p: messages.append(p.line())
    )
    assert messages[0] == "resumed at step 2"
    assert resumed.steps_done == 4
    a = torch.load(unbroken.checkpoint, weights_only=True)["model"]
    b = torch.load(resumed.checkpoint, weights_only=True)["model"]
    for key in a:
        assert torch.allclose(a[key].float(), b[key].float(), atol=1e-4), key


def test_periodic_checkpoints_are_written_during_training(tmp_path):
    seen = []

    def progress(p: TrainProgress) -> None:
        if p.step == 3 and not p.message:
            seen.append(torch.load(tmp_path / "run.pth", weights_only=True)["training"]["step"])

    train(_config(tmp_path, steps=4, checkpoint_every=2, val_count=0), progress=progress)
    assert seen == [2]


def test_resume_refuses_a_finished_checkpoint(tmp_path):
    train(_config(tmp_path, steps=1, val_count=0))
    with pytest.raises(ModelError, match="nothing to resume"):
        train(_config(tmp_path, steps=2, resume=True))


def test_training_on_a_coco_folder_with_a_held_out_split(tmp_path):
    write_dataset(tmp_path / "data", 4, 3, SynthConfig(height=128, width=128))
    config = _config(
        tmp_path, synthetic_seed=None, data=str(tmp_path / "data"), steps=2, val_fraction=0.25
    )
    result = train(config)
    assert result.steps_done == 2 and 0.0 <= result.metrics["segm_AP"] <= 1.0


def test_fine_tuning_keeps_the_shared_weights(tmp_path):
    start = train(_config(tmp_path / "start", steps=1, val_count=0)).checkpoint
    tuned = train(_config(tmp_path, steps=0, weights=str(start), val_count=0)).checkpoint
    a = torch.load(start, weights_only=True)["model"]
    b = torch.load(tuned, weights_only=True)["model"]
    assert torch.equal(a["backbone.body.stem.0.weight"], b["backbone.body.stem.0.weight"])


def test_bad_input_gets_a_clear_message(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "x.pth")]) == 1
    assert "COCO folder or --synthetic" in capsys.readouterr().err
    assert main(["train", str(tmp_path), "--out", str(tmp_path / "x.pth")]) == 1
    assert "annotations.json or an exported dataset" in capsys.readouterr().err
    with pytest.raises(DetScopeError, match="unknown model"):
        train(_config(tmp_path, architecture="nope"))
    with pytest.raises(ModelError, match="keypoint"):
        train(_config(tmp_path, architecture="keypointrcnn_resnet50_fpn"))


def test_a_coco_folder_is_read_through_the_data_layer(tmp_path):
    for name in ("a.png", "b.png"):
        cv2.imwrite(str(tmp_path / name), np.zeros((40, 50, 3), np.uint8))
    square = [[10, 10, 30, 10, 30, 30, 10, 30]]
    doc = {
        "images": [
            {"id": 7, "file_name": "a.png", "width": 50, "height": 40},
            {"id": 3, "file_name": "b.png", "width": 50, "height": 40},
        ],
        "categories": [{"id": 5, "name": "late"}, {"id": 0, "name": "early"}],
        "annotations": [
            {"id": 1, "image_id": 7, "category_id": 5, "bbox": [10, 10, 20, 20]},
            {"id": 2, "image_id": 7, "category_id": 0, "bbox": [1, 2, 8, 9], "iscrowd": 1},
            {"id": 3, "image_id": 7, "category_id": 9, "bbox": [1, 2, 8, 9]},  # not listed
            {"id": 4, "image_id": 7, "category_id": 0, "bbox": [1, 2, 0.5, 9]},  # under 1 px
        ],
    }
    doc["annotations"][0]["segmentation"] = square
    (tmp_path / "annotations.json").write_text(json.dumps(doc))
    folder = CocoFolder(tmp_path)
    assert folder.category_names == ["early", "late"] and len(folder) == 2
    image, target = folder.item(0, with_masks=True)
    assert image.shape == (40, 50, 3)
    assert target["boxes"].tolist() == [[10.0, 10.0, 30.0, 30.0]]
    assert target["labels"].tolist() == [2] and int(target["masks"].sum()) == 400
    _, empty = folder.item(1, with_masks=True)  # no objects: a negative image
    assert empty["boxes"].shape == (0, 4) and empty["masks"].shape == (0, 40, 50)
    truth = folder.coco_ground_truth([0])
    assert [c["id"] for c in truth["categories"]] == [0, 5]
    assert sorted(a["id"] for a in truth["annotations"]) == [1, 2, 4]
    (tmp_path / "annotations.json").write_text('{"images": [')
    with pytest.raises(AnnotationError, match=r"annotations\.json: line 1, column 13"):
        CocoFolder(tmp_path)


def test_a_mask_model_trains_on_a_box_only_roboflow_export_with_the_mask_loss_off(tmp_path):
    from tests.detector.exported_layouts import roboflow

    roboflow(tmp_path / "export")
    lines: list[TrainProgress] = []
    config = _config(
        tmp_path,
        synthetic_seed=None,
        data=str(tmp_path / "export"),
        split="train",
        val_dir=str(tmp_path / "export"),
        val_split="valid",
        steps=2,
    )
    result = train(config, progress=lines.append)
    said = [p.message for p in lines if p.message]
    assert any("mask loss off" in m and "fasterrcnn" in m for m in said)
    steps = [p for p in lines if not p.message]
    assert steps and all("loss_mask" not in p.losses for p in steps)
    assert "bbox_AP" in result.metrics and "segm_AP" not in result.metrics
    model = load_model(str(result.checkpoint), device="cpu")
    assert model.module.roi_heads.has_mask()  # the mask head is still in the checkpoint
    with pytest.raises(AnnotationError, match="train, valid, test"):
        train(_config(tmp_path, synthetic_seed=None, data=str(tmp_path / "export"), steps=1))
