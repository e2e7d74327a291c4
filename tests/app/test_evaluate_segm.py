"""The Evaluate dock's bbox/segm toggle: segm numbers equal ``main.py eval --iou-type segm``
on the saved files, live after a polygon edit; crowd / difficult are ignored regions;
segm says which side lacks masks. Detections are precomputed (no model runs here)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from detector.data.edits import UpdateObjects, update_object
from detector.data.flags import with_flags
from detector.data.masks import binary_mask
from detector.evaluation.from_dataset import CachedDetections, file_signature, model_key
from detector.store import save_dataset

SHAPE_NAMES = ["__background__", "circle", "square", "triangle", "star", "hexagon"]


class FakeMaskModel:
    """Enough of a DetModel for the cache key, the label mapping and the segm check."""

    architecture = "fake_mask"
    kind = "mask"
    source = "precomputed"
    trained = True
    settings = {"box_score_thresh": 0.05}
    categories = SHAPE_NAMES
    device = "cpu"


class FakeBoxModel(FakeMaskModel):
    architecture = "fake_boxes"
    kind = "detection"


def fake_mask_detections(dataset, seed: int = 1) -> dict[int, CachedDetections]:
    """Each ground-truth mask shifted by a few pixels (some dropped, some relabelled)."""
    rng = np.random.default_rng(seed)
    out = {}
    for image_id, record in dataset.images.items():
        boxes, labels, scores, masks = [], [], [], []
        for obj in dataset.objects_in(image_id):
            if rng.random() < 0.15:
                continue
            shift = rng.integers(-4, 5, 2)
            binary = np.roll(binary_mask(obj.mask, record.height, record.width), shift, (0, 1))
            masks.append(mask_utils.encode(np.asfortranarray(binary)))
            boxes.append(np.array(obj.box) + np.repeat(shift[::-1], 2)[[0, 2, 1, 3]])
            labels.append(obj.category_id if rng.random() > 0.1 else int(rng.integers(1, 6)))
            scores.append(float(rng.uniform(0.3, 1.0)))
        order = np.argsort(-np.array(scores))
        out[image_id] = CachedDetections(
            np.array(boxes, np.float32).reshape(-1, 4)[order],
            np.array(labels, np.int64)[order],
            np.array(scores, np.float32)[order],
            [masks[i] for i in order],
        )
    return out


def run_dock(qtbot, window, model, iou_type: str):
    dock = window.docks["EvaluateDock"]
    dock.show()
    dock.raise_()
    dataset = window.dataset
    window.models.model = model
    detections = fake_mask_detections(dataset)
    for image_id, dets in detections.items():
        signature = file_signature(dataset.image_path(image_id))
        dock.runner.cache.put(image_id, signature, model_key(model), dets)
    dock.controls.iou_type_combo.blockSignals(True)
    dock.controls.set_iou_type(iou_type)
    dock.controls.iou_type_combo.blockSignals(False)
    return dock, detections


def cli_stats(tmp_path, dataset, detections, iou_type: str) -> list[float]:
    """``python main.py eval GT.json DT.json --iou-type segm --json OUT`` on saved files."""
    from main import main

    save_dataset(dataset, force=True)
    results = []
    for image_id, dets in detections.items():
        for box, label, score, rle in zip(
            dets.boxes, dets.labels, dets.scores, dets.masks, strict=True
        ):
            x1, y1, x2, y2 = (float(v) for v in box)
            segmentation = {"size": rle["size"], "counts": rle["counts"].decode("ascii")}
            results.append(
                {
                    "image_id": image_id,
                    "category_id": int(label),
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "score": float(score),
                    "segmentation": segmentation,
                }
            )
    (tmp_path / "dt.json").write_text(json.dumps(results))
    out = tmp_path / "metrics.json"
    gt = dataset.annotation_path
    assert (
        main(
            ["eval", str(gt), str(tmp_path / "dt.json"), "--iou-type", iou_type, "--json", str(out)]
        )
        == 0
    )
    document = json.loads(out.read_text())
    return (
        [float(v) for v in document["stats"]]
        if isinstance(document["stats"], list)
        else list(map(float, document["stats"].values()))
    )


def dock_stats(dock) -> list[float]:
    return [float(v) for v in dock.live.result().stats]


@pytest.fixture
def window(open_window, sample_folder):
    return open_window(sample_folder, size=(1400, 900))


def test_segm_in_the_dock_equals_the_cli_and_follows_edits(qtbot, window, tmp_path):
    dock, detections = run_dock(qtbot, window, FakeMaskModel(), "segm")
    with qtbot.waitSignal(dock.view_updated, timeout=20000):
        dock.run()
    assert dock.live.result().iou_type == "segm"
    assert "(segm)" in dock.controls.headline.text()
    dataset = window.dataset
    np.testing.assert_allclose(
        dock_stats(dock), cli_stats(tmp_path, dataset, detections, "segm"), atol=1e-9
    )
    # a polygon edit (a triangle replacing a mask) updates the numbers live
    obj = dataset.objects_in(min(dataset.images))[0]
    x1, y1, x2, y2 = obj.box
    triangle = [[x1, y1, x2, y1, x1, y2]]
    before = dock_stats(dock)
    with qtbot.waitSignal(dock.view_updated, timeout=5000):
        dataset.apply(update_object(dataset, obj.id, mask=triangle))
    after = dock_stats(dock)
    assert after != before
    np.testing.assert_allclose(after, cli_stats(tmp_path, dataset, detections, "segm"), atol=1e-9)
    # toggling back to bbox re-runs from the cache with box IoU
    with qtbot.waitSignal(dock.view_updated, timeout=20000):
        dock.controls.set_iou_type("bbox")
    assert dock.live.result().iou_type == "bbox"
    np.testing.assert_allclose(
        dock_stats(dock), cli_stats(tmp_path, dataset, detections, "bbox"), atol=1e-9
    )


def test_crowd_and_difficult_are_ignored_regions(qtbot, window, tmp_path):
    dock, detections = run_dock(qtbot, window, FakeMaskModel(), "segm")
    with qtbot.waitSignal(dock.view_updated, timeout=20000):
        dock.run()
    dataset = window.dataset
    positives = sum(row.num_gt for row in dock.view.rows)
    objects = dataset.objects_in(min(dataset.images))
    flagged = (with_flags(objects[0], difficult=True), with_flags(objects[1], iscrowd=True))
    with qtbot.waitSignal(dock.view_updated, timeout=5000):
        dataset.apply(UpdateObjects(flagged, "Flag"))
    assert sum(row.num_gt for row in dock.view.rows) == positives - 2
    np.testing.assert_allclose(
        dock_stats(dock), cli_stats(tmp_path, dataset, detections, "segm"), atol=1e-9
    )
    saved = json.loads(dataset.annotation_path.read_text())
    by_id = {a["id"]: a for a in saved["annotations"]}
    assert by_id[objects[0].id]["difficult"] == 1 and by_id[objects[1].id]["iscrowd"] == 1


def test_segm_says_which_side_lacks_masks(qtbot, window):
    dock, _ = run_dock(qtbot, window, FakeBoxModel(), "segm")
    dock.run()
    assert "predicts boxes only" in dock.controls.status_label.text()
    assert dock.runner.refusal and not dock.runner.running
    dataset = window.dataset
    obj = dataset.objects_in(min(dataset.images))[0]
    dataset.apply(update_object(dataset, obj.id, mask=None))
    window.models.model = FakeMaskModel()
    dock.run()
    assert "1 of 190 ground-truth objects have no mask" in dock.controls.status_label.text()
    assert dock.controls.headline.text() == "mAP – (segm)"
