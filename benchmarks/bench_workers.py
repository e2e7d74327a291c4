"""Worker round trip: the one worker API (app/workers.py, a QThreadPool) against the
QThread-per-job pool it replaced, side by side.

Run: ``.venv/bin/python benchmarks/bench_workers.py [--old PATH_TO_OLD_WORKERS.py]``
(offscreen). Times N tiny jobs started from the GUI thread until every result reached the
GUI thread (what an image switch or a slider rerun pays on top of its real work), and a
generator job's progress events. Prints milliseconds and the new / old ratio (< 1: faster).
Without ``--old`` only the new pool is measured.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402


def tiny(value: int) -> int:
    return value + 1


def steps(count: int):
    for index in range(count):
        yield index + 1, count, "step"
    return count


def _finish_kwargs(module_name: str, done: list) -> dict:
    if module_name == "new":
        return {"on_returned": done.append}
    return {"on_finished": done.append}


def round_trip_ms(app, pool, module_name: str, jobs: int) -> float:
    done: list = []
    started = time.perf_counter()
    for index in range(jobs):
        pool.start(tiny, index, **_finish_kwargs(module_name, done))
    while len(done) < jobs:
        app.processEvents()
    seconds = time.perf_counter() - started
    while pool.busy():
        app.processEvents()
    return 1000 * seconds


def progress_ms(app, pool, module_name: str, count: int) -> float:
    done: list = []
    seen: list = []
    started = time.perf_counter()
    pool.start(
        steps, count, on_progress=lambda *a: seen.append(a), **_finish_kwargs(module_name, done)
    )
    while not done:
        app.processEvents()
    seconds = time.perf_counter() - started
    while pool.busy():
        app.processEvents()
    assert len(seen) == count
    return 1000 * seconds


def measure(app, module, name: str, jobs: int, repeats: int) -> dict[str, float]:
    pool = module.WorkerPool()
    trips = [round_trip_ms(app, pool, name, jobs) for _ in range(repeats)]
    progress = [progress_ms(app, pool, name, 1000) for _ in range(repeats)]
    pool.shutdown()
    return {
        f"{jobs} tiny jobs, start -> all results on GUI thread": statistics.median(trips),
        "1 generator job, 1000 progress events": statistics.median(progress),
    }


def load(path: Path):
    spec = importlib.util.spec_from_file_location("old_workers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, help="the replaced app/workers.py (git show ...)")
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    from app import workers

    new = measure(app, workers, "new", args.jobs, args.repeats)
    old = measure(app, load(args.old), "old", args.jobs, args.repeats) if args.old else {}
    for name, value in new.items():
        line = f"{name:<52}: new {value:8.1f} ms"
        if name in old:
            line += f", old {old[name]:8.1f} ms, ratio {value / old[name]:.2f}"
        print(line)


if __name__ == "__main__":
    main()
