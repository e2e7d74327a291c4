"""Evaluation split by image across ranks and merged equals one process's evaluate."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from detector.evaluation import EvalParams, evaluate, from_coco
from detector.evaluation.shards import evaluate_shard, result_from_blocks, shard_image_ids
from tests.detector.evaluation_synthetic import random_coco


@pytest.mark.parametrize("world_size", [1, 2, 3, 5])
@pytest.mark.parametrize("seed", [0, 1, 4])
def test_merged_shards_equal_one_process(seed, world_size):
    gt, dt = random_coco(seed, num_images=23, extra_dt=130 if seed == 4 else 0, crowd_rate=0.15)
    data = from_coco(copy.deepcopy(gt), copy.deepcopy(dt))
    whole = evaluate(data)
    params = EvalParams()
    shards = [shard_image_ids(data, rank, world_size) for rank in range(world_size)]
    assert sorted(i for shard in shards for i in shard) == sorted(data.image_ids)
    blocks = [evaluate_shard(data, ids, "bbox", params) for ids in shards]
    merged = result_from_blocks(data, blocks, "bbox", params)
    np.testing.assert_array_equal(merged.stats, whole.stats)
    np.testing.assert_array_equal(merged.precision, whole.precision)
    np.testing.assert_array_equal(merged.recall, whole.recall)
    assert merged.summary_lines() == whole.summary_lines()
    for name in whole.tables.det:
        np.testing.assert_array_equal(merged.tables.det[name], whole.tables.det[name])
    np.testing.assert_array_equal(merged.tables.match_gt, whole.tables.match_gt)
    np.testing.assert_array_equal(merged.tables.gaps, whole.tables.gaps)


def test_eval_under_torchrun_prints_and_writes_what_one_process_does(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    gt, dt = random_coco(3, num_images=30, crowd_rate=0.1)
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "dt.json").write_text(json.dumps(dt))
    outputs = []
    for runner in (
        [sys.executable],
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"],
    ):
        out = tmp_path / f"metrics_{len(runner)}.json"
        command = [*runner, str(root / "main.py"), "eval", "gt.json", "dt.json", "--json", str(out)]
        run = subprocess.run(
            command, cwd=tmp_path, env={**os.environ}, capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr[-2000:]
        outputs.append((run.stdout.replace(str(out), "OUT"), json.loads(out.read_text())))
    assert outputs[0] == outputs[1]
    assert "Average Precision" in outputs[0][0]
