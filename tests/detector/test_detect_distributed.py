"""``torchrun ... main.py detect``: deterministic shards, one merged file equal to one process.

The multi-process tests start real ``torchrun`` (torch.distributed.run) with 2 CPU processes
and the gloo backend. torchrun sets ``OMP_NUM_THREADS=1`` in each process, and CPU float
reductions depend on the thread count, so the single-process reference runs with one
thread too.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from detector.errors import DetScopeError
from detector.inference.shard import (
    FileRecord,
    check_complete,
    merge_records,
    read_shard,
    shard_indices,
    shard_path,
    write_shard,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "resources" / "samples" / "shapes"


@pytest.mark.parametrize("world_size", [1, 2, 3, 7])
@pytest.mark.parametrize("count", [0, 1, 6, 50])
def test_every_file_in_exactly_one_shard(count, world_size):
    shards = [list(shard_indices(count, rank, world_size)) for rank in range(world_size)]
    assert sorted(i for shard in shards for i in shard) == list(range(count))
    assert shards == [list(shard_indices(count, r, world_size)) for r in range(world_size)]


def test_a_rank_outside_the_world_is_refused():
    with pytest.raises(DetScopeError, match="not in a world of 2"):
        shard_indices(10, 2, 2)


def _record(index: int, boxes: int, error: bool = False) -> FileRecord:
    if error:
        return FileRecord(index, f"f{index}.jpg", error=f"f{index}.jpg: unreadable")
    annotations = [{"category_id": 1, "bbox": [k, k, 1, 1], "score": 0.5} for k in range(boxes)]
    return FileRecord(index, f"f{index}.jpg", 10, 8, annotations)


def test_merge_gives_ids_in_file_order_whatever_the_shard_order():
    records = [_record(i, boxes=i % 3, error=i in (2, 5)) for i in range(9)]
    images, annotations, errors = merge_records(records)
    shuffled = records[:]
    random.Random(0).shuffle(shuffled)
    assert merge_records(shuffled) == (images, annotations, errors)
    assert [image["file_name"] for image in images] == [
        f"f{i}.jpg" for i in range(9) if i not in (2, 5)
    ]
    assert [image["id"] for image in images] == list(range(1, 8))
    assert [a["id"] for a in annotations] == list(range(1, len(annotations) + 1))
    assert errors == ["f2.jpg: unreadable", "f5.jpg: unreadable"]  # each failure once


def test_a_missing_shard_is_an_error_not_a_gap():
    with pytest.raises(DetScopeError, match="rerun the same command"):
        check_complete([_record(0, 1), _record(2, 1)], 3)


def test_a_shard_of_another_job_is_not_reused(tmp_path):
    path = shard_path(tmp_path / "out.json", 0, 2)
    write_shard(path, [_record(0, 2)], "job-a", 0, 2)
    assert read_shard(path, "job-a") == [_record(0, 2)]
    assert read_shard(path, "job-b") is None  # other files, model, thresholds or world size
    path.write_text('{"format": "detscope-detect-shard", "fingerprint": "job-a"}')
    assert read_shard(path, "job-a") is None  # half a shard is no shard


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One folder detected by one process and by two (shards kept for the resume test)."""
    tmp_path = tmp_path_factory.mktemp("torchrun")
    photos = tmp_path / "photos"
    photos.mkdir()
    for path in sorted(SAMPLES.glob("*.jpg"))[:5]:
        shutil.copy(path, photos / path.name)
    (photos / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    single, sharded = tmp_path / "single.json", tmp_path / "sharded.json"
    _detect([str(photos), "--out", str(single)], processes=1)
    run = _detect([str(photos), "--out", str(sharded), "--keep-shards"], processes=2)
    return photos, single, sharded, run


def _detect(args: list[str], processes: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    runner = [sys.executable]
    if processes > 1:
        runner += ["-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}"]
    command = [*runner, str(ROOT / "main.py"), "detect", *args]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_two_processes_write_the_file_one_process_writes(runs):
    _photos, single, sharded, run = runs
    assert sharded.read_bytes() == single.read_bytes()
    document = json.loads(sharded.read_text())
    assert len(document["images"]) == 5 and document["annotations"]
    assert run.stderr.count("skipped") == 1 and "broken.jpg" in run.stderr  # once, by its rank
    assert "merged 2 shards: [3, 3] files per rank" in run.stderr


def test_rerun_skips_complete_shards_and_redoes_the_rest(runs):
    photos, single, out, _run = runs
    out.unlink()
    shard_path(out, 1, 2).unlink()  # rank 1 "died" before writing its shard
    rerun = _detect([str(photos), "--out", str(out)], processes=2)
    assert "rank 0: shard already complete" in rerun.stderr
    assert "rank 1: shard already complete" not in rerun.stderr
    assert out.read_bytes() == single.read_bytes()
    assert not (out.parent / "sharded.json.shards").exists()  # merged, so cleaned up
