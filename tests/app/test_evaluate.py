"""The Evaluate dock end to end on the bundled sample set, offscreen.

Detections are precomputed from the ground truth (jittered, some dropped, some mislabelled,
some invented) and put in the dock's per-image cache, so no model runs here; the numbers
are checked against the engine behind ``python main.py eval`` on the same COCO files.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from fakes import FakeModel, fake_detections
from PySide6.QtCore import Qt

from detector.data.edits import update_object
from detector.evaluation.from_dataset import CachedDetections, file_signature, model_key
from detector.store import save_dataset


@pytest.fixture
def folder(sample_folder):
    return sample_folder


@pytest.fixture
def window(open_window, folder):
    return open_window(folder, size=(1400, 900))


@pytest.fixture
def dock(window, evaluated_dock):
    """The dock after a finished evaluation of the sample set with cached detections."""
    return evaluated_dock(window)


def engine_result(dataset, detections):
    """What ``main.py eval GT.json DT.json`` computes, from the same COCO content."""
    from detector.evaluation import evaluate, from_coco

    gt = json.loads((dataset.root / "annotations.json").read_text())
    results = []
    for image_id, dets in detections.items():
        for box, label, score in zip(dets.boxes, dets.labels, dets.scores, strict=True):
            x1, y1, x2, y2 = (float(v) for v in box)
            results.append(
                {
                    "image_id": image_id,
                    "category_id": int(label),
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "score": float(score),
                }
            )
    return evaluate(from_coco(gt, results), "bbox")


def test_table_equals_eval_cli_engine(dock):
    dataset = dock.state.dataset
    expected = {row.name: row for row in engine_result(dataset, fake_detections(dataset)).per_class}
    rows = {row.name: row for row in dock.view.rows}
    assert set(rows) == {"circle", "square", "triangle", "star", "hexagon"}
    for name, row in rows.items():
        assert row.ap50 == pytest.approx(expected[name].ap50, abs=1e-12)
        assert row.ap75 == pytest.approx(expected[name].ap75, abs=1e-12)
        assert row.ar == pytest.approx(expected[name].ar100, abs=1e-12)
        assert row.num_gt == expected[name].num_gt
        assert row.tp + row.fn == row.num_gt
    shown = {cells[0]: cells for cells in dock.table.values()}
    assert shown["circle"][2] == f"{expected['circle'].ap50:.3f}"
    dock.controls.iou_combo.setCurrentIndex(2)  # 0.50:0.95
    rows = {row.name: row for row in dock.view.rows}
    assert rows["star"].ap == pytest.approx(expected["star"].ap, abs=1e-12)
    dock.controls.definition_combo.setCurrentIndex(1)  # VOC 11-point
    dock.controls.iou_combo.setCurrentIndex(0)
    rows = {row.name: row for row in dock.view.rows}
    assert rows["square"].ap == pytest.approx(expected["square"].voc2007_ap50, abs=1e-12)
    assert dock.controls.headline.text().startswith("mAP ")


def test_table_sorts_numerically(dock):
    dock.table.sortByColumn(5, Qt.SortOrder.DescendingOrder)  # GT count
    counts = [int(cells[5]) for cells in dock.table.values()]
    assert counts == sorted(counts, reverse=True)


def test_click_on_curve_point_lands_on_its_detection(qtbot, dock, window):
    dock.controls.select_category(2)  # square: raw points coloured TP / FP
    curve = dock.view.curves[2]
    index = int(np.flatnonzero(~curve.true_positive)[0])  # a false positive
    image_id = int(curve.image_ids[index])
    dock.plot.plot.getPlotItem().getViewBox().setRange(
        xRange=(curve.recall[index] - 0.01, curve.recall[index] + 0.01),
        yRange=(curve.precision[index] - 0.01, curve.precision[index] + 0.01),
        padding=0,
    )
    position = dock.plot.widget_pos(2, index)
    qtbot.mouseMove(dock.plot.plot.viewport(), position)
    assert dock.plot.hovered is not None and dock.plot.hovered.index == index
    assert "precision" in dock.plot.info_label.text()
    qtbot.mouseClick(dock.plot.plot.viewport(), Qt.MouseButton.LeftButton, pos=position)
    qtbot.waitUntil(lambda: dock.state.current_image_id == image_id, timeout=10000)
    qtbot.waitUntil(lambda: len(window.canvas.boxes_overlay("evaluation_focus").boxes) == 1)
    focus = window.canvas.boxes_overlay("evaluation_focus").boxes[0]
    dt = dock.live.result().data.detections(image_id)
    x, y, w, h = dt.boxes[curve.detection_indices[index]]
    np.testing.assert_allclose(focus, [x, y, x + w, y + h])
    marks = window.canvas.boxes_overlay("evaluation")
    if curve.scores[index] >= dock.controls.score_spin.value():
        row = int(np.flatnonzero(np.all(np.isclose(marks.boxes, focus), axis=1))[0])
        assert marks.labels[row].startswith("FP square")


def test_editing_a_box_changes_the_ap(qtbot, dock):
    dataset = dock.state.dataset
    before = {row.name: row.ap for row in dock.view.rows}
    circle = next(o for o in dataset.iter_objects() if o.category_id == 1)
    with qtbot.waitSignal(dock.view_updated, timeout=5000):
        dataset.apply(update_object(dataset, circle.id, box=(0.0, 0.0, 4.0, 4.0)))
    after = {row.name: row.ap for row in dock.view.rows}
    assert after["circle"] != before["circle"]
    assert after["square"] == before["square"]
    save_dataset(dataset, force=True)
    expected = engine_result(dataset, fake_detections_of(dock))
    circle_row = next(r for r in expected.per_class if r.name == "circle")
    assert after["circle"] == pytest.approx(circle_row.ap50, abs=1e-12)


def fake_detections_of(dock) -> dict[int, CachedDetections]:
    """The detections the dock evaluated, back from its cache."""
    dataset, key = dock.state.dataset, model_key(FakeModel())
    return {
        i: dock.runner.cache.get(i, file_signature(dataset.image_path(i)), key)
        for i in dataset.images
    }


def test_error_filters_list_images_by_errors(qtbot, dock, window):
    errors = dock.view.image_errors
    dock.tabs.setCurrentWidget(dock.errors)
    dock.errors.set_mode("fp")
    shown = dock.errors.shown_ids()
    assert shown and all(errors[i][0] > 0 for i in shown)
    assert len(shown) == sum(fp > 0 for fp, _ in errors.values())
    assert [errors[i][0] for i in shown] == sorted((errors[i][0] for i in shown), reverse=True)
    if hasattr(window.image_dock, "visible_ids"):
        assert window.image_dock.visible_ids() == shown
    dock.errors.set_mode("fn")
    assert all(errors[i][1] > 0 for i in dock.errors.shown_ids())
    first = dock.errors.model.index(0, 0)
    target = dock.errors.shown_ids()[0]
    assert f"FN {errors[target][1]}" in first.data()
    dock.errors.list_view.clicked.emit(first)
    qtbot.waitUntil(lambda: dock.state.current_image_id == target, timeout=10000)
    marks = window.canvas.boxes_overlay("evaluation")
    qtbot.waitUntil(lambda: len(marks.boxes) > 0, timeout=5000)
    assert "" in marks.labels, "the image with the most misses shows its FN boxes"


def test_confusion_matrix_equals_engine_and_lists_images(qtbot, dock):
    dock.tabs.setCurrentWidget(dock.confusion)
    qtbot.waitUntil(lambda: dock.confusion.data is not None, timeout=10000)
    settings = dock.controls.settings()
    expected = dock.live.result().confusion_matrix(settings.match_iou, settings.score_threshold)
    np.testing.assert_array_equal(dock.confusion.data.matrix, expected.matrix)
    rows, cols = np.nonzero(expected.matrix)
    off = [(r, c) for r, c in zip(rows, cols, strict=True) if r != c]
    row, col = off[0]
    dock.confusion.table.cellClicked.emit(int(row), int(col))
    listed = dock.confusion.image_list
    assert listed.count() >= 1
    counts = [int(listed.item(i).text().rsplit("×", 1)[1]) for i in range(listed.count())]
    assert sum(counts) == expected.matrix[row, col]


def test_export_plot_and_metrics(dock, tmp_path):
    for suffix in ("png", "svg", "csv", "json"):
        dock.export(tmp_path / f"out.{suffix}")
    assert (tmp_path / "out.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in (tmp_path / "out.svg").read_text()
    with open(tmp_path / "out.csv", newline="") as handle:
        table = list(csv.reader(handle))
    assert table[0][:3] == ["category_id", "class", "AP"]
    assert [r[1] for r in table[1:-1]] == [row.name for row in dock.view.rows]
    document = json.loads((tmp_path / "out.json").read_text())
    assert document["mAP"] == pytest.approx(dock.view.mean_ap)
    assert len(document["per_class"]) == 5


def test_marks_follow_the_operating_threshold(qtbot, dock, window):
    marks = window.canvas.boxes_overlay("evaluation")
    assert marks.labels, "the first image shows TP / FP / FN marks"
    dock.controls.score_spin.setValue(1.0)
    assert marks.labels and all(label == "" for label in marks.labels)  # only misses left
    dock.controls.marks_check.setChecked(False)
    assert len(marks.boxes) == 0


def test_a_large_set_re_evaluates_in_a_worker_and_every_edit_lands(
    qtbot, window, evaluated_dock, monkeypatch
):
    """From BACKGROUND_IMAGES on (5,000; lowered here to the sample set's size) an edit is
    re-evaluated off the GUI thread; edits made while that runs go into the next job, and
    the numbers at the end equal a fresh evaluation of the edited set."""
    from app.evaluate import live

    monkeypatch.setattr(live, "BACKGROUND_IMAGES", 2)
    dock = evaluated_dock(window)
    assert dock.live.background
    dataset = dock.state.dataset
    circles = [o for o in dataset.iter_objects() if o.category_id == 1][:3]
    seen = []
    dock.live.updated.connect(lambda: seen.append(dock.live.updating))
    dataset.apply(update_object(dataset, circles[0].id, box=(0.0, 0.0, 4.0, 4.0)))
    qtbot.waitUntil(lambda: dock.live.updating, timeout=5000)  # the first job has started
    for obj in circles[1:]:  # while it runs: queued, not lost
        dataset.apply(update_object(dataset, obj.id, box=(1.0, 1.0, 5.0, 5.0)))
    qtbot.waitUntil(
        lambda: not dock.live.updating and not dock.live._pending and not dock.state.pool.busy(),
        timeout=20000,
    )
    assert seen  # results arrived through ``updated``
    save_dataset(dataset, force=True)
    expected = engine_result(dataset, fake_detections_of(dock))
    rows = {row.name: row for row in dock.view.rows}
    for row in expected.per_class:
        assert rows[row.name].ap50 == pytest.approx(row.ap50, abs=1e-12), row.name
