"""The dock's controls: Run / Cancel with progress, the view settings, the mAP headline,
and the Export menu (plot PNG / SVG, metrics CSV / JSON)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.evaluate.metrics import AP_DEFINITIONS, IOU_MODES, EvaluationView, ViewSettings

ALL_CLASSES = -1


class ControlBar(QWidget):
    settings_changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.run_button = QPushButton("Run evaluation")
        self.run_button.setToolTip("Run the model over every annotated image and evaluate")
        self.cancel_button = QPushButton("Cancel", enabled=False)
        self.progress = QProgressBar(visible=False)
        self.status_label = QLabel("Run the model over the annotated images to see PR curves.")
        self.status_label.setWordWrap(True)
        self.headline = QLabel("mAP –")
        font = QFont()
        font.setPointSize(font.pointSize() + 3)
        font.setBold(True)
        self.headline.setFont(font)
        self.class_combo = QComboBox()
        self.class_combo.addItem("All classes", ALL_CLASSES)
        self.iou_combo = QComboBox()
        for mode in IOU_MODES:
            self.iou_combo.addItem(f"IoU {mode}", mode)
        self.definition_combo = QComboBox()
        for key, text in AP_DEFINITIONS.items():
            self.definition_combo.addItem(text, key)
        self.score_spin = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.05, value=0.5)
        self.score_spin.setToolTip("Operating point: detections below this score are ignored")
        self.marks_check = QCheckBox(
            "On the image: TP green, FP red, missed ground truth (FN) orange", checked=True
        )
        self._layout()
        for combo in (self.class_combo, self.iou_combo, self.definition_combo):
            combo.currentIndexChanged.connect(lambda _i: self.settings_changed.emit())
        self.score_spin.valueChanged.connect(lambda _v: self.settings_changed.emit())

    def _layout(self) -> None:
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.cancel_button)
        run_row.addWidget(self.progress, 1)
        form = QFormLayout()
        form.addRow("Class", self.class_combo)
        pair = QHBoxLayout()
        pair.addWidget(self.iou_combo)
        pair.addWidget(self.definition_combo, 1)
        form.addRow("AP", pair)
        form.addRow("Score ≥", self.score_spin)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(run_row)
        layout.addWidget(self.status_label)
        layout.addWidget(self.headline)
        layout.addLayout(form)
        layout.addWidget(self.marks_check)

    # ----- settings ----------------------------------------------------------------------
    def settings(self) -> ViewSettings:
        return ViewSettings(
            str(self.iou_combo.currentData()),
            str(self.definition_combo.currentData()),
            float(self.score_spin.value()),
        )

    def category_id(self) -> int | None:
        value = int(self.class_combo.currentData())
        return None if value == ALL_CLASSES else value

    def set_categories(self, categories: dict[int, str]) -> None:
        known = [int(self.class_combo.itemData(i)) for i in range(1, self.class_combo.count())]
        if known == sorted(categories):
            return
        current = self.category_id()
        self.class_combo.blockSignals(True)
        while self.class_combo.count() > 1:
            self.class_combo.removeItem(1)
        for category_id in sorted(categories):
            self.class_combo.addItem(categories[category_id], category_id)
        self.class_combo.blockSignals(False)
        if current is not None:
            self.select_category(current)

    def select_category(self, category_id: int) -> None:
        index = self.class_combo.findData(category_id)
        if index >= 0:
            self.class_combo.setCurrentIndex(index)

    # ----- state -------------------------------------------------------------------------
    def set_headline(self, view: EvaluationView) -> None:
        value = f"{view.mean_ap:.3f}" if view.mean_ap >= 0 else "–"
        self.headline.setText(f"mAP {value}")
        self.headline.setToolTip(f"{view.settings.describe()}, {view.num_images} images")

    def clear_headline(self) -> None:
        self.headline.setText("mAP –")
        self.headline.setToolTip("")

    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.progress.setVisible(running)
        if running:
            self.progress.setRange(0, 0)
            self.status_label.setText("Starting…")

    def show_progress(self, done: int, total: int, message: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.status_label.setText(message)


class ExportButton(QToolButton):
    """A menu of exports; each asks for a file name, then calls the dock's exporter."""

    def __init__(self, dock) -> None:
        super().__init__()
        self.setText("Export…")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self._dock = dock
        menu = QMenu(self)
        for text, suffix in (
            ("Plot as PNG…", "png"),
            ("Plot as SVG…", "svg"),
            ("Metrics as CSV…", "csv"),
            ("Metrics as JSON…", "json"),
        ):
            menu.addAction(text, lambda s=suffix: self._export(s))
        self.setMenu(menu)

    def _export(self, suffix: str) -> None:
        dataset = self._dock.live.dataset
        folder = dataset.root if dataset is not None else Path.home()
        name, _ = QFileDialog.getSaveFileName(
            self, "Export", str(folder / f"evaluation.{suffix}"), f"{suffix.upper()} (*.{suffix})"
        )
        if name:
            self._dock.export(name)
