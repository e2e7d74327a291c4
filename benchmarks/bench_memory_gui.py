"""Peak memory of the window's Ctrl+R (detect) on a 24 MP photo vs a 640 x 480 one.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_memory_gui.py [--model shapes]

Each size runs in its own process: open a folder holding one real photograph
(scikit-image's astronaut, resized), load the model (score threshold 0.0: every
detection, masks drawn), press Ctrl+R on the canvas, wait for the predictions, then move
to a second image and back. Prints the peak RSS (``ru_maxrss``) of each process, the RSS
after moving on, and the 24 MP / 0.3 MP ratio (target <= 1.3x). Figures vary with load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def one(folder: Path, model_name: str) -> dict:
    """Drive the window in this process; returns the figures."""
    import torch
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    torch.set_num_threads(1)
    app = QApplication.instance() or QApplication([])
    from app.main_window import MainWindow
    from detector.models import load_model

    def wait(predicate, timeout_s: float) -> None:
        loop, waited = QEventLoop(), 0.0
        while not predicate() and waited < timeout_s:
            QTimer.singleShot(50, loop.quit)
            loop.exec()
            waited += 0.05
        if not predicate():
            raise SystemExit("timed out")

    window = MainWindow()
    window.resize(1200, 800)
    window.show()
    window.open_folder(folder)
    wait(lambda: window.canvas.image is not None, 60)
    window.models.set_model(load_model(model_name, box_score_thresh=0.0))
    window.predictions_dock.set_threshold(0.0)
    first = window.current_image_id
    QTest.keyClick(window.canvas, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    wait(lambda: first in window.detections, 600)
    app.processEvents()
    detections = len(window.detections[first])
    after_detect = rss_mb()
    window.next_image()
    wait(lambda: window.current_image_id != first and window.canvas.image is not None, 60)
    after_moving = rss_mb()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    window.close()
    return {"peak": peak, "detect": after_detect, "moved": after_moving, "n": detections}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="shapes")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.one, args.model)))
        return
    import cv2

    from benchmarks.bench_memory import photo

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for width, height in ((640, 480), (6000, 4000)):
            folder = Path(tmp) / f"{width}x{height}"
            folder.mkdir()
            cv2.imwrite(str(folder / "a_photo.jpg"), photo(width, height)[..., ::-1])
            cv2.imwrite(str(folder / "b_small.jpg"), photo(320, 240)[..., ::-1])
            env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "OMP_NUM_THREADS": "1"}
            command = [sys.executable, __file__, "--model", args.model, "--one", str(folder)]
            done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
            if done.returncode != 0:
                raise SystemExit(done.stderr[-3000:])
            rows.append((f"{width}x{height}", json.loads(done.stdout.strip().splitlines()[-1])))
    print(f"window Ctrl+R, --model {args.model}, score threshold 0.0")
    print(f"{'image':>10} {'peak MB':>8} {'after detect':>12} {'after moving':>12} {'dets':>5}")
    for name, r in rows:
        print(f"{name:>10} {r['peak']:8.0f} {r['detect']:12.0f} {r['moved']:12.0f} {r['n']:5d}")
    print(f"ratio 24 MP / 0.3 MP peak: {rows[1][1]['peak'] / rows[0][1]['peak']:.2f}x (<= 1.3x)")


if __name__ == "__main__":
    main()
