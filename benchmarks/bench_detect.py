"""Detect throughput and memory: DetScope's pipeline vs a bare loop, side by side in one run.

    python benchmarks/bench_detect.py [--images 60] [--memory-images 500] [--device cpu]

1. Throughput: ``detector.inference.batch.detect_files`` (what ``main.py detect`` runs: threaded
   decoding ahead of the model) vs a bare loop of ``cv2.imread`` + ``model.module([tensor])``
   over the same JPEGs with fasterrcnn_mobilenet_v3_large_320_fpn. Prints the ratio.
2. Memory: resident set size while detecting ``--memory-images`` images, sampled at 10 %
   and at 100 %: flat means the pipeline keeps nothing per image.
3. Launch: ``main.py FOLDER --screenshot`` wall time and whether torch was imported.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from detector.inference.batch import detect_files  # noqa: E402
from detector.inference.run import image_to_tensor  # noqa: E402
from detector.models import load_model  # noqa: E402


def make_jpegs(folder: Path, count: int) -> list[Path]:
    rng = np.random.default_rng(0)
    paths = []
    for index in range(count):
        image = rng.integers(60, 200, (480, 640, 3), dtype=np.uint8)
        for _ in range(4):
            x, y = (int(v) for v in rng.integers(20, 560, 2))
            cv2.circle(image, (x, min(y, 460)), int(rng.integers(10, 60)), (0, 0, 255), -1)
        path = folder / f"img_{index:04d}.jpg"
        cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths.append(path)
    return paths


@torch.inference_mode()
def bare_loop(model, paths: list[Path]) -> float:
    started = time.perf_counter()
    for path in paths:
        bgr = cv2.imread(str(path))
        model.module([image_to_tensor(bgr[..., ::-1].copy(), model.device)])
    return time.perf_counter() - started


def pipeline(model, paths: list[Path], batch_size: int) -> float:
    started = time.perf_counter()
    for _ in detect_files(model, paths, batch_size=batch_size):
        pass
    return time.perf_counter() - started


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def memory_profile(model, paths: list[Path]) -> tuple[float, float]:
    early_at = max(1, len(paths) // 10)
    early = late = 0.0
    for index, _ in enumerate(detect_files(model, paths, batch_size=1), start=1):
        if index == early_at:
            early = rss_mb()
        late = max(late, rss_mb()) if index > early_at else late
    return early, late


def launch_time(folder: Path) -> tuple[float, str]:
    code = (
        f"import sys, time; t=time.perf_counter(); sys.argv=['main.py', {str(folder)!r}, "
        f"'--screenshot', {str(folder / 'shot.png')!r}]; sys.path.insert(0, {str(ROOT)!r}); "
        "import main; main.main(sys.argv[1:]); "
        "print('torch imported' if 'torch' in sys.modules else 'torch not imported')"
    )
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"QT_QPA_PLATFORM": "offscreen", "DETSCOPE_NO_AUTOLOAD": "1", "PATH": "/usr/bin:/bin"},
    )
    return time.perf_counter() - started, out.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=60)
    parser.add_argument("--memory-images", type=int, default=500)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    model = load_model("fasterrcnn_mobilenet_v3_large_320_fpn", weights=None, device=args.device)
    batch = args.batch_size or (4 if model.device.type == "cuda" else 1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = make_jpegs(folder, max(args.images, args.memory_images))
        timed = paths[: args.images]
        bare_loop(model, timed[:3])  # warm-up
        bare_times, pipe_times = [], []
        for _ in range(args.rounds):  # interleaved, so machine load hits both alike
            bare_times.append(bare_loop(model, timed))
            pipe_times.append(pipeline(model, timed, batch))
        bare, pipe = statistics.median(bare_times), statistics.median(pipe_times)
        print(f"device {model.device}, {len(timed)} JPEGs 640x480, batch {batch}")
        print(f"bare loop (cv2.imread + module):  {len(timed) / bare:7.2f} img/s")
        print(f"detect pipeline (detect_files):   {len(timed) / pipe:7.2f} img/s")
        print(f"ratio pipeline / bare:            {bare / pipe:7.3f}x  (goal >= 0.95)")
        early, late = memory_profile(model, paths[: args.memory_images])
        print(
            f"RSS after {args.memory_images // 10} images: {early:.0f} MB; peak after "
            f"{args.memory_images}: {late:.0f} MB; growth {late / early:.3f}x (goal: flat)"
        )
        seconds, torch_state = launch_time(folder)
        print(f"launch to screenshot of first image: {seconds:.2f} s ({torch_state}; goal < 2 s)")


if __name__ == "__main__":
    main()
