"""An image above the pixel budget in the window: decoded reduced, drawn at its original
size, edited, detected and inspected in original pixels (issue 13).

The budget is lowered for the test (a real photo of 640 x 480 stands for a 20000 x 20000
one), so the same code path runs in a second instead of decoding gigapixels.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from detector.io import images

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def huge_folder(tmp_path, monkeypatch):
    import skimage.data

    monkeypatch.setattr(images, "MAX_PIXELS", 100_000)  # 640 x 480 is "huge" here ...
    monkeypatch.setattr(images, "REDUCED_MAX_PIXELS", 100_000)  # ... and decodes at 1/2
    photo = cv2.resize(skimage.data.astronaut()[64:448], (640, 480), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(tmp_path / "a_photo.jpg"), photo[..., ::-1])
    cv2.imwrite(str(tmp_path / "b_photo.jpg"), photo[::2, ::2, ::-1])
    return tmp_path


@pytest.fixture
def window(open_window, huge_folder):
    return open_window(huge_folder, size=(1000, 700))


def test_a_reduced_decode_is_drawn_at_its_original_size_and_says_so(qtbot, window):
    canvas = window.canvas
    assert canvas.image.shape[:2] == (240, 320)  # what was decoded (1/2, inside libjpeg)
    assert canvas.image_size() == (640, 480)  # the frame everything is drawn and saved in
    assert "shown at 1/2 (320 x 240 of 640 x 480)" in window.statusBar().currentMessage()
    shown = canvas.mapFromScene(QPointF(640, 480)) - canvas.mapFromScene(QPointF(0, 0))
    assert shown.x() > 2 * 320 * 0.9 * canvas.scale_factor()  # fitted at its full size
    # a box drawn with the mouse lands in original pixels
    canvas.actual_size()
    canvas.horizontalScrollBar().setValue(canvas.horizontalScrollBar().minimum())
    canvas.verticalScrollBar().setValue(canvas.verticalScrollBar().minimum())
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_W)
    viewport = canvas.viewport()
    start, end = canvas.mapFromScene(QPointF(400, 300)), canvas.mapFromScene(QPointF(560, 420))
    qtbot.mousePress(viewport, LEFT, pos=start)
    qtbot.mouseMove(viewport, canvas.mapFromScene(QPointF(480, 360)))
    qtbot.mouseMove(viewport, end)
    qtbot.mouseRelease(viewport, LEFT, pos=end)
    (drawn,) = window.dataset.objects_in(window.current_image_id)
    assert drawn.box == pytest.approx((400, 300, 560, 420), abs=1)
    # the cursor read-out gives the pixel shown there (the reduced decode's)
    window.status.show_cursor(401.0, 301.0)
    r, g, b = canvas.image[150, 200]
    assert window.status.cursor_label.text() == f"x 401, y 301  RGB {r} {g} {b}"


def test_ctrl_r_detects_on_the_reduced_decode_in_original_pixels(qtbot, window, small_model):
    from detector.inference.run import detect

    window.state.models.set_model(small_model)
    window.predictions_dock.set_threshold(0.0)  # random weights: every prediction drawn
    image_id = window.current_image_id
    qtbot.keyClick(window.canvas, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: image_id in window.detections, timeout=60000)
    found = window.detections[image_id]
    expected = detect(small_model, [window.canvas.image])[0]
    assert len(found) == len(expected) > 0
    np.testing.assert_allclose(found.boxes, expected.boxes * 2, rtol=1e-6)
    assert found.image_size == (480, 640)
    predictions = list(window.dataset.predictions_in(image_id))
    assert predictions and all(p.mask["size"] == [480, 640] for p in predictions)
    qtbot.waitUntil(lambda: not window.state.pool.busy(), timeout=20000)
    # the mask layer sits in original pixels too, on a 1:1 grid at this size
    overlay = window.canvas.mask_overlay("masks")
    assert not overlay.pixmap().isNull() and overlay.scale() == 1.0


def test_inspect_traces_the_reduced_decode_and_draws_scaled_up(qtbot, window, small_model):
    window.state.models.set_model(small_model)
    dock = window.docks["inspect_dock"]
    window.workspaces.switch("inspect")
    qtbot.waitUntil(lambda: dock.session.trace is not None and not dock.session.busy, timeout=60000)
    trace = dock.session.trace
    assert trace.input.original_size == (240, 320)  # traced what was decoded
    context = dock.context
    assert context.scale == (2.0, 2.0)
    assert context.frame.transform().m11() == 2.0  # every stage's drawing scaled up
    assert context.to_traced(400.0, 300.0) == (200.0, 150.0)
    dock.select_stage("final")
    shown = window.canvas.mask_overlay("inspect.final.masks")
    assert shown.parentItem() is context.frame


def test_the_decode_cache_keeps_big_images_fewer(qtbot, tmp_path, monkeypatch):
    """Four cached 24 MP photos would hold 800 MB: the cache also has a byte budget, and
    the image on screen is never the one dropped."""
    from app import image_store
    from app.image_store import ImageStore
    from app.workers import WorkerPool

    rng = np.random.default_rng(0)
    paths = {}
    for index in range(4):
        paths[index] = tmp_path / f"img_{index}.png"
        cv2.imwrite(str(paths[index]), rng.integers(0, 255, (200, 300, 3), dtype=np.uint8))
    pool = WorkerPool()
    store = ImageStore(pool)
    store.set_paths(paths)
    one_image = 200 * 300 * 3 + 200 * 300 * 4  # the array and its QImage (no pyramid here)
    monkeypatch.setattr(image_store, "CACHE_BYTES", int(2.5 * one_image))
    for index in range(4):
        with qtbot.waitSignal(store.image_ready, timeout=10000):
            store.request(index)
        assert store.cached(index) is not None  # the one on screen stays
    qtbot.waitUntil(lambda: not pool.busy(), timeout=10000)
    kept = [i for i in range(4) if store.cached(i) is not None]
    assert kept == [2, 3]  # two fit the budget; the oldest went first
    assert sum(store.cached(i).nbytes for i in kept) == 2 * one_image
    pool.shutdown()
