"""The model dock: Architecture, then Weights (torchvision's, random init, a checkpoint file),
Download with progress and Cancel, the mirror, the device, Detect, and what loaded.

The dock holds no model: it emits ``model_requested(spec, device)`` (a
:mod:`detector.models.spec` string: ``ARCH@COCO_V1``, ``ARCH@none``, a checkpoint path) and
``download_requested(architecture, weights_name, mirror)``; the window answers with
``set_choice`` (after a load, or to restore the previous choice after a failed one),
``set_weight_entries`` (torchvision's weights list, read off the GUI thread) and the
download progress calls.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from detector.models.spec import RANDOM, ModelChoice, parse_model_spec

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
RANDOM_ITEM = "Random init (teaching)"
BUNDLED_ITEM = "Bundled checkpoint"
CHECKPOINT_ITEM = "Checkpoint file…"
WARNING_STYLE = "color: #b35c00;"


class ModelDock(QDockWidget):
    """Signals: ``model_requested(spec, device)``, ``detect_requested()``,
    ``download_requested(architecture, weights_name, mirror)``, ``cancel_requested()``,
    ``adopt_names_requested()`` (name a checkpoint's ``class_N`` after the dataset)."""

    model_requested = Signal(str, str)
    detect_requested = Signal()
    download_requested = Signal(str, str, str)
    cancel_requested = Signal()
    adopt_names_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__("Model", parent)
        self.setObjectName("ModelDock")
        self._entries: dict[str, list] = {}  # architecture -> [WeightsInfo]
        self._choice = ModelChoice("shapes")
        self._downloading = False
        self._build()
        self.arch_combo.activated.connect(self._on_architecture)
        self.weights_combo.activated.connect(self._on_weights)
        self.device_combo.activated.connect(lambda _i: self.request(self._choice))
        self.download_button.clicked.connect(self._on_download)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.ambiguous_button.clicked.connect(self._on_ambiguous_chosen)
        self.detect_button.clicked.connect(self.detect_requested)
        self.names_button.clicked.connect(self.adopt_names_requested)
        self._fill_weights()

    def _build(self) -> None:
        body = QWidget()
        layout = QVBoxLayout(body)
        form = QFormLayout()
        self.arch_combo = QComboBox()
        self.arch_combo.addItems(ARCHITECTURE_NAMES)
        self.weights_combo = QComboBox()
        self.device_combo = QComboBox()
        self.device_combo.addItems(["auto", "cpu", "cuda"])
        self.mirror_edit = QLineEdit(placeholderText="torchvision's server")
        self.mirror_edit.setToolTip("Base URL replacing download.pytorch.org/models/")
        form.addRow("Architecture", self.arch_combo)
        form.addRow("Weights", self.weights_combo)
        form.addRow("Device", self.device_combo)
        form.addRow("Mirror", self.mirror_edit)
        layout.addLayout(form)
        self.ambiguous_row = QWidget(visible=False)
        row = QHBoxLayout(self.ambiguous_row)
        row.setContentsMargins(0, 0, 0, 0)
        self.ambiguous_combo = QComboBox()
        self.ambiguous_button = QPushButton("Load as this")
        row.addWidget(QLabel("Fits:"))
        row.addWidget(self.ambiguous_combo, 1)
        row.addWidget(self.ambiguous_button)
        layout.addWidget(self.ambiguous_row)
        for combo in (self.arch_combo, self.weights_combo, self.ambiguous_combo):
            # the longest name (an architecture, "COCO_V1 (default) · cached") must not set
            # the dock's width: at 1366 x 768 it scrolled sideways, cutting every field
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(14)
        layout.addLayout(self._build_downloads())
        self.names_button = QPushButton("Name its classes after the dataset's", visible=False)
        self.names_button.setToolTip(
            "The checkpoint has no class names: take the open dataset's categories, in id "
            "order, and save them beside it (<checkpoint>.json)"
        )
        layout.addWidget(self.names_button)
        self.detect_button = QPushButton("Detect (Ctrl+R)")
        layout.addWidget(self.detect_button)
        self.info_label = QLabel("Model not loaded yet")
        self.info_label.setWordWrap(True)
        layout.addWidget(self.info_label)
        layout.addStretch(1)
        self.setWidget(body)

    def _build_downloads(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.download_button = QPushButton("Download", visible=False)
        self.download_bar = QProgressBar(visible=False, maximum=100)
        self.cancel_button = QPushButton("Cancel", visible=False)
        for widget in (self.download_button, self.download_bar, self.cancel_button):
            row.addWidget(widget)
        return row

    # ----- what the window calls ---------------------------------------------------------
    def choice(self) -> tuple[str, str]:
        """``(spec, device)`` of the current selection."""
        return self._choice.spec, self.device_combo.currentText()

    def set_choice(self, spec: str, device: str) -> None:
        """Show ``spec`` (no signal): after a load, or restoring after a failed one."""
        self._choice = parse_model_spec(spec)
        architecture = self._choice.architecture
        if architecture in ARCHITECTURE_NAMES:
            self.arch_combo.setCurrentText(architecture)
        self._fill_weights()
        if self.device_combo.findText(device) >= 0:
            self.device_combo.setCurrentText(device)
        self.ambiguous_row.hide()
        self._show_download_state()

    def show_loaded(self, spec: str, device: str, architecture: str) -> None:
        """A model loaded: show its choice, and the architecture a bare checkpoint turned out
        to be (recorded or inferred)."""
        if architecture in ARCHITECTURE_NAMES:
            self.arch_combo.setCurrentText(architecture)
        self.set_choice(spec, device)

    def set_weight_entries(self, entries: list) -> None:
        """torchvision's weights (``WeightsInfo``), listed off the GUI thread."""
        self._entries = {}
        for entry in entries:
            self._entries.setdefault(entry.architecture, []).append(entry)
        self._fill_weights()

    def set_info(self, text: str, warning: bool = False) -> None:
        self.info_label.setText(text)
        self.info_label.setStyleSheet(WARNING_STYLE if warning else "")

    def ask_architecture(self, path: str, candidates: list[str]) -> None:
        """A checkpoint fits several architectures: let the user pick one."""
        self._ambiguous_path = path
        self.ambiguous_combo.clear()
        self.ambiguous_combo.addItems(candidates)
        self.ambiguous_row.show()
        self.set_info(f"{path}\nfits {len(candidates)} architectures: choose one.", True)

    def open_checkpoint(self, path: str) -> None:
        """Load a checkpoint file (what "Checkpoint file…" does after its dialog)."""
        self.request(ModelChoice(None, path))

    def show_download_progress(self, done: int, total: int, message: str) -> None:
        self.download_bar.setMaximum(total if total > 0 else 0)
        self.download_bar.setValue(min(done, total) if total > 0 else 0)
        size = f"{done / 1e6:.1f} of {total / 1e6:.1f} MB" if total > 0 else f"{done / 1e6:.1f} MB"
        self.download_bar.setFormat(f"%p%  ({size})" if total > 0 else size)
        self.download_bar.setToolTip(message)

    def download_finished(self) -> None:
        """Back to the idle look; the weights list shows the new cached state."""
        self._downloading = False
        self.download_bar.hide()
        self.cancel_button.hide()
        self._fill_weights()
        self._show_download_state()

    # ----- the combos -----------------------------------------------------------------------
    def _fill_weights(self) -> None:
        """Items for the current architecture; select the current choice's weights."""
        architecture = self.arch_combo.currentText()
        combo = self.weights_combo
        combo.clear()
        entries = self._entries.get(architecture, [])
        if architecture == "shapes":
            combo.addItem(BUNDLED_ITEM, "default")
        for entry in entries:
            combo.addItem(entry.describe(), entry.name)
        if not entries and self._choice.architecture == architecture and _is_named(self._choice):
            combo.addItem(self._choice.weights, self._choice.weights)  # list not read yet
        combo.addItem(RANDOM_ITEM, RANDOM)
        if self._choice.is_file:
            combo.addItem(f"File: {self._choice.label()}", self._choice.weights)
        combo.addItem(CHECKPOINT_ITEM, "file…")
        same_architecture = self._choice.architecture in (architecture, None)
        index = combo.findData(self._choice.weights) if same_architecture else -1
        combo.setCurrentIndex(index if index >= 0 else combo.findData(RANDOM))

    def _on_architecture(self, _index: int) -> None:
        architecture = self.arch_combo.currentText()
        default = next((e for e in self._entries.get(architecture, []) if e.is_default), None)
        if architecture == "shapes":
            choice = ModelChoice("shapes")
        elif default is not None and default.cached:
            choice = ModelChoice(architecture, default.name)
        else:
            choice = ModelChoice(architecture, RANDOM)
        self.request(choice)

    def _on_weights(self, _index: int) -> None:
        data = self.weights_combo.currentData()
        architecture = self.arch_combo.currentText()
        if data == "file…":
            path, _ = QFileDialog.getOpenFileName(
                self, "Open checkpoint", "", "PyTorch checkpoints (*.pth *.pt);;All (*)"
            )
            if path:
                self.open_checkpoint(path)
            else:
                self._fill_weights()  # back to the current choice
            return
        entry = self._entry(architecture, data)
        if entry is not None and not entry.cached:
            self._show_download_state()  # shows Download; nothing loads until it is cached
            return
        if self._choice.is_file and data == self._choice.weights:
            self.request(self._choice)
            return
        self.request(ModelChoice(architecture, data))

    def request(self, choice: ModelChoice) -> None:
        """Select ``choice`` and ask the window to load it."""
        self._choice = choice
        self._fill_weights()
        self._show_download_state()
        self.model_requested.emit(choice.spec, self.device_combo.currentText())

    def _entry(self, architecture: str, name: object):
        return next((e for e in self._entries.get(architecture, []) if e.name == name), None)

    # ----- downloads ------------------------------------------------------------------------
    def _show_download_state(self) -> None:
        entry = self._entry(self.arch_combo.currentText(), self.weights_combo.currentData())
        missing = entry is not None and not entry.cached
        self.download_button.setVisible(missing and not self._downloading)
        if missing:
            self.download_button.setText(f"Download {entry.name} ({entry.size_mb:.0f} MB)")
            self.set_info(
                f"{entry.architecture} {entry.name} is not in the cache ({entry.path.parent}). "
                "Download it, or choose other weights.",
                True,
            )

    def _on_download(self) -> None:
        entry = self._entry(self.arch_combo.currentText(), self.weights_combo.currentData())
        if entry is None:
            return
        self._downloading = True
        self.download_button.hide()
        self.download_bar.setValue(0)
        self.download_bar.show()
        self.cancel_button.show()
        self.download_requested.emit(entry.architecture, entry.name, self.mirror_edit.text())

    def _on_ambiguous_chosen(self) -> None:
        architecture = self.ambiguous_combo.currentText()
        self.ambiguous_row.hide()
        self.arch_combo.setCurrentText(architecture)
        self.request(ModelChoice(architecture, self._ambiguous_path))


def _is_named(choice: ModelChoice) -> bool:
    """A torchvision weights name (``COCO_V1``), not default, random init or a file."""
    return not (choice.is_file or choice.is_random or choice.weights == "default")
