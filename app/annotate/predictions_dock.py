"""The predictions dock: score threshold, accept / reject, detect this or all images."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QGridLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.value_slider import ValueSlider
from detector.data.accept import MATCH_IOU


class PredictionsDock(QDockWidget):
    """Signals carry the user's intent; the window does the work (and owns the worker)."""

    threshold_changed = Signal(float)
    detect_requested = Signal()
    detect_all_requested = Signal()
    cancel_requested = Signal()
    accept_requested = Signal()
    accept_all_requested = Signal()
    reject_requested = Signal()
    clear_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__("Predictions", parent)
        self.setObjectName("PredictionsDock")
        body = QWidget()
        layout = QVBoxLayout(body)
        self.threshold_label = QLabel("Show scores ≥")
        self.slider = ValueSlider(0.0, 1.0, decimals=2, default=0.5)
        self.slider.setToolTip(
            "Predictions scoring below this are hidden (and not accepted). "
            "Type a value, or double-click the slider to reset to 0.50"
        )
        self.match_label = QLabel(
            "Accept all skips predictions matching ground truth of their class at IoU ≥"
        )
        self.match_label.setWordWrap(True)
        self.match_slider = ValueSlider(0.05, 1.0, decimals=2, default=MATCH_IOU)
        self.match_slider.setToolTip(
            "A prediction overlapping an existing object of the same class at least this much "
            "is already annotated: Accept all leaves it out"
        )
        self.count_label = QLabel("No predictions on this image")
        self.count_label.setWordWrap(True)
        grid = QGridLayout()
        buttons = {
            "Detect image (Ctrl+R)": self.detect_requested,
            "Detect all images": self.detect_all_requested,
            "Accept (Enter)": self.accept_requested,
            "Accept all ≥ threshold": self.accept_all_requested,
            "Reject (Del)": self.reject_requested,
            "Clear predictions": self.clear_requested,
        }
        self.buttons: dict[str, QPushButton] = {}
        for index, (text, signal) in enumerate(buttons.items()):
            button = QPushButton(text)
            button.clicked.connect(signal)
            grid.addWidget(button, index // 2, index % 2)
            self.buttons[text] = button
        self.progress = QProgressBar(visible=False)
        self.cancel_button = QPushButton("Cancel", visible=False)
        self.cancel_button.clicked.connect(self.cancel_requested)
        for widget in (
            self.threshold_label,
            self.slider,
            self.count_label,
            self.match_label,
            self.match_slider,
        ):
            layout.addWidget(widget)
        layout.addLayout(grid)
        layout.addWidget(self.progress)
        layout.addWidget(self.cancel_button)
        layout.addStretch(1)
        self.setWidget(body)
        self.slider.value_changed.connect(self.threshold_changed)

    def threshold(self) -> float:
        return self.slider.value()

    def match_iou(self) -> float:
        return self.match_slider.value()

    def set_threshold(self, value: float) -> None:
        self.slider.set_value(value)

    def set_counts(self, shown: int, total: int) -> None:
        if total == 0:
            self.count_label.setText("No predictions on this image")
        else:
            self.count_label.setText(f"{shown} of {total} predictions shown (dashed)")

    def set_progress(self, done: int, total: int, message: str) -> None:
        running = total > 0 and done < total
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"%v / %m  {message}")
