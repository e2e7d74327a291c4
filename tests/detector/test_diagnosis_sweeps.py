"""What-if sweeps from cached traces, F1 against confidence, two runs side by side."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from detector import load_model, open_dataset
from detector.diagnosis.run import (
    TraceCache,
    diagnose_dataset,
    items_from_dataset,
)
from detector.diagnosis.sweeps import compare, f1_curves, score_sweep_fast, sweep_setting

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples" / "shapes"


@pytest.fixture(scope="module")
def traced():
    torch.set_num_threads(1)
    dataset = open_dataset(SAMPLES)
    items = items_from_dataset(dataset)[:3]
    categories = {c.id: c.name for c in dataset.categories.values()}
    model = load_model("shapes")
    cache = TraceCache()
    base = diagnose_dataset(model, items, categories, cache=cache)
    assert base.settings["score_thresh"] == float(model.module.roi_heads.score_thresh)
    return model, items, categories, cache, base


def test_fast_score_sweep_equals_rerunning_the_traces(traced):
    model, items, categories, cache, base = traced
    values = [0.3, 0.8, 0.99]
    fast = score_sweep_fast(base, values)
    passes = cache.backbone_passes
    slow = sweep_setting(model, items, categories, cache, "score_thresh", values)
    assert cache.backbone_passes == passes  # every value re-ran cached traces only
    assert fast.map50 == slow.map50 and fast.map == slow.map
    assert slow.found == sorted(slow.found, reverse=True)  # a higher threshold finds fewer


def test_rpn_sweep_changes_the_funnel_without_backbone(traced):
    model, items, categories, cache, _ = traced
    passes = cache.backbone_passes
    sweep = sweep_setting(model, items, categories, cache, "rpn_post_nms_top_n", [3, 1000])
    assert cache.backbone_passes == passes
    assert sweep.found[0] < sweep.found[1]


def test_f1_best_threshold_is_the_argmax_of_brute_force(traced):
    *_, base = traced
    tables = base.tide().tables
    curves = f1_curves(tables)
    assert curves
    for class_id, curve in curves.items():
        npos = int((tables.gt_class == class_id).sum())
        rows = (tables.det_class == class_id) & ~tables.det_ignored
        best = 0.0
        for t in np.unique(tables.det_score[rows]):
            kept = rows & (tables.det_score >= t)
            tp = int(tables.det_tp[kept].sum())
            p, r = tp / kept.sum(), tp / npos
            best = max(best, 0.0 if tp == 0 else 2 * p * r / (p + r))
        assert curve.best_f1 == pytest.approx(best, abs=1e-12)


def test_compare_two_thresholds_lists_flipped_objects(traced):
    model, items, categories, cache, base = traced
    strict = diagnose_dataset(
        model, items, categories, cache=cache, settings={"score_thresh": 0.99}
    )
    delta = compare(base, strict)
    assert delta.gained == []  # a stricter threshold never finds more
    found = base.funnel.counts()["found"] - strict.funnel.counts()["found"]
    assert len(delta.lost) == found > 0
    assert all(v <= 1e-9 for v in delta.delta_ap.values())
