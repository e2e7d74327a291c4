"""Issue 18: seeded fuzzing of every format and checkpoints, and SIGKILLs during saves.

Each case ends ``loaded`` or ``clean`` (the project's own error); anything else fails the
suite with its seed, so ``tests.fuzzing.run_case(fmt, seed, workdir)`` reproduces it.
The large runs (100,000 a format, memory-capped) are benchmarks/fuzz_formats.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzzing import fuzz

ROOT = Path(__file__).resolve().parents[2]
CASES = {"coco": 900, "labelme": 600, "voc": 600, "yolo": 300, "checkpoint": 12}


@pytest.mark.parametrize("fmt", sorted(CASES))
def test_fuzzed_documents_load_or_fail_cleanly(fmt, tmp_path):
    tally = fuzz(fmt, range(CASES[fmt]), tmp_path)
    assert tally.unexpected == []
    assert tally.loaded > 0 and tally.clean > 0  # the fuzzer reaches both outcomes


def test_sigkill_during_saves_leaves_old_or_new_file_and_no_temp_files(tmp_path):
    target = tmp_path / "annotations.json"
    script = ROOT / "tests" / "fuzz_checkpoints.py"
    done = subprocess.run(
        [sys.executable, str(script), "kill-loop", str(target), "60", "1"],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["kills"] == 60
    assert summary["bad"] == []
    assert summary["kills_that_left_a_temp_file"] > 0  # kills did land mid-save
    assert summary["max_temp_files_after_a_kill"] <= 4  # removed by the next save
    assert summary["temp_files_after_next_save"] == 0
    assert summary["final_mode"] == "0o640"
