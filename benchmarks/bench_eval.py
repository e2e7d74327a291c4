"""Evaluation speed and memory: DetScope vs pycocotools vs faster-coco-eval, one run.

    python benchmarks/bench_eval.py [--images 5000] [--skip-pycocotools]
                                    [--only-incremental] [--only-confusion]

Builds a seeded synthetic COCO set (80 classes, ~7 ground truths and ~100 detections per
image, bbox), runs each engine's evaluate + accumulate in its own subprocess (peak RSS
from ru_maxrss), checks the 12 stats agree, then times DetScope's incremental update
after editing one image and the confusion matrix (with its per-cell image lists) and
``to_json()`` of the whole set. faster-coco-eval is installed only for this script into
/tmp/fce (pip install --target /tmp/fce faster-coco-eval).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FCE_DIR = "/tmp/fce"

ENGINE_CODE = {
    "pycocotools": """
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
gt = COCO(GT); dt = gt.loadRes(DT)
t0 = time.perf_counter(); e = COCOeval(gt, dt, 'bbox'); e.evaluate(); e.accumulate()
seconds = time.perf_counter() - t0; e.summarize(); stats = list(e.stats)
""",
    "faster-coco-eval": """
sys.path.insert(0, FCE_DIR)
from faster_coco_eval import COCO, COCOeval_faster
gt = COCO(GT); dt = gt.loadRes(DT)
t0 = time.perf_counter(); e = COCOeval_faster(gt, dt, 'bbox'); e.evaluate(); e.accumulate()
seconds = time.perf_counter() - t0; e.summarize(); stats = list(e.stats)
""",
    "detscope": """
