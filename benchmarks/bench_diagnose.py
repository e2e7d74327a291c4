"""Diagnosis speed and memory: DetScope's TIDE (+ COCO analyze) vs tidecv 1.0.1, one run each.

    python benchmarks/bench_diagnose.py [--images 500] [--skip-tidecv] [--whatif-images 1000]

Uses bench_eval.py's seeded synthetic set (80 classes, ~7 ground truths and 100 detections
per image). Each engine runs in its own subprocess (peak RSS from ru_maxrss, which includes
the interpreter and imports); both read the same JSON files, and the main / special dAPs
are checked to agree. Then the what-if: a score-threshold change answered from cached
detections of --whatif-images images (COCO mAP recomputed, as the Diagnose tab's sweep
does), in this process. tidecv needs numpy < 2 aliases on some versions: the runner adds
np.float/np.int/np.bool only if missing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_eval import synthetic_set  # noqa: E402

RUNNER = """
import json, resource, sys, time, contextlib, io
import numpy as np
for alias, kind in (("float", float), ("int", int), ("bool", bool)):
    if not hasattr(np, alias):
        setattr(np, alias, kind)
GT, DT, ROOT, WHAT = {gt!r}, {dt!r}, {root!r}, {what!r}
sys.path.insert(0, ROOT)
if WHAT == "tidecv":
    from tidecv import TIDE, Data
    with contextlib.redirect_stdout(io.StringIO()):
        t0 = time.perf_counter()
        doc = json.load(open(GT)); results = json.load(open(DT))
        gt, dt = Data("gt"), Data("dt")  # as tidecv's datasets.COCO, boxes only (no masks)
        for image in doc["images"]:
            gt.add_image(image["id"], image["file_name"])
        for cat in doc["categories"]:
            gt.add_class(cat["id"], cat["name"])
        for ann in doc["annotations"]:
            add = gt.add_ignore_region if ann["iscrowd"] else gt.add_ground_truth
            add(ann["image_id"], ann["category_id"], ann["bbox"], None)
        for det in results:
            dt.add_detection(det["image_id"], det["category_id"], det["score"], det["bbox"], None)
        tide = TIDE(); run = tide.evaluate(gt, dt, mode=TIDE.BOX, name="run")
        errors = tide.get_all_errors()
        seconds = time.perf_counter() - t0
    name = next(iter(errors["main"]))
    main, special = errors["main"][name], errors["special"][name]
    extra = {{}}
else:
    from detector.diagnosis import coco_analyze, tide
    from detector.evaluation import from_coco
    t0 = time.perf_counter()
    gt = json.load(open(GT)); dt = json.load(open(DT))
    result = tide(from_coco(gt, dt))
    seconds = time.perf_counter() - t0
    if WHAT == "detscope+analyze":
        t1 = time.perf_counter(); coco_analyze(from_coco(gt, dt)); extra = {{"analyze_s": time.perf_counter() - t1}}
        seconds = time.perf_counter() - t0
    else:
        extra = {{}}
    main, special = result.main, result.special
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"seconds": seconds, "main": main, "special": special, "peak_mb": peak, **extra}}))
"""


def run(what: str, gt_path: str, dt_path: str) -> dict:
    code = RUNNER.format(gt=gt_path, dt=dt_path, root=str(ROOT), what=what)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{what} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--skip-tidecv", action="store_true")
    parser.add_argument("--whatif-images", type=int, default=1000)
    args = parser.parse_args()
    whatif(args.whatif_images)
    gt, dt = synthetic_set(args.images)
    with tempfile.TemporaryDirectory() as folder:
        gt_path, dt_path = f"{folder}/gt.json", f"{folder}/dt.json"
        Path(gt_path).write_text(json.dumps(gt))
        Path(dt_path).write_text(json.dumps(dt))
        print(f"{args.images} images, {len(gt['annotations'])} ground truths, {len(dt)} detections")
        ours = run("detscope", gt_path, dt_path)
        both = run("detscope+analyze", gt_path, dt_path)
        print(f"DetScope TIDE            {ours['seconds']:8.2f} s  peak {ours['peak_mb']:7.0f} MB")
        print(
            f"DetScope TIDE + analyze  {both['seconds']:8.2f} s  peak {both['peak_mb']:7.0f} MB"
            f"  (analyze {both['analyze_s']:.2f} s)"
        )
        if args.skip_tidecv:
            return
        oracle = run("tidecv", gt_path, dt_path)
        print(
            f"tidecv 1.0.1 TIDE        {oracle['seconds']:8.2f} s  peak {oracle['peak_mb']:7.0f} MB"
        )
        worst = max(
            abs(oracle[part][k] - ours[part][k]) for part in ("main", "special") for k in ours[part]
        )
        print(f"largest |dAP difference| vs tidecv: {worst:.2e}")
        print(
            f"speed-up: TIDE {oracle['seconds'] / ours['seconds']:.1f}x, "
            f"TIDE + analyze {oracle['seconds'] / both['seconds']:.1f}x; "
            f"peak memory ratio (tidecv / TIDE + analyze) {oracle['peak_mb'] / both['peak_mb']:.2f}"
        )


def whatif(num_images: int) -> None:
    """Seconds to redraw the dataset mAP for one new score threshold from cached detections."""
    import time

    sys.path.insert(0, str(ROOT))
    from detector.diagnosis.sweeps import score_sweep
    from detector.evaluation import from_coco

    gt, dt = synthetic_set(num_images, seed=3)
    data = from_coco(gt, dt)
    times = []
    for value in (0.3, 0.5, 0.7):
        t0 = time.perf_counter()
        score_sweep(data, [value])
        times.append(time.perf_counter() - t0)
    print(
        f"what-if score threshold over {num_images} cached images ({len(dt)} detections): "
        f"median {sorted(times)[1]:.2f} s per threshold (target < 1 s)"
    )


if __name__ == "__main__":
    main()
