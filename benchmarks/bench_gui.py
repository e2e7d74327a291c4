"""GUI speed: one frame with 2,000 boxes on a 12 MP image, next-image switch, launch.

Run: ``.venv/bin/python benchmarks/bench_gui.py`` (offscreen). Prints figures and the ratio
to each target from the issue (ratio < 1 meets it), all measured in this one run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtGui import QImage, QPainter  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

TARGET_FRAME_MS, TARGET_SWITCH_MS, TARGET_LAUNCH_S = 16.0, 100.0, 2.0


def make_folder(folder: Path, count: int = 3) -> None:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (3000, 4000, 3), dtype=np.uint8)  # 12 MP
    for index in range(count):
        Image.fromarray(np.roll(base, index * 100, axis=1)).save(
            folder / f"big_{index}.jpg", quality=90
        )


def add_boxes(window, image_id: int, count: int = 2000) -> None:
    from detector.dataset import Annotation
    from detector.edits import AddObjects

    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 3800, (count, 2)) * [1, 0.74]
    size = rng.uniform(20, 200, (count, 2))
    category = window.commands.new_object_category()
    for step in category[1]:
        window.undo.push(step)
    category_id = next(iter(window.dataset.categories))
    objects = tuple(
        Annotation(window.dataset.new_object_id(), image_id, category_id, (x, y, x + w, y + h))
        for (x, y), (w, h) in zip(xy.tolist(), size.tolist(), strict=True)
    )
    window.undo.push(AddObjects(objects))


def wait(app, condition, timeout: float = 60.0) -> None:
    end = time.perf_counter() + timeout
    while not condition() and time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)


def frame_ms(window, repeats: int = 20) -> float:
    viewport = window.canvas.viewport()
    target = QImage(viewport.size(), QImage.Format.Format_RGB32)
    times = []
    for _ in range(repeats):
        painter = QPainter(target)
        started = time.perf_counter()
        window.canvas.render(painter)
        painter.end()
        times.append(time.perf_counter() - started)
    return 1000 * float(np.median(times))


def switch_ms(app, window) -> float:
    first = window.current_image_id
    following = window.images[1]
    wait(app, lambda: window.store.cached(following) is not None)  # prefetched
    started = time.perf_counter()
    window.next_image()
    wait(app, lambda: window.current_image_id != first and window.layer.image_id == following)
    app.processEvents()
    return 1000 * (time.perf_counter() - started)


def launch_s() -> float:
    code = (
        "import time,sys; t=time.perf_counter(); sys.argv=['main.py','--screenshot',"
        f"'{tempfile.gettempdir()}/bench_launch.png']; import app.launch as l; "
        "r=l.main(sys.argv[1:]); print('LAUNCH', time.perf_counter()-t)"
    )
    env = {**os.environ, "DETSCOPE_NO_AUTOLOAD": "1", "DETSCOPE_SETTINGS_DIR": tempfile.mkdtemp()}
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    total = time.perf_counter() - started
    inside = [line for line in out.stdout.splitlines() if line.startswith("LAUNCH")]
    return float(inside[0].split()[1]) if inside else total


def main() -> None:
    os.environ.setdefault("DETSCOPE_SETTINGS_DIR", tempfile.mkdtemp())
    from app.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        make_folder(folder)
        window = MainWindow()
        window.resize(1400, 900)
        window.show()
        window.open_folder(folder)
        wait(app, lambda: window.canvas.image is not None)
        add_boxes(window, window.current_image_id)
        window.autosave.flush()
        app.processEvents()
        fit = frame_ms(window)
        window.canvas.actual_size()
        full = frame_ms(window)
        switch = switch_ms(app, window)
        window.close()
    launch = launch_s()
    print(
        f"frame, 2000 boxes, 12 MP, fit to window : {fit:7.2f} ms  (target {TARGET_FRAME_MS} ms, ratio {fit / TARGET_FRAME_MS:.2f})"
    )
    print(
        f"frame, 2000 boxes, 12 MP, 100 %          : {full:7.2f} ms  (target {TARGET_FRAME_MS} ms, ratio {full / TARGET_FRAME_MS:.2f})"
    )
    print(
        f"next 12 MP JPEG (prefetched) until drawn: {switch:7.2f} ms  (target {TARGET_SWITCH_MS} ms, ratio {switch / TARGET_SWITCH_MS:.2f})"
    )
    print(
        f"launch to drawn window, sample set      : {launch:7.2f} s   (target {TARGET_LAUNCH_S} s, ratio {launch / TARGET_LAUNCH_S:.2f})"
    )


if __name__ == "__main__":
    main()