sys.path.insert(0, ROOT)
from detector.evaluation import evaluate, from_coco
gt = json.load(open(GT)); dt = json.load(open(DT))
t0 = time.perf_counter(); result = evaluate(from_coco(gt, dt), 'bbox')
seconds = time.perf_counter() - t0; stats = list(result.stats)
""",
}

RUNNER = """
import contextlib, io, json, resource, sys, time
GT, DT, ROOT, FCE_DIR = {gt!r}, {dt!r}, {root!r}, {fce!r}
with contextlib.redirect_stdout(io.StringIO()):
{body}
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"seconds": seconds, "stats": [float(s) for s in stats], "peak_mb": peak}}))
"""


def synthetic_set(num_images: int, seed: int = 0) -> tuple[dict, list[dict]]:
    """~7 ground truths and ~100 detections per image over 80 classes, seeded."""
    rng = np.random.default_rng(seed)
    images, annotations, results = [], [], []
    for image_id in range(1, num_images + 1):
        images.append({"id": image_id, "file_name": f"{image_id}.jpg", "width": 640, "height": 480})
        gt_boxes = _random_boxes(rng, int(rng.poisson(7)))
        gt_labels = rng.integers(1, 81, len(gt_boxes))
        for box, label in zip(gt_boxes, gt_labels, strict=True):
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": int(label),
                    "bbox": box.tolist(),
                    "area": float(box[2] * box[3]),
                    "iscrowd": int(rng.random() < 0.02),
                }
            )
        near = np.repeat(np.arange(len(gt_boxes)), 4)
        boxes = np.concatenate([_jitter(rng, gt_boxes[near]), _random_boxes(rng, 100 - len(near))])
        labels = np.concatenate(
            [
                np.where(
                    rng.random(len(near)) < 0.8, gt_labels[near], rng.integers(1, 81, len(near))
                ),
                rng.integers(1, 81, 100 - len(near)),
            ]
        )
        scores = np.round(rng.random(len(boxes)), 4)
        for box, label, score in zip(boxes, labels, scores, strict=True):
            results.append(
                {
                    "image_id": image_id,
                    "category_id": int(label),
                    "bbox": box.tolist(),
                    "score": float(score),
                }
            )
    categories = [{"id": c, "name": f"class{c}"} for c in range(1, 81)]
    return {"images": images, "annotations": annotations, "categories": categories}, results


def _random_boxes(rng, count: int) -> np.ndarray:
    xy = rng.uniform(0, 560, (count, 2))
    wh = rng.uniform(8, 200, (count, 2)) * rng.choice([0.15, 0.5, 1.0], (count, 1))
    return np.round(np.concatenate([xy, wh], 1), 2)


def _jitter(rng, boxes: np.ndarray) -> np.ndarray:
    noise = rng.normal(0, 0.1, boxes.shape)
    out = boxes + noise * boxes[:, [2, 3, 2, 3]]
    out[:, 2:] = np.maximum(out[:, 2:], 1.0)
    return np.round(out, 2)


def run_engine(name: str, gt_path: str, dt_path: str) -> dict:
    body = "\n".join("    " + line for line in ENGINE_CODE[name].strip().splitlines())
    code = RUNNER.format(gt=gt_path, dt=dt_path, root=str(ROOT), fce=FCE_DIR, body=body)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def incremental_timing(
    gt: dict, dt: list[dict], edits: int = 40
) -> tuple[float, float, float, float, bool]:
    """(median wall, median CPU of this thread, max wall) ms of update_image + result(),
    the full evaluate's ms (median of three, in this process), and whether the
    incremental result equals a full run. CPU time shows the cost on a shared machine."""
    sys.path.insert(0, str(ROOT))
    from detector.evaluation import ImageInstances, IncrementalEvaluator, evaluate, from_coco

    evaluator = IncrementalEvaluator(from_coco(gt, dt))
    evaluator.result()
    rng = np.random.default_rng(1)
    times, cpu_times = [], []
    for image_id in rng.choice([img["id"] for img in gt["images"]], edits, replace=False):
        old = evaluator.data.detections(int(image_id))
        keep = rng.random(len(old)) < 0.7
        moved = old.boxes[keep] + rng.normal(0, 2, (int(keep.sum()), 4))
        new = ImageInstances(
            boxes=moved, labels=old.labels[keep], scores=rng.random(int(keep.sum()))
        )
        start, cpu_start = time.perf_counter(), time.thread_time()
        evaluator.update_image(int(image_id), dt=new)
        evaluator.result()
        times.append((time.perf_counter() - start) * 1000)
        cpu_times.append((time.thread_time() - cpu_start) * 1000)
    full_times = []
    for _ in range(3):
        start = time.perf_counter()
        full = evaluate(evaluator.data)
        full_times.append((time.perf_counter() - start) * 1000)
    ours = evaluator.result()
    same = bool(
        np.array_equal(full.precision, ours.precision)
        and np.array_equal(full.recall, ours.recall)
        and np.array_equal(full.stats, ours.stats)
    )
    medians = float(np.median(times)), float(np.median(cpu_times))
    return *medians, float(max(times)), float(np.median(full_times)), same


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--skip-pycocotools", action="store_true")
    parser.add_argument(
        "--only-incremental", action="store_true", help="time only the incremental update"
    )
    parser.add_argument(
        "--only-confusion", action="store_true", help="time only the confusion matrix"
    )
    args = parser.parse_args()
    if args.only_incremental or args.only_confusion:
        gt, dt = synthetic_set(args.images)
        (print_incremental if args.only_incremental else print_confusion)(gt, dt)
        return 0
    if not Path(FCE_DIR, "faster_coco_eval").exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--target", FCE_DIR, "faster-coco-eval"],
            check=True,
        )
    gt, dt = synthetic_set(args.images)
    print(
        f"set: {len(gt['images'])} images, 80 classes, {len(gt['annotations'])} ground "
        f"truths, {len(dt)} detections (bbox)"
    )
    with tempfile.TemporaryDirectory() as folder:
        gt_path, dt_path = str(Path(folder, "gt.json")), str(Path(folder, "dt.json"))
        Path(gt_path).write_text(json.dumps(gt))
        Path(dt_path).write_text(json.dumps(dt))
        engines = ["detscope", "faster-coco-eval"]
        engines += [] if args.skip_pycocotools else ["pycocotools"]
        runs = {name: run_engine(name, gt_path, dt_path) for name in engines}
    for name, run in runs.items():
        print(
            f"{name:>17}: evaluate+accumulate {run['seconds']:8.2f} s, "
            f"peak RSS {run['peak_mb']:7.0f} MB, AP {run['stats'][0]:.6f}"
        )
    ours = runs["detscope"]
    for name, run in runs.items():
        if name == "detscope":
            continue
        diff = float(np.max(np.abs(np.array(run["stats"]) - np.array(ours["stats"]))))
        print(
            f"detscope vs {name}: {run['seconds'] / ours['seconds']:.1f}x faster, "
            f"memory {ours['peak_mb'] / run['peak_mb']:.2f}x, max |stats diff| {diff:.1e}"
        )
    print_incremental(gt, dt)
    print_confusion(gt, dt)
    return 0


def print_confusion(gt: dict, dt: list[dict]) -> None:
    """Median of three: ``confusion_matrix()`` (IoU 0.5, per-cell images) and ``to_json()``."""
    sys.path.insert(0, str(ROOT))
    from detector.evaluation import evaluate, from_coco

    result = evaluate(from_coco(gt, dt), "bbox")
    times, json_times = [], []
    for _ in range(3):
        start = time.perf_counter()
        matrix = result.confusion_matrix(0.5)
        times.append(time.perf_counter() - start)
        start = time.perf_counter()
        result.to_json()
        json_times.append(time.perf_counter() - start)
    print(
        f"confusion matrix (IoU 0.5, {len(result.image_ids)} images, per-cell image lists): "
        f"{np.median(times):.3f} s; to_json {np.median(json_times):.3f} s; "
        f"{int(matrix.matrix.sum())} events, {matrix.ignored_detections} ignored"
    )


def print_incremental(gt: dict, dt: list[dict]) -> None:
    median_ms, cpu_ms, max_ms, full_ms, same = incremental_timing(gt, dt)
    print(
        f"incremental update of one image: median {median_ms:.1f} ms (CPU {cpu_ms:.1f} ms), "
        f"max {max_ms:.1f} ms "
        f"(full evaluate {full_ms:.0f} ms: {median_ms / full_ms:.3f}x of it), "
        f"equal to a full run: {same}"
    )


if __name__ == "__main__":
    sys.exit(main())
