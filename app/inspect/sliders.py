"""The four threshold sliders: score, NMS IoU, RPN NMS IoU (0-1) and RPN top-N.

Each can be dragged or typed into, and a double-click resets it to the model's own value
(the one the trace was first made with).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from app.value_slider import ValueSlider

# name, label, minimum, maximum, decimals
SLIDERS = [
    ("score_thresh", "Score threshold", 0.0, 1.0, 2),
    ("nms_thresh", "NMS IoU", 0.0, 1.0, 2),
    ("rpn_nms_thresh", "RPN NMS IoU", 0.0, 1.0, 2),
    ("rpn_post_nms_top_n", "RPN top-N", 1, 2000, 0),
]


class ThresholdSliders(QWidget):
    """Emits ``changed({name: value})`` when the user changes a value (not on show_settings)."""

    changed = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.sliders: dict[str, ValueSlider] = {}
        self._model_defaults: dict[str, float] | None = None
        for row, (name, label, minimum, maximum, decimals) in enumerate(SLIDERS):
            slider = ValueSlider(minimum, maximum, decimals=decimals)
            slider.value_changed.connect(lambda _v, n=name: self._moved(n))
            layout.addWidget(QLabel(label), row, 0)
            layout.addWidget(slider, row, 1)
            self.sliders[name] = slider
        self.setEnabled(False)

    def value(self, name: str) -> float | int:
        value = self.sliders[name].value()
        return round(value) if "top_n" in name else value

    def set_value(self, name: str, value: float) -> None:
        """Change a value as the user would (emits ``changed``)."""
        self.sliders[name].set_value(value)

    def show_settings(self, settings) -> None:
        """Show a trace's thresholds without emitting; the first model's become the defaults."""
        if self._model_defaults is None:
            self._model_defaults = {name: getattr(settings, name) for name in self.sliders}
        for name, slider in self.sliders.items():
            slider.default = self._model_defaults[name]
            slider.show_value(getattr(settings, name))
        self.setEnabled(True)

    def forget_defaults(self) -> None:
        """A new model: its own thresholds become the reset values at the next trace."""
        self._model_defaults = None

    def _moved(self, name: str) -> None:
        self.changed.emit({name: self.value(name)})
