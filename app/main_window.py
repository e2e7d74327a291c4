"""The main window: a coordinator of docks around one image canvas.

It owns no logic of its own beyond wiring: images come from ImageStore, the model from
ModelController (both off the GUI thread), drawing goes through canvas overlays.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QProgressBar

from app.canvas import ImageCanvas
from app.image_list import ImageListDock
from app.image_store import ImageStore
from app.model_controller import ModelController
from app.model_dock import ModelDock
from app.overlays import BoxSet
from app.palette import class_color
from app.settings import settings
from app.workers import WorkerPool

APP_NAME = "DetScope"


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(APP_NAME)
        self.resize(1280, 800)
        self.pool = WorkerPool(self)
        self.images = ImageStore(self.pool, self)
        self.models = ModelController(self.pool, self)
        self.folder: Path | None = None
        self.current_index = -1
        self.detections: dict[int, object] = {}
        self._detect_when_shown = False
        self.unreadable: set[int] = set()
        self.canvas = ImageCanvas(self)
        self.setCentralWidget(self.canvas)
        self.image_dock = ImageListDock(self)
        self.model_dock = ModelDock(self)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.image_dock)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.model_dock)
        self.resizeDocks([self.image_dock, self.model_dock], [220, 300], Qt.Orientation.Horizontal)
        self._build_status_bar()
        self._build_actions()
        self._connect()
        from app import extensions

        extensions.install_all(self)

    # ----- construction ------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        self.cursor_label = QLabel("")
        self.model_label = QLabel("model: not loaded")
        self.busy_bar = QProgressBar(maximumWidth=120, maximum=0, visible=False)
        bar = self.statusBar()
        bar.addPermanentWidget(self.cursor_label)
        bar.addPermanentWidget(self.model_label)
        bar.addPermanentWidget(self.busy_bar)

    def _action(self, text: str, shortcut: str | QKeySequence | None, slot) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.open_action = self._action(
            "&Open Folder…", QKeySequence.StandardKey.Open, self._choose_folder
        )
        self.quit_action = self._action("&Quit", QKeySequence.StandardKey.Quit, self.close)
        self.fit_action = self._action("&Fit to Window", "Ctrl+F", self.canvas.fit)
        self.actual_action = self._action("&Actual Size (100%)", "Ctrl+0", self.canvas.actual_size)
        self.detect_action = self._action("&Detect This Image", "Ctrl+R", self.detect_current)
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addActions([self.open_action, self.quit_action])
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addActions([self.fit_action, self.actual_action])
        view_menu.addSeparator()
        for dock in (self.image_dock, self.model_dock):
            view_menu.addAction(dock.toggleViewAction())
        self.model_menu = self.menuBar().addMenu("&Model")
        self.model_menu.addAction(self.detect_action)

    def _connect(self) -> None:
        self.image_dock.image_selected.connect(self.show_image)
        self.images.image_ready.connect(self._on_image_ready)
        self.images.image_failed.connect(self._on_image_failed)
        self.canvas.cursor_moved.connect(self._on_cursor_moved)
        self.model_dock.model_requested.connect(self.choose_model)
        self.model_dock.detect_requested.connect(self.detect_current)
        self.model_dock.display_threshold_changed.connect(lambda _v: self._draw_detections())
        self.models.model_loaded.connect(self._on_model_loaded)
        self.models.detections_ready.connect(self._on_detections)
        self.models.failed.connect(lambda message: self.show_error("Model error", message))
        self.models.busy_changed.connect(self.busy_bar.setVisible)

    # ----- folder and images -------------------------------------------------------------
    def _choose_folder(self) -> None:
        start = str(self.folder or settings().value("last_folder", ""))
        folder = QFileDialog.getExistingDirectory(self, "Open image folder", start)
        if folder:
            self.open_folder(Path(folder))

    def open_folder(self, folder: Path) -> None:
        from detector.imageio import list_images

        try:
            paths = list_images(folder)
        except OSError as exc:
            self.show_error("Cannot open folder", f"{folder}: {exc.strerror or exc}")
            return
        self.folder = Path(folder)
        self.detections.clear()
        self.unreadable.clear()
        self.images.set_paths(paths)
        self.image_dock.set_images(paths)
        settings().setValue("last_folder", str(folder))
        self.setWindowTitle(f"{self.folder.name} — {APP_NAME}")
        if paths:
            self.image_dock.select(0)
        else:
            self.statusBar().showMessage(f"No images in {folder}", 5000)

    def show_image(self, index: int) -> None:
        self.current_index = index
        self.images.request(index)

    def _on_image_ready(self, index: int, image: np.ndarray) -> None:
        if index != self.current_index:
            return
        self.canvas.set_image(image)
        self._draw_detections()
        if self._detect_when_shown:
            self._detect_when_shown = False
            self.detect_current()

    def _on_image_failed(self, index: int, message: str) -> None:
        self.unreadable.add(index)
        if index == self.current_index:
            self._detect_when_shown = False
            self.canvas.set_image(None)
            self.image_dock.set_status(index, "⚠ unreadable")
            self.statusBar().showMessage(message, 10000)

    def current_image(self) -> np.ndarray | None:
        return self.images.cached(self.current_index) if self.current_index >= 0 else None

    # ----- model -------------------------------------------------------------------------
    def choose_model(self, name: str, device: str) -> None:
        self.detections.clear()
        self._draw_detections()
        self.model_label.setText(f"model: loading {Path(name).name}…")
        self.models.load(name, device)

    def _on_model_loaded(self, model) -> None:
        device = str(model.device)
        self.model_label.setText(f"{model.architecture} on {device}")
        warning = not model.trained
        text = model.describe()
        if warning:
            text += (
                "\nUntrained: detections are meaningless until you load a trained "
                "checkpoint or the bundled model is present."
            )
        self.model_dock.set_info(text, warning)
        settings().setValue("model", self.models.choice[0])
        settings().setValue("device", self.models.choice[1])

    def detect_current(self) -> None:
        image = self.current_image()
        if image is None:
            self.statusBar().showMessage("Open an image first", 3000)
            return
        self.statusBar().showMessage("Detecting…")
        self.models.detect(self.current_index, image)

    def detect_current_when_ready(self) -> None:
        """Detect on the current image now, or as soon as it has been decoded."""
        if self.current_image() is not None:
            self.detect_current()
        else:
            self._detect_when_shown = True

    def _on_detections(self, index: object, detections, seconds: float) -> None:
        self.detections[int(index)] = detections
        model = self.models.model
        self.statusBar().showMessage(
            f"{len(detections)} detections in {seconds * 1000:.0f} ms on {model.device}", 8000
        )
        self.image_dock.set_status(int(index), f"· {len(detections)} pred")
        if index == self.current_index:
            self._draw_detections()

    def _draw_detections(self) -> None:
        overlay = self.canvas.boxes_overlay("predictions", z=20)
        masks = self.canvas.mask_overlay("prediction_masks", z=15)
        detections = self.detections.get(self.current_index)
        model = self.models.model
        if detections is None or model is None:
            overlay.clear()
            masks.set_masks(None, [])
            return
        keep = detections.scores >= self.model_dock.threshold_spin.value()
        shown = detections.select(keep)
        colors = [class_color(int(label)) for label in shown.labels]
        labels = [
            f"{_category(model, label)} {score:.2f}"
            for label, score in zip(shown.labels, shown.scores, strict=True)
        ]
        overlay.set_boxes(BoxSet(shown.boxes, colors, labels, dashed=True))
        masks.set_masks(shown.masks, colors)

    # ----- misc --------------------------------------------------------------------------
    def _on_cursor_moved(self, x: float, y: float) -> None:
        image = self.canvas.image
        if image is None or not (0 <= x < image.shape[1] and 0 <= y < image.shape[0]):
            self.cursor_label.setText("")
            return
        r, g, b = image[int(y), int(x)]
        self.cursor_label.setText(f"x {int(x)}, y {int(y)}  RGB {r} {g} {b}")

    def show_error(self, title: str, message: str) -> None:
        self.statusBar().showMessage(message, 10000)
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, parent=self)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()  # non-blocking: never freezes the window or a test

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        settings().setValue("geometry", self.saveGeometry())
        self.pool.shutdown()
        super().closeEvent(event)


def _category(model, label) -> str:
    index = int(label)
    return model.categories[index] if 0 <= index < len(model.categories) else f"class {index}"
