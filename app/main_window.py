"""The main window: a coordinator of docks around one image canvas.

It owns no logic of its own beyond wiring: images come from ImageStore, the model from
ModelController (both off the GUI thread), edits from app.annotate, drawing goes through
canvas overlays.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMainWindow, QMessageBox

from app.annotate import file_actions, recovery
from app.annotate.assist import ModelAssist
from app.annotate.autosave import Autosave
from app.annotate.classes_dock import ClassesDock
from app.annotate.commands import EditCommands
from app.annotate.editor import BoxEditor
from app.annotate.object_layer import ObjectLayer
from app.annotate.predictions_dock import PredictionsDock
from app.annotate.shortcuts import ShortcutSheet, build_edit_actions
from app.annotate.status import StatusBar
from app.annotate.undo import UndoStack
from app.canvas import ImageCanvas
from app.image_list import ImageListDock
from app.image_store import ImageStore
from app.model_controller import ModelController
from app.model_dock import ModelDock
from app.settings import remember_folder, restore_layout, save_layout, settings
from app.workers import WorkerPool
from detector.store import open_dataset

APP_NAME = "DetScope"


class MainWindow(QMainWindow):
    """The DetScope window. What docks (app/extensions.py) may use:

    * ``dataset``: the open :class:`detector.data.dataset.Dataset`, or None.
      ``dataset_opened(dataset)`` when another one is opened; ``dataset_changed(change)``
      re-emits every :class:`detector.data.dataset.Change` of whichever dataset is open.
    * ``images``: image ids in list order; ``image_dock.set_filter(predicate | ids,
      sort_key=None, label="...")`` narrows/sorts the list (None shows all again).
    * ``canvas``: :class:`app.canvas.ImageCanvas` (``boxes_overlay(name, z)``,
      ``mask_overlay(name, z)``, ``focus_box(box)``); overlays clear on every new image.
    * ``image_changed(image_id)``: a new image is shown and its annotations are drawn.
    * ``current_image_id`` (None before any) and ``current_image()`` (RGB numpy or None).
    * ``go_to(image_id, box=None)``: show that image; with an xyxy box, zoom on it and
      select the object there (or flash the box).
    * ``pool`` (:class:`app.workers.WorkerPool`), ``models`` (ModelController, ``.model``),
      ``undo.push(edit)`` for an undoable edit, ``show_error(title, message)``.
    """

    image_changed = Signal(int)
    dataset_opened = Signal(object)
    dataset_changed = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(APP_NAME)
        self.resize(1280, 800)
        self.pool = WorkerPool(self)
        self.store = ImageStore(self.pool, self)
        self.models = ModelController(self.pool, self)
        self.undo = UndoStack(self)
        self.autosave = Autosave(self, pool=self.pool)  # saves in a worker, see autosave
        self.dataset = None
        self.folder: Path | None = None
        self.images: list[int] = []
        self.current_image_id: int | None = None
        self.detections: dict[int, object] = {}  # image id -> raw Detections of the model
        self.prediction_names: dict[int, str] = {}  # category ids predictions reserved
        self.unreadable: set[int] = set()
        self._pending_box = None
        self._unsubscribe = None
        self.recovery_prompt = None  # the open "Restore unsaved work?" question, if any
        self.canvas = ImageCanvas(self)
        self.setCentralWidget(self.canvas)
        self.layer = ObjectLayer(self.canvas)
        self.layer.prediction_names = self.prediction_names
        self.editor = BoxEditor(self.canvas, self.layer, self.undo, self)
        self.commands = EditCommands(self)
        self.assist = ModelAssist(self)
        self._build_docks()
        self.status = StatusBar(self)
        self._build_actions()
        self._connect()
        from app import extensions

        extensions.install_all(self)
        restore_layout(self)  # after every dock exists, extensions' included

    # ----- construction ------------------------------------------------------------------
    def _build_docks(self) -> None:
        self.image_dock = ImageListDock(self)
        self.classes_dock = ClassesDock(self)
        self.predictions_dock = PredictionsDock(self)
        self.model_dock = ModelDock(self)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.image_dock)
        right = Qt.DockWidgetArea.RightDockWidgetArea
        for dock in (self.classes_dock, self.predictions_dock):
            self.addDockWidget(right, dock)
        # Predictions, Model (and the Evaluate dock, added by its module) share one tab group
        self.tabifyDockWidget(self.predictions_dock, self.model_dock)
        self.predictions_dock.raise_()
        self.resizeDocks(
            [self.image_dock, self.classes_dock], [260, 290], Qt.Orientation.Horizontal
        )

    def _action(self, text: str, shortcut, slot) -> QAction:
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
        self.edit_actions = build_edit_actions(self)
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        imports, exports = file_menu.addMenu("&Import"), file_menu.addMenu("&Export")
        for kind in file_actions.IMPORTERS:
            imports.addAction(f"{kind}…", lambda k=kind: file_actions.choose_import(self, k))
        for kind in file_actions.EXPORTERS:
            exports.addAction(f"{kind}…", lambda k=kind: file_actions.choose_export(self, k))
        file_menu.addActions([self.edit_actions["save"], self.quit_action])
        edit_menu = self.menuBar().addMenu("&Edit")
        for name in ("undo", "redo", "draw", "delete", "duplicate", "copy", "paste", "relabel"):
            edit_menu.addAction(self.edit_actions[name])
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addActions([self.fit_action, self.actual_action, self.edit_actions["labels"]])
        view_menu.addSeparator()
        for dock in (self.image_dock, self.classes_dock, self.predictions_dock, self.model_dock):
            view_menu.addAction(dock.toggleViewAction())
        self.model_menu = self.menuBar().addMenu("&Model")
        self.model_menu.addAction(self.detect_action)
        self.model_menu.addAction("Detect &All Images", self.assist.detect_all)
        self.menuBar().addMenu("&Help").addAction(self.edit_actions["help"])

    def _connect(self) -> None:
        self.image_dock.image_selected.connect(self.show_image)
        self.store.image_ready.connect(self._on_image_ready)
        self.store.image_failed.connect(self.mark_unreadable)
        self.canvas.cursor_moved.connect(self.status.show_cursor)
        self.canvas.space_tapped.connect(self.commands.toggle_verified)
        self.editor.box_drawn.connect(self.commands.add_box)
        self.editor.selection_changed.connect(self.status.show_selection)
        self.undo.failed.connect(lambda message: self.statusBar().showMessage(message, 8000))
        self.undo.applied.connect(self._on_undo_applied)
        self.autosave.dirty_changed.connect(lambda _d: self._update_title())
        self.autosave.failed.connect(lambda message: self.statusBar().showMessage(message, 15000))
        self.classes_dock.visibility_changed.connect(self._on_hidden_classes)
        self.classes_dock.current_changed.connect(
            lambda i: setattr(self.commands, "current_category", i)
        )
        dock = self.predictions_dock
        dock.threshold_changed.connect(self._on_threshold)
        dock.detect_requested.connect(self.detect_current)
        dock.detect_all_requested.connect(self.assist.detect_all)
        dock.cancel_requested.connect(self.assist.cancel)
        dock.accept_requested.connect(self.commands.accept_selected)
        dock.accept_all_requested.connect(lambda: self.commands.accept_above(dock.threshold()))
        dock.reject_requested.connect(self.commands.reject)
        dock.clear_requested.connect(lambda: self.set_predictions(self.current_image_id, []))
        self.model_dock.model_requested.connect(self.choose_model)
        self.model_dock.detect_requested.connect(self.detect_current)
        self.models.model_loaded.connect(self.status.show_model)
        self.models.detections_ready.connect(self.assist.on_detections)
        self.models.failed.connect(lambda message: self.show_error("Model error", message))
        self.models.busy_changed.connect(self.status.busy_bar.setVisible)

    # ----- folder and dataset ------------------------------------------------------------
    def _choose_folder(self) -> None:
        start = str(self.folder or settings().value("last_folder", ""))
        folder = QFileDialog.getExistingDirectory(self, "Open image folder", start)
        if folder:
            self.open_folder(Path(folder))

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for folder in settings().value("recent_folders", []) or []:
            self.recent_menu.addAction(folder, lambda f=folder: self.open_folder(Path(f)))

    def open_folder(self, folder: Path) -> bool:
        """Open the images of ``folder`` and its annotations.json, then offer to restore
        unsaved work left by a crash or a failed save (``recovery_prompt``, non-blocking)."""
        from detector.errors import DetScopeError

        folder = Path(folder)
        self.autosave.flush()
        try:
            dataset = open_dataset(folder)
        except (DetScopeError, OSError) as exc:
            self.show_error("Cannot open folder", f"{folder}: {exc}")
            self.recovery_prompt = recovery.offer(self, folder)  # the recovery file may do
            return False
        self.set_dataset(dataset, folder)
        remember_folder(folder)
        self.recovery_prompt = recovery.offer(self, folder)
        return True

    def import_annotations(self, kind: str, source: Path, image_root: Path | None) -> None:
        from detector.errors import DetScopeError

        try:
            dataset = file_actions.import_dataset(kind, source, image_root)
        except (DetScopeError, OSError) as exc:
            self.show_error(f"Cannot import {kind}", str(exc))
            return
        self.set_dataset(dataset, dataset.root)  # nothing is written until the user edits
        self.statusBar().showMessage(file_actions.import_message(kind, source, dataset), 15000)

    def export_annotations(self, kind: str, target: Path) -> None:
        from detector.errors import DetScopeError

        try:
            message = file_actions.export_dataset(self.dataset, kind, target)
        except (DetScopeError, OSError) as exc:
            self.show_error(f"Cannot export {kind}", str(exc))
            return
        self.statusBar().showMessage(message, 8000)

    def set_dataset(self, dataset, folder: Path) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.dataset, self.folder = dataset, Path(folder)
        self.images = list(dataset.images)
        self.detections.clear()
        self.prediction_names.clear()
        self.unreadable.clear()
        self.current_image_id = None
        self.undo.reset(dataset)
        self.autosave.attach(dataset)
        self._unsubscribe = dataset.subscribe(self._on_dataset_change)
        self.store.set_paths({i: dataset.image_path(i) for i in self.images})
        self.image_dock.set_images({i: r.file_name for i, r in dataset.images.items()})
        self.status.refresh_all_rows()
        self.classes_dock.refresh()
        self.layer.show(dataset, None)
        self.canvas.set_image(None)
        self._update_title()
        self.status.show_issues(dataset.issues)
        self.dataset_opened.emit(dataset)
        if self.images:
            self.image_dock.select(self.images[0])
        else:
            self.statusBar().showMessage(f"No images in {folder}", 5000)

    def _on_dataset_change(self, change) -> None:
        if change.categories:
            self.classes_dock.refresh()
        for image_id in change.image_ids:
            self.status.refresh_row(image_id)
        if change.categories or self.current_image_id in change.image_ids:
            self.layer.redraw()
            self.editor.prune()
            self.status.show_counts()
        self.dataset_changed.emit(change)

    def set_predictions(self, image_id: int | None, annotations) -> None:
        """Replace an image's unaccepted predictions (not ground truth: not saved)."""
        if self.dataset is not None and image_id is not None:
            self.dataset.set_predictions(image_id, annotations)

    # ----- images ------------------------------------------------------------------------
    def show_image(self, image_id: int) -> None:
        if self.dataset is None or image_id not in self.dataset.images:
            return
        self.autosave.save_in_background()
        self.current_image_id = image_id
        self.editor.select([])
        visible = self.image_dock.visible_ids() or self.images
        position = visible.index(image_id) if image_id in visible else -1
        following = visible[position + 1] if 0 <= position < len(visible) - 1 else None
        self.store.request(image_id, prefetch=following)

    def go_to(self, image_id: int, box=None) -> None:
        """Show ``image_id``; with ``box`` (xyxy) zoom on it and select what is there."""
        self._pending_box = None if box is None else tuple(float(v) for v in box)
        if image_id == self.current_image_id and self.canvas.image is not None:
            self._focus_pending()
        else:
            self.image_dock.select(image_id)

    def _focus_pending(self) -> None:
        box, self._pending_box = self._pending_box, None
        if box is None:
            return
        self.canvas.focus_box(box)
        hit = self.layer.object_at((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
        if hit is not None:
            self.editor.select([hit])
        else:
            self.layer.selection.set_state([box], handles=False)

    def _on_image_ready(self, image_id: int, decoded) -> None:
        if image_id != self.current_image_id:
            return
        self.canvas.set_image(decoded.array, decoded.qimage, levels=decoded.levels)
        self.layer.show(self.dataset, image_id)
        self.editor.refresh()
        self.status.show_counts()
        self._focus_pending()
        self.image_changed.emit(image_id)
        self.assist.image_shown()

    def mark_unreadable(self, image_id: int, message: str) -> None:
        self.unreadable.add(image_id)
        self.status.refresh_row(image_id)
        if image_id == self.current_image_id:
            self.assist.image_failed()
            self.canvas.set_image(None)
            self.layer.show(self.dataset, None)
            self.statusBar().showMessage(message, 10000)

    def current_image(self) -> np.ndarray | None:
        decoded = self.store.cached(self.current_image_id)
        return None if decoded is None else decoded.array

    def current_path(self) -> Path | None:
        """The file of the current image (None before any)."""
        if self.dataset is None or self.current_image_id is None:
            return None
        return self.dataset.image_path(self.current_image_id)

    def step_image(self, step: int) -> None:
        visible = self.image_dock.visible_ids() or self.images
        if not visible:
            return
        here = visible.index(self.current_image_id) if self.current_image_id in visible else -1
        target = min(max(here + step, 0), len(visible) - 1)
        self.image_dock.select(visible[target])

    def previous_image(self) -> None:
        self.step_image(-1)

    def next_image(self) -> None:
        self.step_image(+1)

    # ----- edit helpers (shortcut targets) -----------------------------------------------
    def save(self) -> None:
        if self.autosave.flush() and self.dataset is not None:
            self.statusBar().showMessage(f"Saved {self.dataset.annotation_path}", 4000)

    def toggle_labels(self) -> None:
        overlay = self.canvas.boxes_overlay("objects", z=30)
        self.canvas.set_labels_visible(not overlay.show_labels)

    def nudge_left(self) -> None:
        self.commands.nudge(-1, 0)

    def nudge_right(self) -> None:
        self.commands.nudge(1, 0)

    def nudge_up(self) -> None:
        self.commands.nudge(0, -1)

    def nudge_down(self) -> None:
        self.commands.nudge(0, 1)

    def ask_relabel(self) -> None:
        if self.dataset is None or not self.editor.selected or not self.dataset.categories:
            return
        names = [c.name for c in self.dataset.categories.values()]
        dialog = QInputDialog(self, windowTitle="Relabel", labelText="Class:")
        dialog.setComboBoxItems(names)
        dialog.textValueSelected.connect(
            lambda name: self.commands.relabel(self.dataset.category_by_name(name).id)
        )
        dialog.open()  # non-blocking
        self.relabel_dialog = dialog

    def show_shortcuts(self) -> None:
        self.shortcut_sheet = ShortcutSheet(self)
        self.shortcut_sheet.show()

    def _on_undo_applied(self, image_id) -> None:
        if image_id is not None and image_id != self.current_image_id:
            self.image_dock.select(image_id)  # show where the undone edit happened

    def _on_hidden_classes(self, hidden: set) -> None:
        self.layer.hidden_categories = hidden
        self.layer.redraw()
        self.editor.prune()

    def _on_threshold(self, value: float) -> None:
        self.layer.threshold = value
        self.layer.redraw()
        self.editor.prune()
        self.status.show_counts()

    def _update_title(self) -> None:
        name = self.folder.name if self.folder else ""
        mark = " • unsaved" if self.autosave.dirty else ""
        self.setWindowTitle(f"{name}{mark} — {APP_NAME}" if name else APP_NAME)

    # ----- model -------------------------------------------------------------------------
    def choose_model(self, name: str, device: str) -> None:
        self.detections.clear()
        self.status.model_label.setText(f"model: loading {Path(name).name}…")
        self.models.load(name, device)

    def detect_current(self) -> None:
        self.assist.detect_current()

    def detect_current_when_ready(self) -> None:
        """Detect on the current image now, or as soon as it has been decoded."""
        self.assist.detect_when_ready()

    # ----- misc --------------------------------------------------------------------------
    def show_error(self, title: str, message: str) -> None:
        self.statusBar().showMessage(message, 10000)
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, parent=self)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()  # non-blocking: never freezes the window or a test

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.autosave.flush()
        save_layout(self)
        self.assist.cancel()
        self.pool.shutdown()
        super().closeEvent(event)
