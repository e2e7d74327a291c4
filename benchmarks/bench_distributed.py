"""``torchrun`` detect and eval against one process, side by side in one run.

    python benchmarks/bench_distributed.py [--images 40] [--procs 2]

Prints wall time of ``main.py detect`` over a folder of copies of the sample images with one
process and with ``torchrun --nproc-per-node N`` (CPU, gloo; each process 1 thread, as
torchrun sets it), whether the two output files are byte-identical, and the same for
``main.py eval`` on a synthetic 5,000-image result set. On a machine with one GPU per rank,
run it there to measure GPU scaling (each rank uses cuda:LOCAL_RANK).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed(command: list[str], cwd: Path) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def torchrun(procs: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={procs}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--eval-images", type=int, default=5000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_dist_"))
    photos = work / "photos"
    photos.mkdir()
    samples = sorted((ROOT / "resources" / "samples" / "shapes").glob("*.jpg"))
    for i in range(args.images):
        shutil.copy(samples[i % len(samples)], photos / f"img_{i:05d}.jpg")
    main_py = str(ROOT / "main.py")
    one = timed([sys.executable, main_py, "detect", str(photos), "--out", "one.json"], work)
    many = timed(
        [*torchrun(args.procs), main_py, "detect", str(photos), "--out", "many.json"], work
    )
    same = (work / "one.json").read_bytes() == (work / "many.json").read_bytes()
    print(
        f"detect {args.images} images: 1 process {one:.1f} s, {args.procs} processes "
        f"{many:.1f} s: {one / many:.2f}x; identical output: {same}"
    )

    from tests.detector.evaluation_synthetic import random_coco

    gt, dt = random_coco(0, num_images=args.eval_images, num_classes=20)
    (work / "gt.json").write_text(json.dumps(gt))
    (work / "dt.json").write_text(json.dumps(dt))
    eval_one = timed(
        [sys.executable, main_py, "eval", "gt.json", "dt.json", "--json", "e1.json"], work
    )
    eval_many = timed(
        [*torchrun(args.procs), main_py, "eval", "gt.json", "dt.json", "--json", "e2.json"], work
    )
    same = json.loads((work / "e1.json").read_text()) == json.loads((work / "e2.json").read_text())
    print(
        f"eval {args.eval_images} images, {len(dt)} detections: 1 process {eval_one:.1f} s, "
        f"{args.procs} processes {eval_many:.1f} s: {eval_one / eval_many:.2f}x; identical: {same}"
    )
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
