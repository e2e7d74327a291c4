"""``--screenshot``: wait until the window shows what was asked, save it, exit."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer

TIMEOUT_S = 180.0


def window_ready(window, detect: bool) -> bool:
    """The first image is drawn (or known unreadable) and, with ``detect``, detected."""
    if window.dataset is None or not window.images:
        return True
    image_id = window.current_image_id
    if image_id in window.unreadable:
        return not window.pool.busy()
    if image_id is None or window.canvas.image is None or window.layer.image_id != image_id:
        return False
    if detect and image_id not in window.detections:
        return False
    return not window.pool.busy()


def capture_when_ready(
    app, window, out: Path, *, detect: bool = False, ready: Callable[[], bool] = lambda: True
) -> int:
    """Poll until ready (or a timeout), grab the whole window to ``out``, quit; exit code."""
    started = time.monotonic()
    result = {"code": 0}
    if detect:
        window.detect_current_when_ready()

    def poll() -> None:
        timed_out = time.monotonic() - started > TIMEOUT_S
        if not ((window_ready(window, detect) and ready()) or timed_out):
            return
        timer.stop()
        app.processEvents()
        out.parent.mkdir(parents=True, exist_ok=True)
        ok = window.grab().save(str(out))
        print(
            f"screenshot {'saved to' if ok else 'FAILED for'} {out}"
            + (" (timed out waiting)" if timed_out else "")
        )
        result["code"] = 0 if ok and not timed_out else 1
        window.close()
        app.quit()

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(20)
    app.exec()
    return result["code"]
