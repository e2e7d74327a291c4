"""Sliders take typed values and reset on double-click (Inspect thresholds, Predictions)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.value_slider import ValueSlider


def _type(qtbot, slider: ValueSlider, text: str) -> None:
    editor = slider.spin.lineEdit()
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)


def test_typed_value_moves_the_slider_and_is_emitted(qtbot):
    slider = ValueSlider(0.0, 1.0, decimals=2, default=0.5)
    qtbot.addWidget(slider)
    slider.show()
    seen = []
    slider.value_changed.connect(seen.append)
    _type(qtbot, slider, "0.37")
    assert seen == [0.37] and slider.slider.value() == 37 and slider.value() == 0.37


def test_double_click_resets_to_the_default(qtbot):
    slider = ValueSlider(1, 2000, decimals=0, default=1000)
    qtbot.addWidget(slider)
    slider.show()
    _type(qtbot, slider, "250")
    assert slider.value() == 250
    seen = []
    slider.value_changed.connect(seen.append)
    qtbot.mouseDClick(slider.slider, Qt.MouseButton.LeftButton)
    assert slider.value() == 1000 and slider.slider.value() == 1000 and seen == [1000]


def test_show_value_does_not_emit(qtbot):
    slider = ValueSlider(0.0, 1.0)
    qtbot.addWidget(slider)
    seen = []
    slider.value_changed.connect(seen.append)
    slider.show_value(0.8)
    assert seen == [] and slider.slider.value() == 80


def test_predictions_threshold_can_be_typed(qtbot, open_window, sample_folder):
    window = open_window(sample_folder)
    dock = window.predictions_dock
    seen = []
    dock.threshold_changed.connect(seen.append)
    _type(qtbot, dock.slider, "0.9")
    assert seen == [0.9] and dock.threshold() == 0.9
    qtbot.mouseDClick(dock.slider.slider, Qt.MouseButton.LeftButton)
    assert dock.threshold() == 0.5
