"""The four threshold sliders: score, NMS IoU, RPN NMS IoU (0-1) and RPN top-N."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QSlider, QWidget

# name, label, maximum slider value, slider units per setting unit
SLIDERS = [
    ("score_thresh", "Score threshold", 100, 100.0),
    ("nms_thresh", "NMS IoU", 100, 100.0),
    ("rpn_nms_thresh", "RPN NMS IoU", 100, 100.0),
    ("rpn_post_nms_top_n", "RPN top-N", 2000, 1.0),
]


class ThresholdSliders(QWidget):
    """Emits ``changed({name: value})`` when the user moves a slider (not on show_settings)."""

    changed = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.sliders: dict[str, QSlider] = {}
        self._values: dict[str, QLabel] = {}
        for row, (name, label, maximum, _units) in enumerate(SLIDERS):
            slider = QSlider(
                Qt.Orientation.Horizontal, minimum=1 if "top_n" in name else 0, maximum=maximum
            )
            slider.valueChanged.connect(lambda _v, n=name: self._moved(n))
            value = QLabel("", minimumWidth=40)
            layout.addWidget(QLabel(label), row, 0)
            layout.addWidget(slider, row, 1)
            layout.addWidget(value, row, 2)
            self.sliders[name], self._values[name] = slider, value
        self.setEnabled(False)

    def value(self, name: str) -> float | int:
        units = dict((n, u) for n, _l, _m, u in SLIDERS)[name]
        raw = self.sliders[name].value()
        return raw if units == 1.0 else raw / units

    def set_value(self, name: str, value: float) -> None:
        """Move a slider as the user would (emits ``changed``)."""
        units = dict((n, u) for n, _l, _m, u in SLIDERS)[name]
        self.sliders[name].setValue(round(value * units))

    def show_settings(self, settings) -> None:
        """Show a trace's thresholds without emitting."""
        for name, slider in self.sliders.items():
            slider.blockSignals(True)
            units = dict((n, u) for n, _l, _m, u in SLIDERS)[name]
            slider.setValue(round(getattr(settings, name) * units))
            slider.blockSignals(False)
            self._label(name)
        self.setEnabled(True)

    def _label(self, name: str) -> None:
        value = self.value(name)
        self._values[name].setText(str(value) if "top_n" in name else f"{value:.2f}")

    def _moved(self, name: str) -> None:
        self._label(name)
        self.changed.emit({name: self.value(name)})
