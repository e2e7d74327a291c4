"""Peak memory of ``main.py detect`` on a 12 MP photo vs a 640 x 480 one, and a 20000 x 20000 JPEG.

    python benchmarks/bench_memory.py [--skip-huge] [--model shapes] [--threads 1]

1. Peak RSS (``os.wait4``'s ``ru_maxrss`` of the child process) of
   ``main.py detect PHOTO --model shapes --score-thresh 0.0`` on a 4000 x 3000 JPEG and on a
   640 x 480 JPEG of the same real photograph (scikit-image's astronaut, resized), and their
   ratio (target <= 1.3x: masks are kept as 28 x 28 probabilities, never N image-sized ones).
2. A 20000 x 20000 JPEG: ``load_image`` time (what the window decodes before drawing; reduced
   1/8 by libjpeg) and the peak RSS of ``main.py detect`` on it, vs the 12 MP photo.

Images are written to a temporary folder (nothing is kept). Figures vary with machine load.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def photo(width: int, height: int) -> np.ndarray:
    """A real photograph (scikit-image's astronaut, cropped to the aspect) at width x height."""
    import skimage.data

    image = skimage.data.astronaut()
    crop = image[64:448] if width > height else image
    return cv2.resize(crop, (width, height), interpolation=cv2.INTER_CUBIC)


def peak_rss_mb(args: list[str], threads: int) -> tuple[float, float, str]:
    """(peak RSS in MB, seconds, stderr tail) of ``python main.py ARGS``."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(child.pid, 0)
    err = child.stderr.read().decode(errors="replace") if child.stderr else ""
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"main.py {' '.join(args)} failed ({child.returncode}):\n{err[-2000:]}")
    return usage.ru_maxrss / 1024, time.perf_counter() - started, err.strip()[-300:]


def detect_peak(image: Path, out: Path, model: str, threads: int) -> tuple[float, float, str]:
    return peak_rss_mb(
        ["detect", str(image), "--model", model, "--score-thresh", "0.0", "--out", str(out)],
        threads,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="shapes")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-huge", action="store_true", help="no 20000 x 20000 JPEG")
    parser.add_argument("--write-huge", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_huge is not None:
        big = np.tile(photo(2500, 2500)[..., ::-1], (8, 8, 1))  # 20000 x 20000 x 3 (1.2 GB)
        cv2.imwrite(str(args.write_huge), big, [cv2.IMWRITE_JPEG_QUALITY, 85])
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = []
        for width, height in ((640, 480), (4000, 3000)):
            path = folder / f"photo_{width}x{height}.jpg"
            cv2.imwrite(str(path), photo(width, height)[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 92])
            peak, seconds, _ = detect_peak(path, folder / "out.json", args.model, args.threads)
            count = len(__import__("json").loads((folder / "out.json").read_text())["annotations"])
            rows.append((f"{width}x{height}", peak, seconds, count))
        print(f"main.py detect --model {args.model} --score-thresh 0.0 (threads {args.threads})")
        print(f"{'image':>12} {'peak RSS MB':>12} {'seconds':>8} {'detections':>10}")
        for name, peak, seconds, count in rows:
            print(f"{name:>12} {peak:12.0f} {seconds:8.1f} {count:10d}")
        print(f"ratio 12 MP / 0.3 MP peak RSS: {rows[1][1] / rows[0][1]:.2f}x (target <= 1.3x)")
        if not args.skip_huge:
            huge(folder, args, rows[1][1])


def huge(folder: Path, args: argparse.Namespace, reference_mb: float) -> None:
    from detector.io.images import load_image

    path = folder / "huge_20000.jpg"
    # written by a child process: a parent that once held the 1.2 GB array would hand its
    # high-water RSS to the detect child it spawns (Linux keeps ru_maxrss across the
    # vfork + exec that subprocess uses), inflating the figure measured below
    subprocess.run([sys.executable, __file__, "--write-huge", str(path)], check=True, cwd=ROOT)
    size_mb = path.stat().st_size / 1e6
    started = time.perf_counter()
    loaded = load_image(path)
    seconds = time.perf_counter() - started
    print(
        f"20000x20000 JPEG ({size_mb:.0f} MB): load_image {seconds:.2f} s -> "
        f"{loaded.pixels.shape[1]}x{loaded.pixels.shape[0]} ({loaded.describe()})"
    )
    del loaded
    peak, total, err = detect_peak(path, folder / "huge.json", args.model, args.threads)
    print(
        f"20000x20000 detect: peak RSS {peak:.0f} MB in {total:.1f} s; "
        f"{peak / reference_mb:.2f}x the 12 MP photo's"
    )


if __name__ == "__main__":
    main()
