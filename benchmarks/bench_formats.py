"""COCO load/save speed and memory of DetScope's data layer vs json + pycocotools, side by side.

    python benchmarks/bench_formats.py [--images 5000 --objects 35000] [--fce-path DIR]

Writes a synthetic COCO file (polygon masks of 8-24 points, 3 extra keys per image, like
real exports) and measures, in one run:
  load:   json.load + pycocotools.coco.COCO(...)   vs  detector.formats.coco.load_coco
  save:   json.dumps of the raw document + write   vs  Dataset.save (atomic, fsync, backup,
          area from masks)
  memory: peak RSS of each load in a fresh process (what the machine gives), and
          tracemalloc's peak and retained bytes (which count orjson's parse buffer as
          reserved, most of it never touched)
and checks that the saved file loads in pycocotools (and faster-coco-eval when importable;
``--fce-path`` appends a folder where it was ``pip install --target``-ed).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from detector.store import save_dataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def make_document(n_images: int, n_objects: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    images = [
        {
            "id": i + 1,
            "file_name": f"img_{i:06d}.jpg",
            "width": 640,
            "height": 480,
            "license": 1,
            "coco_url": f"http://x/{i}.jpg",
            "date_captured": "2024-01-01",
        }
        for i in range(n_images)
    ]
    categories = [{"id": c + 1, "name": f"class_{c}", "supercategory": "thing"} for c in range(80)]
    annotations = []
    for object_id in range(1, n_objects + 1):
        cx, cy = rng.uniform(60, 580), rng.uniform(60, 420)
        radius = rng.uniform(5, 55)
        angles = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(8, 25))))
        xs, ys = cx + radius * np.cos(angles), cy + radius * np.sin(angles)
        polygon = np.round(np.stack([xs, ys], 1).ravel(), 2).tolist()
        x, y = float(xs.min()), float(ys.min())
        annotations.append(
            {
                "id": object_id,
                "image_id": int(rng.integers(1, n_images + 1)),
                "category_id": int(rng.integers(1, 81)),
                "segmentation": [polygon],
                "area": float(np.pi * radius**2),
                "iscrowd": 0,
                "bbox": [
                    round(x, 2),
                    round(y, 2),
                    round(float(xs.max()) - x, 2),
                    round(float(ys.max()) - y, 2),
                ],
            }
        )
    return {
        "info": {"description": "bench"},
        "licenses": [{"id": 1, "name": "x"}],
        "images": images,
        "annotations": annotations,
        "categories": categories,
    }


def timed(function, repeat: int = 1):
    """Best wall time of ``repeat`` runs and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        result = None
        gc.collect()
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def memory(function) -> tuple[int, int]:
    """(peak bytes during, bytes still held after) a call, by tracemalloc."""
    gc.collect()
    tracemalloc.start()
    result = function()
    gc.collect()
    retained = tracemalloc.get_traced_memory()[0]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del result
    return peak, retained


# VmHWM, not ru_maxrss: a child spawned by this (large) process inherits its ru_maxrss
RSS_PROBE = """
import contextlib, io, sys
sys.path.insert(0, sys.argv[3])
from pycocotools.coco import COCO
from detector.formats.coco import load_coco
import numpy, orjson  # everything imported first: the baseline
def high_water():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
before = high_water()
if sys.argv[1] == "pycocotools":
    with contextlib.redirect_stdout(io.StringIO()):
        loaded = COCO(sys.argv[2])
else:
    loaded = load_coco(sys.argv[2])
print((high_water() - before) / 1024)
"""


def rss_peak(kind: str, path: Path) -> float:
    """MB the peak RSS of a fresh process rose while ``kind`` loaded ``path``."""
    import subprocess

    root = str(Path(__file__).resolve().parent.parent)
    done = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, kind, str(path), root],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def pycocotools_load(path: Path):
    import contextlib
    import io

    from pycocotools.coco import COCO

    with contextlib.redirect_stdout(io.StringIO()):  # COCO() prints progress
        return COCO(str(path))


