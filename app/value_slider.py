"""A slider the user can also type into, and reset with a double-click.

``ValueSlider`` pairs a QSlider with a spin box showing the same value: dragging moves the
number, typing moves the slider, a double-click on the slider (or the spin box's "Reset"
context action) returns to the default. Emits ``value_changed(float)`` only on user changes,
never when code shows a value with :meth:`show_value`.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QSlider, QWidget

_COMMIT_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape)


class ValueSlider(QWidget):
    """A value in [minimum, maximum] with ``decimals`` digits (0: an integer setting)."""

    value_changed = Signal(float)

    def __init__(
        self,
        minimum: float,
        maximum: float,
        *,
        decimals: int = 2,
        default: float | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._scale = 10**decimals
        self.default = minimum if default is None else default
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(round(minimum * self._scale), round(maximum * self._scale))
        self.spin = QDoubleSpinBox(decimals=decimals, minimum=minimum, maximum=maximum)
        self.spin.setSingleStep(1 / self._scale if decimals else 1)
        self.spin.setKeyboardTracking(False)  # typed values apply on Enter or focus out
        self.spin.setToolTip("Type a value; double-click the slider to reset")
        self.slider.setToolTip("Double-click to reset to the default")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)
        self.slider.valueChanged.connect(self._slid)
        self.spin.valueChanged.connect(self._typed)
        self.slider.installEventFilter(self)
        self.spin.installEventFilter(self)
        self.spin.lineEdit().installEventFilter(self)
        self.show_value(self.default)

    def value(self) -> float:
        return self.spin.value()

    def set_value(self, value: float) -> None:
        """Change the value as the user would (emits ``value_changed`` when it changes)."""
        self.spin.setValue(value)

    def show_value(self, value: float) -> None:
        """Show ``value`` without emitting (a model's or trace's own setting)."""
        for widget in (self.slider, self.spin):
            widget.blockSignals(True)
        self.spin.setValue(value)
        self.slider.setValue(round(self.spin.value() * self._scale))
        for widget in (self.slider, self.spin):
            widget.blockSignals(False)

    def reset(self) -> None:
        self.set_value(self.default)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if watched is self.slider and event.type() == QEvent.Type.MouseButtonDblClick:
            self.reset()
            return True
        if event.type() == QEvent.Type.ShortcutOverride and event.key() in _COMMIT_KEYS:
            event.accept()  # Enter commits the typed value, it does not trigger a window shortcut
            return True
        return super().eventFilter(watched, event)

    def _slid(self, raw: int) -> None:
        self.spin.blockSignals(True)
        self.spin.setValue(raw / self._scale)
        self.spin.blockSignals(False)
        self.value_changed.emit(self.spin.value())

    def _typed(self, value: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(round(value * self._scale))
        self.slider.blockSignals(False)
        self.value_changed.emit(value)
