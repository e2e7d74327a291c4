"""The pipeline funnel over a real dataset and model: stages, cache, reruns without backbone."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from detector import load_model, open_dataset, trace_image
from detector.diagnosis._why import missed_ground_truth
from detector.diagnosis.funnel import STAGE_INDEX, STAGES, lost_stages
from detector.diagnosis.run import (
    DiagnosisItem,
    TraceCache,
    diagnose_dataset,
    diagnose_job,
    items_from_dataset,
)
from detector.io.images import read_image

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples" / "shapes"


@pytest.fixture(scope="module")
def shapes():
    torch.set_num_threads(1)
    dataset = open_dataset(SAMPLES)
    items = items_from_dataset(dataset)[:3]
    categories = {c.id: c.name for c in dataset.categories.values()}
    return load_model("shapes"), items, categories


def test_every_object_gets_one_stage_and_found_matches_why(shapes):
    model, items, categories = shapes
    diagnosis = diagnose_dataset(model, items, categories)
    total = sum(int((~item.iscrowd).sum()) for item in items)
    counts = diagnosis.funnel.counts()
    assert list(counts) == list(STAGES)
    assert sum(counts.values()) == len(diagnosis.funnel) == total
    item = items[0]
    trace = trace_image(model, read_image(item.path))
    boxes = trace.input.boxes_to_resized(item.boxes.astype(np.float32))
    missed = missed_ground_truth(trace, boxes, item.categories)  # shapes: label == category id
    mine = diagnosis.funnel.stages[diagnosis.funnel.image_ids == item.image_id]
    assert np.array_equal(mine == STAGE_INDEX["found"], ~missed)
    json = diagnosis.funnel.to_json()
    assert json["total"] == counts and set(json["per_size"]) == {"small", "medium", "large"}


def test_threshold_change_reruns_cached_traces_without_backbone(shapes):
    model, items, categories = shapes
    cache = TraceCache()
    diagnose_dataset(model, items, categories, cache=cache)
    assert cache.backbone_passes == len(items)
    high = {"score_thresh": 0.97, "nms_thresh": 0.3}
    rerun = diagnose_dataset(model, items, categories, cache=cache, settings=high)
    assert cache.backbone_passes == len(items)  # no new backbone pass
    fresh_model = load_model("shapes", box_score_thresh=0.97, box_nms_thresh=0.3)
    fresh = diagnose_dataset(fresh_model, items, categories)
    assert np.array_equal(rerun.funnel.stages, fresh.funnel.stages)
    lost = rerun.funnel.counts()
    assert (
        lost["found"]
        <= diagnose_dataset(model, items, categories, cache=cache).funnel.counts()["found"]
    )


def test_tiny_object_is_lost_at_the_anchors(shapes):
    model, items, _ = shapes
    trace = trace_image(model, read_image(items[0].path))
    tiny = np.array([[10.0, 10.0, 11.0, 11.0]])
    stages, best = lost_stages(trace, tiny, np.array([1]))
    assert STAGES[int(stages[0])] == "anchors" and best[0] < 0.3


def test_job_yields_progress_and_survives_unreadable_image(shapes, tmp_path):
    model, items, categories = shapes
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    bad = DiagnosisItem(
        image_id=999,
        path=broken,
        boxes=np.zeros((0, 4)),
        categories=np.zeros(0, np.int64),
        iscrowd=np.zeros(0, bool),
        object_ids=np.zeros(0, np.int64),
    )
    job = diagnose_job(model, [items[0], bad], categories)
    updates = []
    while True:
        try:
            updates.append(next(job))
        except StopIteration as stop:
            result = stop.value
            break
    assert [u[:2] for u in updates] == [(0, 2), (1, 2), (2, 2)]
    assert 999 in result.failures and "broken.jpg" in updates[-1][2]


def test_changed_file_is_traced_again(shapes, tmp_path):
    model, items, categories = shapes
    copy = tmp_path / "copy.jpg"
    shutil.copy(items[0].path, copy)
    item = DiagnosisItem(**{**vars(items[0]), "path": copy})
    cache = TraceCache()
    cache.trace(model, item)
    cache.trace(model, item, {"score_thresh": 0.5})
    assert cache.backbone_passes == 1
    copy.write_bytes(items[1].path.read_bytes())
    cache.trace(model, item)
    assert cache.backbone_passes == 2


def test_rpn_setting_on_dropped_features_traces_once_more(shapes):
    _, items, _ = shapes
    torch.manual_seed(0)
    model = load_model(
        "fasterrcnn_resnet50_fpn", weights=None, num_classes=3, min_size=128, max_size=160
    )
    cache = TraceCache(keep_features=False)
    base = cache.trace(model, items[0])
    assert not base.features_kept  # box-only model: features freed
    assert cache.trace(model, items[0], {"nms_thresh": 0.3}) is not None
    assert cache.backbone_passes == 1  # box settings need no features
    small = cache.trace(model, items[0], {"rpn_post_nms_top_n": 5})
    assert cache.backbone_passes == 2 and len(small.rpn.proposals_resized) <= 5
    expected = trace_image(model, read_image(items[0].path)).rerun(rpn_post_nms_top_n=5)
    np.testing.assert_array_equal(small.detections.boxes, expected.detections.boxes)
