"""The Inspect dock end to end, offscreen: sample set, trace, every stage, the numbers shown."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def dock(inspect_dock):
    return inspect_dock


def wait_idle(qtbot, dock) -> None:
    qtbot.waitUntil(lambda: not dock.session.busy, timeout=60000)


def test_trace_matches_model_output(dock, small_model):
    trace = dock.session.trace
    from detector.trace import trace_image

    reference = trace_image(small_model, dock.window.current_image())
    np.testing.assert_array_equal(trace.detections.boxes, reference.detections.boxes)
    assert str(len(trace.detections)) in dock.status.text()


def test_every_stage_draws(dock, qtbot):
    for key in [stage.key for stage in dock.stages]:
        dock.select_stage(key)
        assert dock.panels.currentIndex() == dock.stage_list.currentRow()
        assert dock.current_stage().info.text()
        dock.window.canvas.cursor_moved.emit(100.0, 120.0)


def test_nms_steps_forward_back_and_shows_trace_numbers(dock, qtbot):
    dock.select_stage("nms")
    stage = dock.current_stage()
    trace = dock.session.trace
    label = int(trace.roi.over_class[trace.roi.nms_input[trace.roi.nms.keep[0]]])
    stage.klass.setCurrentIndex(label - 1)
    steps = stage.class_steps()
    assert steps, "the first kept box's class has NMS steps"
    first = steps[0]
    kept_over = trace.roi.nms_input[first.kept]
    assert f"{trace.roi.over_scores[kept_over]:.4f}" in stage.info.text()
    current = dock.window.canvas.boxes_overlay("inspect.nms.current").boxes
    np.testing.assert_allclose(
        current[0], trace.input.boxes_to_image(trace.roi.over_boxes_resized[[kept_over]])[0]
    )
    if len(steps) > 1:
        stage.step_button.click()
        assert stage.step == 1
        assert f"step</td><td align='right'><b>2 / {len(steps)}" in stage.info.text()
        stage.back_button.click()
        assert stage.step == 0
    suppressed = dock.window.canvas.boxes_overlay("inspect.nms.suppressed")
    assert suppressed.labels == [f"IoU {v:.2f}" for v in first.ious]


def test_sliders_preview_then_rerun_exactly(dock, qtbot):
    dock.select_stage("final")
    trace = dock.session.trace
    dock.sliders.set_value("score_thresh", 0.3)
    preview = dock.session.post
    assert preview.score_thresh == pytest.approx(0.3)
    assert (preview.scores > 0.3).all()
    wait_idle(qtbot, dock)
    rerun = trace.rerun(score_thresh=0.3)
    np.testing.assert_array_equal(dock.session.trace.detections.boxes, rerun.detections.boxes)
    np.testing.assert_array_equal(
        dock.session.trace.input.boxes_to_image(preview.boxes_resized), rerun.detections.boxes
    )
    for name, value in [("nms_thresh", 0.3), ("rpn_nms_thresh", 0.5), ("rpn_post_nms_top_n", 50)]:
        dock.sliders.set_value(name, value)
        wait_idle(qtbot, dock)
        assert getattr(dock.session.trace.settings, name) == pytest.approx(value)
    assert len(dock.session.trace.rpn.proposals_resized) <= 50
    drawn = dock.window.canvas.boxes_overlay("inspect.final.boxes").boxes
    np.testing.assert_array_equal(drawn, dock.session.trace.detections.boxes)


def test_box_head_formulas_use_trace_numbers(dock):
    dock.select_stage("boxhead")
    stage = dock.current_stage()
    trace = dock.session.trace
    stage.select(3, 2)
    t = trace.roi.box_regression[3, 2] / np.asarray(trace.roi.box_coder_weights)
    assert ", ".join(f"{x:+.4f}" for x in t) in stage.info.text()
    bars = stage.bars.opts["height"]
    np.testing.assert_array_equal(bars, trace.roi.class_probs[3])


def test_why_on_detection_and_on_missed_ground_truth(dock):
    dock.select_stage("why")
    stage = dock.current_stage()
    trace = dock.session.trace
    assert len(trace.detections) > 0
    box = trace.detections.boxes[0]
    assert stage.click(float(box[0] + 1), float(box[1] + 1)) or stage.answer is not None
    stage.choose("detection", 0)
    assert stage.answer.proposal == trace.provenance.proposal[0]
    assert stage.answer.anchor == trace.provenance.anchor[0]
    assert f"#{trace.provenance.proposal[0]}" in stage.info.text()
    missed = [index for kind, index in stage._entries if kind == "missed"]
    assert missed, "a random-weight model misses some ground truth"
    stage.choose("missed", missed[0])
    assert stage.answer.stage != "found" or "IoU below" in stage.answer.reason
    assert stage.answer.reason in stage.info.text()
