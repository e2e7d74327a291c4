"""The Model dock's weights: cached torchvision weights chosen with the mouse, a failed
load restoring the previous choice, an ambiguous checkpoint, a cancelled download."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from detector.models.weights import MIRROR_ENV, find_weights
from tests.detector.weights_server import serve

# the offscreen platform cannot raise or grab for a combo's popup: noise, not a defect
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support (raise|grabbing)")

ARCH = "fasterrcnn_mobilenet_v3_large_320_fpn"
OTHER = "fasterrcnn_mobilenet_v3_large_fpn"


@pytest.fixture(scope="module")
def coco_state() -> dict[str, torch.Tensor]:
    """A random-init state dict with COCO's 91 classes (stands in for the real file)."""
    from detector.models import load_model

    return load_model(ARCH, weights=None, num_classes=91, device="cpu").module.state_dict()


@pytest.fixture
def torch_home(tmp_path, monkeypatch, coco_state):
    """A private torch hub cache holding ARCH's COCO_V1 file under torchvision's name."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    entry = find_weights(ARCH, "COCO_V1")
    entry.path.parent.mkdir(parents=True)
    torch.save(coco_state, entry.path)
    return entry.path.parent


def _pick(qtbot, combo, index: int) -> None:
    """Mouse: open the combo's popup and click item ``index`` (emits ``activated``)."""
    combo.window().show()
    combo.showPopup()
    view = combo.view()
    qtbot.waitUntil(view.isVisible, timeout=5000)
    rect = view.visualRect(view.model().index(index, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: not view.isVisible(), timeout=5000)
    assert combo.currentIndex() == index


def _choose_architecture(qtbot, dock, name: str) -> None:
    dock.raise_()
    _pick(qtbot, dock.arch_combo, dock.arch_combo.findText(name))


def _loaded(window, text: str) -> bool:
    return window.models.model is not None and text in window.status.model_label.text()


def test_cached_weights_are_chosen_named_and_a_failed_load_restores(
    qtbot, open_window, torch_home, tmp_path, sample_folder
):
    window = open_window(sample_folder)
    dock = window.model_dock
    dock.raise_()  # the user brings the Model tab forward: its weights are listed then
    qtbot.waitUntil(lambda: ARCH in dock._entries, timeout=60000)
    _choose_architecture(qtbot, dock, ARCH)
    qtbot.waitUntil(lambda: _loaded(window, f"{ARCH} · COCO_V1"), timeout=60000)
    model = window.models.model
    assert not window.model_link.canvas_badge.isVisible()
    assert model.trained and model.categories[1] == "person"
    assert dock.weights_combo.currentText().startswith("COCO_V1 (default)")
    assert "cached" in dock.weights_combo.currentText()
    assert window.models.choice[0] == f"{ARCH}@COCO_V1"

    bad = tmp_path / "broken.pth"
    bad.write_bytes(b"not a checkpoint")
    dock.open_checkpoint(str(bad))  # what the file dialog does
    qtbot.waitUntil(lambda: "Could not load" in window.statusBar().currentMessage(), timeout=30000)
    assert "Detect still runs " + f"{ARCH} · COCO_V1" in window.statusBar().currentMessage()
    assert window.models.choice[0] == f"{ARCH}@COCO_V1" and window.models.model is model
    assert dock.arch_combo.currentText() == ARCH
    assert dock.weights_combo.currentText().startswith("COCO_V1")
    assert window.status.model_label.text().startswith(f"{ARCH} · COCO_V1")
    box = window.findChild(QMessageBox)  # the error dialog: the user reads it, clicks OK
    assert "broken.pth" in box.text()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    window.activateWindow()  # the dialog and the combo popups took the focus
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(window.canvas, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "detections in" in window.statusBar().currentMessage(), timeout=60000)
    assert f"by {ARCH} · COCO_V1 on cpu" in window.statusBar().currentMessage()

    _pick(qtbot, dock.weights_combo, dock.weights_combo.findData("none"))
    qtbot.waitUntil(lambda: _loaded(window, "RANDOM INIT"), timeout=60000)
    assert not window.models.model.trained and "UNTRAINED" in dock.info_label.text()
    assert window.model_link.canvas_badge.isVisible()  # on the canvas too


def test_ambiguous_checkpoint_lets_the_user_choose(qtbot, open_window, torch_home, coco_state):
    path = torch_home.parent / "mine.pth"
    torch.save(coco_state, path)  # both MobileNets fit these tensors
    window = open_window()
    dock = window.model_dock
    dock.open_checkpoint(str(path))
    qtbot.waitUntil(lambda: dock.ambiguous_row.isVisible(), timeout=60000)
    combo = dock.ambiguous_combo
    assert [combo.itemText(i) for i in range(combo.count())] == [OTHER, ARCH]
    combo.setCurrentIndex(1)
    qtbot.mouseClick(dock.ambiguous_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _loaded(window, f"{ARCH} · mine.pth"), timeout=60000)
    assert window.models.model.num_classes == 91 and dock.arch_combo.currentText() == ARCH


def test_download_cancel_leaves_no_file(qtbot, open_window, torch_home):
    window = open_window()
    dock = window.model_dock
    dock.raise_()
    qtbot.waitUntil(lambda: OTHER in dock._entries, timeout=60000)
    _choose_architecture(qtbot, dock, OTHER)  # not cached: random init, Download offered
    qtbot.waitUntil(lambda: _loaded(window, f"{OTHER} · RANDOM INIT"), timeout=60000)
    entry = find_weights(OTHER, "COCO_V1")
    _pick(qtbot, dock.weights_combo, dock.weights_combo.findData("COCO_V1"))
    qtbot.waitUntil(dock.download_button.isVisible, timeout=5000)
    assert "75 MB" in dock.download_button.text() or "74 MB" in dock.download_button.text()
    with serve({entry.file_name: b"\0" * (8 << 20)}, chunk_delay=0.05) as base:
        dock.mirror_edit.setText(base)
        qtbot.mouseClick(dock.download_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dock.download_bar.value() > 0, timeout=30000)
        assert dock.cancel_button.isVisible()
        qtbot.mouseClick(dock.cancel_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not window.pool.busy(), timeout=30000)
    assert "cancelled" in dock.info_label.text()
    assert not entry.cached and sorted(p.name for p in torch_home.iterdir()) == [
        find_weights(ARCH).file_name
    ]
    assert not dock.download_bar.isVisible() and not dock.cancel_button.isVisible()
    assert dock.weights_combo.currentData() == "none"  # back to what is loaded


def test_evaluate_header_marks_a_random_init_model(qtbot, open_window, sample_folder):
    from detector.models import load_model

    window = open_window(sample_folder)
    model = load_model("shapes", weights=None, device="cpu", box_score_thresh=0.5)
    window.models.set_model(model)  # random init: few, if any, boxes above 0.5
    assert "RANDOM INIT" in window.status.model_label.text()
    dock = window.docks["EvaluateDock"]
    dock.show()
    dock.raise_()
    qtbot.mouseClick(dock.controls.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dock.shows_finished_evaluation, timeout=120000)
    headline = dock.controls.headline.text()
    assert headline.startswith("mAP ") and "random init: untrained model" in headline


def test_inspect_dock_marks_a_random_init_model(inspect_dock):
    assert not inspect_dock.state.models.model.trained
    assert inspect_dock.status.text().startswith("RANDOM INIT (untrained) · ")


def test_no_shared_class_is_said_in_predictions_and_evaluate(qtbot, open_window, sample_folder):
    """A COCO-class model on the shapes set: a warning, not a silent mAP 0.000."""
    from detector.models import load_model

    window = open_window(sample_folder)
    coco = load_model(ARCH, weights=None, num_classes=91, device="cpu", min_size=128, max_size=160)
    window.models.set_model(coco)
    qtbot.keyClick(window.canvas, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    note = window.predictions_dock.note_label
    qtbot.waitUntil(lambda: note.text() != "", timeout=60000)
    assert note.text().startswith("No model class is a category of this dataset")
    assert "(person, bicycle, car, motorcycle and 76 more)" in note.text()
    dock = window.docks["EvaluateDock"]
    dock.show()
    dock.raise_()
    qtbot.mouseClick(dock.controls.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dock.shows_finished_evaluation, timeout=120000)
    assert "no model class is a dataset category" in dock.controls.headline.text()
    assert dock.controls.status_label.text().startswith("No model class is a category")


def test_command_line_model_and_weights_become_the_dock_choice(open_window):
    from app.launch import build_parser
    from detector.models.spec import choice_from_arguments

    args = build_parser().parse_args(["photos", "--model", ARCH, "--weights", "COCO_V1"])
    spec = choice_from_arguments(args.model, args.weights).spec
    window = open_window()
    window.model_dock.set_choice(spec, "cpu")  # what launch.main does with it
    assert window.model_dock.choice() == (f"{ARCH}@COCO_V1", "cpu")
    assert window.model_dock.arch_combo.currentText() == ARCH
    assert window.model_dock.weights_combo.currentData() == "COCO_V1"


def test_unnamed_checkpoint_takes_the_dataset_names_when_confirmed(
    qtbot, open_window, sample_folder, tmp_path
):
    from detector.models import load_model

    path = tmp_path / "mine.pth"
    plain = load_model("shapes", weights=None, num_classes=6, seed=3, device="cpu")
    torch.save(plain.module.state_dict(), path)  # no names in it, none beside it
    window = open_window(sample_folder)
    dock = window.model_dock
    dock.open_checkpoint(str(path))
    qtbot.waitUntil(lambda: _loaded(window, "shapes · mine.pth"), timeout=60000)
    assert window.models.model.categories[1:3] == ["class_1", "class_2"]
    assert dock.names_button.isVisible()
    qtbot.mouseClick(dock.names_button, Qt.MouseButton.LeftButton)
    dataset = window.state.dataset
    expected = [dataset.categories[i].name for i in sorted(dataset.categories)]
    qtbot.waitUntil(lambda: window.models.model.categories[1:] == expected, timeout=60000)
    assert (tmp_path / "mine.pth.json").is_file() and not dock.names_button.isVisible()


def test_a_remembered_model_that_is_gone_falls_back_without_a_dialog(
    qtbot, open_window, tmp_path, sample_folder
):
    """Last session's checkpoint was moved: at startup the bundled model loads instead,
    the status bar says why, and no modal dialog greets the user; a model the user picks
    later that fails still gets the dialog."""
    window = open_window(sample_folder)
    models = window.models
    gone = str(tmp_path / "moved_away.pth")
    models.startup_fallback = ("shapes", "cpu")  # what launch sets for a remembered model
    models.load(gone, "cpu")
    qtbot.waitUntil(lambda: models.model is not None, timeout=60000)
    assert models.choice == ("shapes", "cpu") and models.loaded_choice == ("shapes", "cpu")
    assert window.findChild(QMessageBox) is None
    message = window.statusBar().currentMessage()
    assert "moved_away.pth" in message and "loading shapes instead" in message
    assert window.model_dock.choice()[0] == "shapes"  # the dock shows what loaded
    models.load(gone, "cpu")  # chosen by the user now: the error is shown, shapes stays
    qtbot.waitUntil(lambda: window.findChild(QMessageBox) is not None, timeout=30000)
    assert "moved_away.pth" in window.findChild(QMessageBox).text()
    assert models.choice == ("shapes", "cpu")
    window.findChild(QMessageBox).close()
