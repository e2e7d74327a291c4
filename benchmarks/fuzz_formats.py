"""Fuzz every file format and checkpoints under a memory cap, and SIGKILL saves (issue 18).

    python benchmarks/fuzz_formats.py --count 100000 [--formats coco voc] [--memory-gb 4]
        [--kills 1000] [--checkpoint-count 1000]

Each format runs in its own subprocess with ``RLIMIT_AS`` set to the memory cap; the child
reports each case's outcome as it goes, so a crash (a signal: segfault, abort) is counted
with its seed and the run resumes at the next seed. Outcomes: ``loaded``, ``clean`` (the
project's own error), ``unexpected`` (any other exception, MemoryError included) and
``crash``. The run succeeds when the last two are 0. The mutator is tests/fuzzing.py's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORMATS = ("coco", "labelme", "voc", "yolo", "checkpoint")

CHILD = """
import resource, sys, tempfile
from pathlib import Path
cap = int(sys.argv[4])
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
sys.path.insert(0, sys.argv[5])
fmt, start, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if fmt == "checkpoint":
    import torch
    torch.set_num_threads(1)
from tests.fuzzing import prepare_workdir, run_case
workdir = Path(tempfile.mkdtemp(prefix="fuzz-"))
prepare_workdir(workdir)
for seed in range(start, stop):
    outcome, detail = run_case(fmt, seed, workdir)
    print(seed, outcome, detail.replace("\\n", " ")[:300], flush=True)
"""


def run_format(fmt: str, count: int, cap_bytes: int) -> dict:
    """Fuzz ``count`` seeds of ``fmt`` in capped subprocesses, resuming after any crash."""
    tally = {"loaded": 0, "clean": 0, "unexpected": 0, "crash": 0, "examples": []}
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    start, began = 0, time.perf_counter()
    while start < count:
        argv = [sys.executable, "-c", CHILD, fmt, str(start), str(count), str(cap_bytes), str(ROOT)]
        child = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT
        )
        last = start - 1
        for line in child.stdout:
            seed_text, outcome, *detail = line.rstrip("\n").split(" ", 2)
            last = int(seed_text)
            tally[outcome] += 1
            if outcome == "unexpected" and len(tally["examples"]) < 5:
                tally["examples"].append(f"seed {last}: {detail[0] if detail else ''}")
        code = child.wait()
        if code != 0 and last + 1 < count:  # died on seed last + 1 (a signal or abort)
            tally["crash"] += 1
            tally["examples"].append(f"seed {last + 1}: crashed (exit {code})")
            start = last + 2
        else:
            start = count
    tally["seconds"] = round(time.perf_counter() - began, 1)
    return tally


def run_kill_loop(kills: int) -> dict:
    target = Path(tempfile.mkdtemp(prefix="killloop-")) / "annotations.json"
    script = ROOT / "tests" / "fuzz_checkpoints.py"
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(script), "kill-loop", str(target), str(kills), "7"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode != 0:
        return {"error": done.stderr[-500:]}
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    summary["seconds"] = round(time.perf_counter() - began, 1)
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="cases per format")
    parser.add_argument(
        "--checkpoint-count", type=int, default=None, help="checkpoint cases (default: --count)"
    )
    parser.add_argument("--formats", nargs="+", default=list(FORMATS), choices=FORMATS)
    parser.add_argument("--memory-gb", type=float, default=4.0)
    parser.add_argument("--kills", type=int, default=1000, help="SIGKILLs during saves (0: skip)")
    args = parser.parse_args()
    cap = int(args.memory_gb * 2**30)
    failed = False
    print(f"memory cap (RLIMIT_AS) {args.memory_gb:g} GB; seeds 0..count-1 per format")
    print(
        f"{'format':<11}{'cases':>8}{'loaded':>9}{'clean':>9}{'unexpected':>12}{'crash':>7}{'s':>8}"
    )
    for fmt in args.formats:
        count = args.count
        if fmt == "checkpoint" and args.checkpoint_count is not None:
            count = args.checkpoint_count
        t = run_format(fmt, count, cap)
        print(
            f"{fmt:<11}{count:>8}{t['loaded']:>9}{t['clean']:>9}{t['unexpected']:>12}"
            f"{t['crash']:>7}{t['seconds']:>8}",
            flush=True,
        )
        for example in t["examples"]:
            print(f"    {example}")
        failed |= bool(t["unexpected"] or t["crash"])
    if args.kills:
        summary = run_kill_loop(args.kills)
        print("kill-during-save:", json.dumps(summary))
        failed |= bool(summary.get("error") or summary.get("bad"))
        failed |= summary.get("temp_files_after_next_save", 1) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
