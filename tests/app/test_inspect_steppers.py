"""The RPN NMS stepper and the NMS candidate table follow the Trace's recorded NMS steps."""

from __future__ import annotations

import numpy as np
import pytest

from app.inspect.nms_table import KEPT, KEPT_NOW, SUPPRESSED_NOW, WAITING, candidate_rows


@pytest.fixture
def dock(inspect_dock):
    return inspect_dock


def rpn_drawn(dock) -> tuple[np.ndarray, np.ndarray]:
    canvas = dock.window.canvas
    return (
        canvas.boxes_overlay("inspect.rpn.current").boxes,
        canvas.boxes_overlay("inspect.rpn.suppressed").boxes,
    )


def test_rpn_stepper_forward_and_back_follow_the_trace(dock):
    dock.select_stage("rpn")
    stage = dock.current_stage()
    stage.view.setCurrentIndex(2)
    assert stage.step.isVisibleTo(stage.panel) and not stage.shown.isVisibleTo(stage.panel)
    rpn = dock.session.trace.rpn
    steps = rpn.nms.steps
    assert len(steps) >= 3
    boxes = dock.session.trace.input.boxes_to_image(rpn.topk_boxes_resized[rpn.nms_input])
    clicks = [None, stage.step_button, stage.step_button, stage.back_button, stage.back_button]
    for button, index in zip(clicks, [0, 1, 2, 1, 0], strict=True):
        if button is not None:
            button.click()
        assert stage.step.value() == index + 1
        current, suppressed = rpn_drawn(dock)
        np.testing.assert_allclose(current, boxes[[steps[index].kept]], rtol=1e-6)
        np.testing.assert_allclose(suppressed, boxes[steps[index].suppressed].reshape(-1, 4))
        assert f"<b>{index + 1} / {len(steps)} (level" in stage.info.text()
    stage.view.setCurrentIndex(3)
    stage.shown.setValue(5)
    assert stage.step.value() == 1, "the shown count is not the stepper"
    assert len(dock.window.canvas.boxes_overlay("inspect.rpn.proposals").boxes) == 5


def test_candidate_rows_states_at_each_step():
    class Step:
        def __init__(self, kept: int) -> None:
            self.kept = kept

    # NMS inputs 0..3 with scores; 0 keeps and suppresses 2; 1 keeps; 3 is suppressed by 1
    scores = np.array([0.9, 0.8, 0.7, 0.6], np.float32)
    suppressed_by = np.array([-1, -1, 0, 1])
    ious = np.array([np.nan, np.nan, 0.81, 0.66], np.float32)
    steps = [Step(0), Step(1)]
    inputs = np.array([0, 1, 2, 3])
    first = candidate_rows(inputs, scores, steps, suppressed_by, ious, 0)
    assert [r.state for r in first] == [KEPT_NOW, WAITING, SUPPRESSED_NOW, WAITING]
    assert first[2].text == "suppressed by #1, IoU 0.81"
    second = candidate_rows(inputs, scores, steps, suppressed_by, ious, 1)
    assert [r.state for r in second][:2] == [KEPT, KEPT_NOW]
    assert second[3].text == "suppressed by #2, IoU 0.66"
    assert [r.score for r in second] == [float(v) for v in scores]


def test_nms_table_is_synchronised_with_the_step(dock):
    dock.select_stage("nms")
    stage = dock.current_stage()
    post = dock.session.post
    label = int(post.over_class[post.nms_input[post.nms.keep[0]]])
    stage.klass.setCurrentIndex(label - 1)
    rows = stage.table_model.rows
    assert len(rows) == len(stage.candidates())
    assert [r.score for r in rows] == sorted((r.score for r in rows), reverse=True)
    assert rows[0].state == KEPT_NOW and stage.table.currentIndex().row() == 0
    if len(stage.class_steps()) > 1:
        stage.step_button.click()
        now = [i for i, r in enumerate(stage.table_model.rows) if r.state == KEPT_NOW]
        kept = stage.class_steps()[1].kept
        assert stage.candidate_positions()[now[0]] == kept
        stage.go_to_row(0)
        assert stage.step == 0
