"""The model dock: choose architecture or checkpoint and device, run Detect, see what loaded."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

# Kept here (not imported from detector.models) so the window opens before torch loads.
ARCHITECTURE_NAMES = [
    "shapes",
    "fasterrcnn_mobilenet_v3_large_320_fpn",
    "fasterrcnn_mobilenet_v3_large_fpn",
    "fasterrcnn_resnet50_fpn",
    "fasterrcnn_resnet50_fpn_v2",
    "maskrcnn_resnet50_fpn",
    "maskrcnn_resnet50_fpn_v2",
    "keypointrcnn_resnet50_fpn",
]
CHECKPOINT_ITEM = "Checkpoint file…"


class ModelDock(QDockWidget):
    """``model_requested(name_or_path, device)`` when the choice changes; ``detect_requested``."""

    model_requested = Signal(str, str)
    detect_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__("Model", parent)
        self.setObjectName("ModelDock")
        body = QWidget()
        layout = QVBoxLayout(body)
        form = QFormLayout()
        self.model_combo = QComboBox()
        self.model_combo.addItems([*ARCHITECTURE_NAMES, CHECKPOINT_ITEM])
        self.device_combo = QComboBox()
        self.device_combo.addItems(["auto", "cpu", "cuda"])
        form.addRow("Model", self.model_combo)
        form.addRow("Device", self.device_combo)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        self.detect_button = QPushButton("Detect (Ctrl+R)")
        buttons.addWidget(self.detect_button)
        layout.addLayout(buttons)
        self.info_label = QLabel("Model not loaded yet")
        self.info_label.setWordWrap(True)
        layout.addWidget(self.info_label)
        layout.addStretch(1)
        self.setWidget(body)
        self._checkpoint_path = ""
        self.model_combo.activated.connect(self._on_model_activated)
        self.device_combo.activated.connect(lambda _i: self._emit_choice())
        self.detect_button.clicked.connect(self.detect_requested)

    def choice(self) -> tuple[str, str]:
        name = self.model_combo.currentText()
        if name == CHECKPOINT_ITEM:
            name = self._checkpoint_path
        return name, self.device_combo.currentText()

    def set_choice(self, name: str, device: str) -> None:
        if name in ARCHITECTURE_NAMES:
            self.model_combo.setCurrentText(name)
        elif name:
            self._checkpoint_path = name
            self.model_combo.setCurrentText(CHECKPOINT_ITEM)
        if self.device_combo.findText(device) >= 0:
            self.device_combo.setCurrentText(device)

    def set_info(self, text: str, warning: bool = False) -> None:
        self.info_label.setText(text)
        self.info_label.setStyleSheet("color: #b35c00;" if warning else "")

    def _on_model_activated(self, _index: int) -> None:
        if self.model_combo.currentText() == CHECKPOINT_ITEM:
            path, _ = QFileDialog.getOpenFileName(
                self, "Open checkpoint", "", "PyTorch checkpoints (*.pth *.pt);;All (*)"
            )
            if not path:
                return
            self._checkpoint_path = path
        self._emit_choice()

    def _emit_choice(self) -> None:
        name, device = self.choice()
        if name:
            self.model_requested.emit(name, device)
