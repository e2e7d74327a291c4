"""Inspect dock speed, measured in one run on CPU with the bundled model:

* score / NMS slider move -> numpy post-processing preview -> canvas redrawn (budget 50 ms);
* one frame of the canvas (pan / zoom) with every anchor of level '0' and with every
  pre-NMS RPN candidate drawn (budget 33 ms, i.e. 30 frames per second).

    .venv/bin/python benchmarks/bench_inspect.py [MODEL]   (default: the bundled "shapes")
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("DETSCOPE_SETTINGS_DIR", tempfile.mkdtemp(prefix="detscope-bench-"))
os.environ.setdefault("DETSCOPE_NO_AUTOLOAD", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REPEATS = 15


def wait(app, condition, timeout: float = 300.0) -> None:
    started = time.monotonic()
    while not condition():
        app.processEvents()
        time.sleep(0.005)
        if time.monotonic() - started > timeout:
            raise TimeoutError


def render_frame_ms(app, canvas) -> float:
    """Time to repaint the canvas viewport once (what each pan / zoom step costs)."""
    app.processEvents()
    started = time.perf_counter()
    canvas.viewport().repaint()
    return (time.perf_counter() - started) * 1000


def frames(app, canvas) -> tuple[float, float]:
    """Median frame time (ms) while panning, and while zooming."""
    pans, zooms = [], []
    for index in range(REPEATS):
        canvas.horizontalScrollBar().setValue(canvas.horizontalScrollBar().value() + 7)
        pans.append(render_frame_ms(app, canvas))
        canvas.zoom(1.1 if index % 2 == 0 else 1 / 1.1)
        zooms.append(render_frame_ms(app, canvas))
    return statistics.median(pans), statistics.median(zooms)


def main() -> None:
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from detector.models import load_model

    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    window.resize(1280, 900)
    window.show()
    window.open_folder(ROOT / "resources/samples/shapes")
    wait(app, lambda: window.current_image() is not None)
    model = load_model(sys.argv[1] if len(sys.argv) > 1 else "shapes", device="cpu")
    window.models.set_model(model)
    dock = window.docks["inspect_dock"]
    dock.show()
    wait(app, lambda: dock.session.trace is not None and not dock.session.busy)
    print(f"model: {model.describe()}")
    print(f"image {window.current_path().name}: {len(dock.session.trace.detections)} detections")
    dock.select_stage("nms")
    slider_ms(app, dock, "score_thresh", [0.05, 0.1, 0.2, 0.3, 0.4])
    slider_ms(app, dock, "nms_thresh", [0.3, 0.4, 0.5, 0.6, 0.7])
    dock.select_stage("final")
    slider_ms(app, dock, "score_thresh", [0.05, 0.1, 0.2, 0.3, 0.4])
    dock.select_stage("anchors")
    dock.current_stage().draw_all.setChecked(True)
    count = len(
        window.current_image() is not None
        and dock.session.trace.anchors.levels[0]
        and range(dock.session.trace.anchors.levels[0].count)
    )
    report_frames(app, window.canvas, f"all {count:,} anchors of level '0'")
    dock.select_stage("rpn")
    dock.current_stage().view.setCurrentIndex(1)
    count = len(window.canvas.boxes_overlay("inspect.rpn.topk").boxes)
    report_frames(app, window.canvas, f"all {count:,} pre-NMS RPN candidates")
    window.close()


def slider_ms(app, dock, name: str, values: list[float]) -> None:
    """Fast drag (moves back to back: previews only) and slow drag (a pause of 0.25 s after
    each move, so the exact rerun runs in its worker and lands between moves)."""
    stage = dock.current_stage().key
    for pause, how in ((0.0, "fast drag"), (0.25, "slow drag")):
        times = []
        for _ in range(3):
            for value in values:
                started = time.perf_counter()
                dock.sliders.set_value(name, value)
                dock.window.canvas.viewport().repaint()
                app.processEvents()
                times.append((time.perf_counter() - started) * 1000)
                times.extend(landing_ms(app, dock, pause))
        wait(app, lambda: not dock.session.busy)
        print(
            f"{name} slider -> redrawn canvas ({stage} stage, {how}): median "
            f"{statistics.median(times):.1f} ms, max {max(times):.1f} ms over {len(times)} "
            "events (budget 50 ms)"
        )


def landing_ms(app, dock, seconds: float) -> list[float]:
    """For ``seconds``: the event-loop turns in which an exact rerun landed, each with its
    redraw, in ms (the GUI-thread cost of a rerun arriving mid-drag)."""
    turns, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        before = dock.session.trace
        started = time.perf_counter()
        app.processEvents()
        if dock.session.trace is not before:
            dock.window.canvas.viewport().repaint()
            turns.append((time.perf_counter() - started) * 1000)
        time.sleep(0.002)
    return turns


def report_frames(app, canvas, what: str) -> None:
    for zoom, where in ((1.0, "whole image"), (4.0, "zoomed in 4x")):
        canvas.fit()
        canvas.zoom(zoom)
        pan, zoomed = frames(app, canvas)
        print(
            f"{what}, {where}: one frame {pan:.1f} ms panning, {zoomed:.1f} ms zooming "
            f"({1000 / max(pan, zoomed):.0f} fps worst; budget 33 ms)"
        )


if __name__ == "__main__":
    main()