def one_round(path: Path, doc: dict, out: Path) -> tuple[float, float, float, float, float]:
    """One interleaved round (the best of several rounds is reported: fair on a busy machine)."""
    from detector.data.edits import update_object
    from detector.formats.coco import load_coco

    t_ref, _ = timed(lambda: pycocotools_load(path))
    t_ours, dataset = timed(lambda: load_coco(path))
    t_dump, _ = timed(lambda: out.write_bytes(json.dumps(doc).encode()))
    out.unlink()
    t_cold, _ = timed(lambda: save_dataset(dataset, out))  # first save: every mask area is computed
    first = next(iter(dataset.objects.values()))
    dataset.apply(update_object(dataset, first.id, box=(1.0, 1.0, 9.0, 9.0)))
    t_warm, _ = timed(lambda: save_dataset(dataset, out))  # an autosave after one edit
    return t_ref, t_ours, t_dump, t_cold, t_warm


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--objects", type=int, default=35000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fce-path", help="folder with faster_coco_eval (pip install --target)")
    args = parser.parse_args()
    from detector.formats.coco import load_coco

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "annotations.json"
        doc = make_document(args.images, args.objects)
        path.write_text(json.dumps(doc))
        print(
            f"file: {args.images} images, {args.objects} objects, "
            f"{path.stat().st_size / 1e6:.1f} MB"
        )

        rounds = [
            one_round(path, doc, Path(folder) / f"saved_{i}.json") for i in range(args.rounds)
        ]
        t_ref, t_ours, t_dump, t_cold, t_warm = (min(r[k] for r in rounds) for k in range(5))
        saved = Path(folder) / "saved_0.json"
        dataset = load_coco(saved)  # what DetScope wrote, as DetScope reads it back
        print(
            f"load   json.load+COCO(): {t_ref:6.3f} s   load_coco: {t_ours:6.3f} s   "
            f"ratio {t_ours / t_ref:.2f}x (target <= 1.5x, < 3 s)"
        )
        print(
            f"save   json.dumps+write: {t_dump:6.3f} s   Dataset.save first: {t_cold:6.3f} s "
            f"(ratio {t_cold / t_dump:.2f}x)   autosave after an edit: {t_warm:6.3f} s "
            f"(ratio {t_warm / t_dump:.2f}x); saves are atomic + fsync + backup + mask areas"
        )
        del doc

        peak_ref, held_ref = memory(lambda: pycocotools_load(path))
        peak_ours, held_ours = memory(lambda: load_coco(path))
        print(
            f"memory pycocotools peak {peak_ref / 1e6:6.1f} MB held {held_ref / 1e6:6.1f} MB | "
            f"load_coco peak {peak_ours / 1e6:6.1f} MB held {held_ours / 1e6:6.1f} MB | "
            f"ratio peak {peak_ours / peak_ref:.2f}x held {held_ours / held_ref:.2f}x "
            "(tracemalloc)"
        )
        rss_ref, rss_ours = rss_peak("pycocotools", path), rss_peak("load_coco", path)
        print(
            f"memory, peak RSS over the imports (fresh process each): pycocotools "
            f"{rss_ref:.0f} MB, load_coco {rss_ours:.0f} MB: ratio {rss_ours / rss_ref:.2f}x "
            "(target <= 2x)"
        )
        check_readers(saved, dataset, args.fce_path)
    return 0


def check_readers(path: Path, dataset, fce_path: str | None) -> None:
    coco = pycocotools_load(path)
    sample = list(dataset.objects.values())[:: max(1, len(dataset.objects) // 500)]
    same = all(np.allclose(_xyxy(coco.anns[a.id]["bbox"]), a.box) for a in sample)
    print(f"pycocotools reads the saved file: {len(coco.anns)} annotations, boxes equal: {same}")
    if fce_path:
        sys.path.append(fce_path)  # appended: the venv's numpy stays first
    try:
        import faster_coco_eval
    except ImportError:
        print(
            "faster-coco-eval: not installed (pip install --target DIR faster-coco-eval; "
            "--fce-path DIR)"
        )
        return
    fast = faster_coco_eval.COCO(str(path))
    same = all(np.allclose(_xyxy(fast.anns[a.id]["bbox"]), a.box) for a in sample)
    print(
        f"faster-coco-eval {faster_coco_eval.__version__} reads the saved file: "
        f"{len(fast.anns)} annotations, boxes equal: {same}"
    )


def _xyxy(bbox: list[float]) -> tuple[float, float, float, float]:
    x, y, w, h = bbox
    return x, y, x + w, y + h


if __name__ == "__main__":
    sys.exit(main())
