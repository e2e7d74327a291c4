"""The Evaluate dock's Diagnose tab on three sample images with the bundled model."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from PySide6.QtCore import Qt

from app.evaluate.diagnose_views import TIDE_NAMES
from detector import load_model
from detector.diagnosis import tide
from detector.diagnosis.funnel import STAGES
from detector.diagnosis.sweeps import f1_curves
from tests.app.conftest import SAMPLES


@pytest.fixture
def small_folder(tmp_path):
    document = json.loads((SAMPLES / "annotations.json").read_text())
    document["images"] = sorted(document["images"], key=lambda i: i["id"])[:3]
    kept = {image["id"] for image in document["images"]}
    document["annotations"] = [a for a in document["annotations"] if a["image_id"] in kept]
    folder = tmp_path / "three"
    folder.mkdir()
    for image in document["images"]:
        shutil.copy(SAMPLES / image["file_name"], folder / image["file_name"])
    (folder / "annotations.json").write_text(json.dumps(document))
    return folder


@pytest.fixture
def tab(qtbot, open_window, small_folder):
    torch.set_num_threads(1)
    window = open_window(small_folder)
    window.state.models.set_model(load_model("shapes"))
    dock = window.docks["EvaluateDock"]
    dock.show()
    dock.tabs.setCurrentWidget(dock.diagnose)
    yield window, dock.diagnose
    qtbot.waitUntil(lambda: not window.state.pool.busy(), timeout=60000)


def _click_cell(qtbot, table, row: int, column: int) -> None:
    rect = table.visualRect(table.model().index(row, column))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_diagnose_shows_tide_funnel_and_sweep_and_goes_to_objects(qtbot, tab):
    window, diagnose = tab
    qtbot.mouseClick(diagnose.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: diagnose.tide is not None, timeout=120000)
    funnel = diagnose.diagnosis.funnel
    assert len(funnel) == sum(
        len(window.state.dataset.objects_in(i)) for i in sorted(window.state.dataset.images)
    )
    expected = tide(diagnose.diagnosis.data)
    shown = dict(zip(TIDE_NAMES, diagnose.bars.values.tolist(), strict=True))
    assert shown["Loc"] == pytest.approx(expected.main["Loc"])
    assert shown["FalseNeg"] == pytest.approx(expected.special["FalseNeg"])
    found_row = STAGES.index("found")
    table = diagnose.funnel.table
    assert table.item(found_row, 0).text() == str(funnel.counts()["found"])
    xs, ys = diagnose.sweep_plot.curve.getData()
    assert len(xs) > 3 and ys[0] >= ys[-1]

    _click_cell(qtbot, table, found_row, 0)
    objects = diagnose.funnel.objects
    assert objects.count() == funnel.counts()["found"] > 0
    last = objects.item(objects.count() - 1)
    rect = objects.visualItemRect(last)
    qtbot.mouseClick(objects.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    image_id, _object_id = last.data(Qt.ItemDataRole.UserRole)
    qtbot.waitUntil(lambda: window.state.current_image_id == image_id, timeout=10000)

    passes = diagnose.cache.backbone_passes
    diagnose.tide = None
    qtbot.mouseClick(diagnose.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: diagnose.tide is not None, timeout=120000)
    assert diagnose.cache.backbone_passes == passes  # the traces were re-used
    assert diagnose.comparison.gained == diagnose.comparison.lost == []  # same model twice
    assert diagnose.flipped_button.isEnabled() and "previous run" in diagnose.status.text()

    box = diagnose.class_box
    box.setCurrentIndex(1)  # the first class (as picking it from the list does)
    category = box.currentData()
    assert category is not None
    assert table.item(found_row, 0).text() == str(funnel.counts(category)["found"])
    per_class = diagnose.tide.per_class[category]["main"]
    assert diagnose.bars.values[1] == pytest.approx(per_class["Loc"])

    best = f1_curves(diagnose.tide.tables)[category].best_threshold
    qtbot.mouseClick(diagnose.f1_button, Qt.MouseButton.LeftButton)
    assert window.predictions_dock.threshold() == pytest.approx(round(best * 100) / 100)


def test_box_nms_sweep_reruns_cached_traces(qtbot, tab):
    window, diagnose = tab
    qtbot.mouseClick(diagnose.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: diagnose.tide is not None, timeout=120000)
    passes = diagnose.cache.backbone_passes
    diagnose.sweep_box.setCurrentText("box NMS IoU")
    qtbot.mouseClick(diagnose.sweep_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: diagnose.sweep.name == "nms_thresh", timeout=120000)
    xs, ys = diagnose.sweep_plot.curve.getData()
    assert xs.tolist() == [0.3, 0.4, 0.5, 0.6, 0.7, 0.8] and len(ys) == 6
    assert diagnose.cache.backbone_passes == passes
    assert diagnose.sweep_button.isEnabled()


def test_another_dataset_clears_the_tab(qtbot, tab, small_folder, tmp_path):
    window, diagnose = tab
    qtbot.mouseClick(diagnose.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: diagnose.tide is not None, timeout=120000)
    other = tmp_path / "other"
    shutil.copytree(small_folder, other)
    window.open_folder(other)
    qtbot.waitUntil(lambda: diagnose.diagnosis is None, timeout=20000)
    assert len(diagnose.cache) == 0 and diagnose.funnel.objects.count() == 0
    assert diagnose.funnel.table.item(0, 0) is None and not diagnose.bars.values.any()


def test_cancel_stops_and_keeps_finished_traces(qtbot, tab):
    window, diagnose = tab
    qtbot.mouseClick(diagnose.run_button, Qt.MouseButton.LeftButton)
    assert diagnose.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: diagnose.progress.value() >= 1, timeout=60000)
    qtbot.mouseClick(diagnose.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.state.pool.busy(), timeout=60000)
    assert diagnose.run_button.isEnabled() and not diagnose.cancel_button.isEnabled()
    assert diagnose.diagnosis is None and "Cancelled" in diagnose.status.text()
    assert 1 <= len(diagnose.cache) <= 3


def test_double_click_explains_a_lost_object_in_inspect_why(qtbot, tab):
    window, diagnose = tab
    window.state.models.set_model(load_model("shapes", box_score_thresh=0.995))
    qtbot.mouseClick(diagnose.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: diagnose.tide is not None, timeout=120000)
    counts = diagnose.diagnosis.funnel.counts()
    stage = next(name for name in STAGES if name != "found" and counts[name] > 0)
    _click_cell(qtbot, diagnose.funnel.table, STAGES.index(stage), 0)
    objects = diagnose.funnel.objects
    item = objects.item(0)
    rect = objects.visualItemRect(item)
    qtbot.mouseClick(objects.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(objects.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    inspect = window.docks["inspect_dock"]
    why = inspect.stage("why")
    qtbot.waitUntil(lambda: why.answer is not None, timeout=120000)
    assert inspect.current_stage() is why and inspect.isVisible()
    assert window.state.current_image_id == item.data(Qt.ItemDataRole.UserRole)[0]
    expected = "found" if stage == "localization" else stage
    assert why.answer.stage == expected
