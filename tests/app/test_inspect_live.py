"""Slider responsiveness: one exact rerun in flight at a time, previews remembered, the
pasted masks composed around their boxes only."""

from __future__ import annotations

import numpy as np
import pytest

from app.inspect.stage_final import mask_layer
from app.palette import class_color


@pytest.fixture
def dock(inspect_dock):
    return inspect_dock


def wait_idle(qtbot, dock) -> None:
    qtbot.waitUntil(lambda: not dock.session.busy, timeout=60000)


def test_one_rerun_in_flight_and_the_latest_settings_win(dock, qtbot):
    session = dock.session
    dock.select_stage("final")
    session.set_settings(score_thresh=0.3)
    session._rerun_timer.stop()
    session._start_rerun()
    session.set_settings(score_thresh=0.4)
    session._rerun_timer.stop()
    session._start_rerun()
    assert session._running == 1, "a second rerun waits for the first"
    wait_idle(qtbot, dock)
    assert session._running == 0
    assert session.trace.settings.score_thresh == pytest.approx(0.4)
    assert session.exact


def test_preview_of_a_slider_position_seen_before_is_reused(dock, qtbot):
    dock.select_stage("nms")
    sliders = dock.sliders
    sliders.set_value("score_thresh", 0.3)
    first = dock.session.post
    sliders.set_value("score_thresh", 0.4)
    assert dock.session.post is not first
    sliders.set_value("score_thresh", 0.3)
    assert dock.session.post is first
    assert first.steps is first.steps  # computed once
    wait_idle(qtbot, dock)


def test_mask_layer_equals_composing_every_whole_mask(dock):
    trace = dock.session.trace
    assert trace.masks is not None and len(trace.detections)
    colors = [class_color(int(v)) for v in trace.detections.labels]
    expected = np.zeros((*trace.detections.image_size, 4), np.uint8)
    for index, color in enumerate(colors):
        expected[trace.detections.mask(index)] = (color.red(), color.green(), color.blue(), 110)
    assert (expected[..., 3] > 0).any()
    layer = mask_layer(trace.detections, colors).to_image(*trace.detections.image_size)
    np.testing.assert_array_equal(layer, expected)
    dock.select_stage("final")
    shown = dock.window.canvas.mask_overlay("inspect.final.masks")
    assert shown.isVisible()


def test_a_rerun_overtaken_by_a_slider_move_is_not_shown(dock, qtbot):
    session = dock.session
    dock.select_stage("final")
    shown = []
    session.trace_changed.connect(lambda trace: shown.append(trace.settings.score_thresh))
    session.set_settings(score_thresh=0.3)
    session._rerun_timer.stop()
    session._start_rerun()  # in flight at 0.3
    session.set_settings(score_thresh=0.4)  # the slider moves on before it lands
    wait_idle(qtbot, dock)
    assert shown and all(value == pytest.approx(0.4) for value in shown)
    assert session.exact
