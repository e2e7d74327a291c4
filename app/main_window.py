"""The main window: a coordinator of docks around one image canvas.

It owns no logic of its own beyond wiring: images come from ImageStore, the model from
ModelController (both off the GUI thread), edits from app.annotate, drawing goes through
canvas overlays.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QMainWindow,
    QMessageBox,
)

from app import tour
from app.annotate import file_actions, recovery
from app.annotate.assist import ModelAssist
from app.annotate.autosave import Autosave
from app.annotate.classes_dock import ClassesDock
from app.annotate.commands import EditCommands
from app.annotate.editor import BoxEditor
from app.annotate.mask_tools import install_mask_tools
from app.annotate.object_layer import ObjectLayer
from app.annotate.predictions_dock import PredictionsDock
from app.annotate.shortcuts import ShortcutSheet, build_edit_actions
from app.annotate.status import StatusBar
from app.canvas import ImageCanvas
from app.help import FirstRunHint
from app.image_list import ImageListDock
from app.model_dock import ModelDock
from app.model_link import connect_model_dock
from app.settings import remember_folder, restore_layout, save_layout, settings
from app.state import AppState, loading_frozen
from app.workspaces import Workspaces, scrollable
from detector.store import open_dataset

APP_NAME = "DetScope"


class MainWindow(QMainWindow):
    """The DetScope window: layout and actions around one image canvas.

    The window's model is ``state`` (:class:`app.state.AppState`: dataset, image order,
    current image, model, undo, image store, workers); docks subscribe to it and write
    through it. The window implements :class:`app.extensions.WindowHost` for dock modules
    (``state``, ``canvas``, ``add_dock``, ``show_error``, ``go_to``, ``set_image_filter``);
    ``docks`` holds every dock by object name. ``open_folder(path)`` is for scripts and tests.
    The read-only properties (``dataset``, ``current_image_id``, ``models``, ...) forward to
    ``state``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(APP_NAME)
        self.resize(1280, 720)
        self.state = AppState(self)
        self.autosave = Autosave(self, pool=self.state.pool)  # saves in a worker, see autosave
        self.docks: dict[str, QDockWidget] = {}
        self._tab_anchor: dict[Qt.DockWidgetArea, QDockWidget] = {}
        self._pending_box = None
        self.recovery_prompt = None  # the open "Restore unsaved work?" question, if any
        self.canvas = ImageCanvas(self)
        self.setCentralWidget(self.canvas)
        self.layer = ObjectLayer(self.canvas)
        self.layer.prediction_names = self.state.prediction_names
        self.editor = BoxEditor(self.canvas, self.layer, self.undo, self)
        self.editor.prefer_predictions = self._reviewing_predictions
        cycle = QAction("Next object under the cursor", self.canvas, shortcut="Tab")
        cycle.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        cycle.triggered.connect(self.editor.cycle_under_cursor)
        self.canvas.addAction(cycle)
        self.commands = EditCommands(self)
        self.assist = ModelAssist(self)
        self.status = StatusBar(self)
        self._build_actions()
        self._build_docks()
        self.image_dock.set_status_source(self.status.row_text)  # asked per row on screen
        self._connect()
        self.mask_toolbar = install_mask_tools(self)  # polygons, Mask from box, object flags
        from app import extensions

        extensions.install_all(self)
        tour.install(self)  # Help > Getting started walks the docks' stages
        for dock in self.docks.values():
            scrollable(dock)  # no dock forces a minimum height: each scrolls in its room
        self.workspaces = Workspaces(self, self.layer.set_overlays_visible)
        self.view_menu.insertActions(self._view_first, list(self.workspaces.actions.values()))
        self.view_menu.insertAction(self._view_first, self._reset_workspace_action())
        self.view_menu.insertSeparator(self._view_first)
        restore_layout(self)  # after every dock exists, extensions' included
        self.first_run_hint = FirstRunHint(self.canvas)  # its event filter runs first

    # ----- the model, read-only (write through ``state``) --------------------------------
    dataset = property(lambda self: self.state.dataset)
    folder = property(lambda self: self.state.folder)
    images = property(lambda self: self.state.images)
    current_image_id = property(lambda self: self.state.current_image_id)
    detections = property(lambda self: self.state.detections)
    prediction_names = property(lambda self: self.state.prediction_names)
    unreadable = property(lambda self: self.state.unreadable)
    pool = property(lambda self: self.state.pool)
    store = property(lambda self: self.state.store)
    models = property(lambda self: self.state.models)
    undo = property(lambda self: self.state.undo)

    # ----- construction ------------------------------------------------------------------
    def _build_docks(self) -> None:
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self.image_dock = ImageListDock(self.state, self)
        self.classes_dock = ClassesDock(self.state, self)
        self.predictions_dock = PredictionsDock(self)
        self.model_dock = ModelDock(self)
        self.add_dock(self.image_dock, left)
        self.add_dock(self.classes_dock, right)
        # Predictions, Model (and tabbed extension docks such as Evaluate) share one tab group
        self.add_dock(self.predictions_dock, right)
        self._tab_anchor[right] = self.predictions_dock
        self.add_dock(self.model_dock, right, tabbed=True)
        self.predictions_dock.raise_()
        self.resizeDocks(
            [self.image_dock, self.classes_dock], [260, 290], Qt.Orientation.Horizontal
        )

    def add_dock(
        self,
        dock: QDockWidget,
        area: Qt.DockWidgetArea,
        *,
        shortcut: str | None = None,
        view_menu: bool = True,
        tabbed: bool = False,
    ) -> None:
        """Place ``dock`` (see :class:`app.extensions.WindowHost`); its object name (which
        the saved layout uses too) must be set and unique."""
        name = dock.objectName()
        if not name or name in self.docks:
            raise ValueError(f"dock {dock.windowTitle()!r}: object name {name!r} unset or taken")
        self.docks[name] = dock
        self.addDockWidget(area, dock)
        anchor = self._tab_anchor.get(area)
        if tabbed and anchor is not None:
            self.tabifyDockWidget(anchor, dock)
            self.predictions_dock.raise_()
        if shortcut:
            dock.toggleViewAction().setShortcut(QKeySequence(shortcut))
        if view_menu:
            self.view_menu.addAction(dock.toggleViewAction())

    def _reset_workspace_action(self) -> QAction:
        return self._action("Reset This &Workspace's Layout", None, self.workspaces.reset)

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
        self.view_menu = self.menuBar().addMenu("&View")
        self._view_first = self.fit_action  # workspaces go above it once they exist
        self.view_menu.addActions(
            [self.fit_action, self.actual_action, self.edit_actions["labels"]]
        )
        self.view_menu.addSeparator()
        self.model_menu = self.menuBar().addMenu("&Model")
        self.model_menu.addAction(self.detect_action)
        self.model_menu.addAction("Detect &All Images", self.assist.detect_all)
        self.help_menu = self.menuBar().addMenu("&Help")
        self.help_menu.addAction(self.edit_actions["help"])
        self.help_menu.addAction("&About DetScope", self.show_about)

    def _connect(self) -> None:
        state = self.state
        state.dataset_opened.connect(self._on_dataset_opened)
        state.dataset_changed.connect(self._on_dataset_change)
        state.current_image_changed.connect(self._on_current_image)
        state.image_loaded.connect(self._on_image_loaded)
        state.image_failed.connect(self._on_image_failed)
        self.canvas.cursor_moved.connect(self.status.show_cursor)
        self.canvas.space_tapped.connect(self.commands.toggle_verified)
        self.editor.box_drawn.connect(self.commands.add_box)
        self.editor.selection_changed.connect(self.status.show_selection)
        self.undo.failed.connect(lambda message: self.statusBar().showMessage(message, 8000))
        self.undo.applied.connect(self._on_undo_applied)
        self.autosave.dirty_changed.connect(lambda _d: self._update_title())
        self.autosave.failed.connect(lambda message: self.statusBar().showMessage(message, 15000))
        self.classes_dock.visibility_changed.connect(self._on_hidden_classes)
        self.classes_dock.message.connect(lambda text: self.statusBar().showMessage(text, 4000))
        self.classes_dock.current_changed.connect(
            lambda i: setattr(self.commands, "current_category", i)
        )
        dock = self.predictions_dock
        dock.threshold_changed.connect(self._on_threshold)
        dock.detect_requested.connect(self.detect_current)
        dock.detect_all_requested.connect(self.assist.detect_all)
        dock.cancel_requested.connect(self.assist.cancel)
        dock.accept_requested.connect(self.commands.accept_selected)
        dock.accept_all_requested.connect(
            lambda: self.commands.accept_above(dock.threshold(), dock.match_iou())
        )
        dock.reject_requested.connect(self.commands.reject)
        dock.clear_requested.connect(lambda: self.set_predictions(self.current_image_id, []))
        self.model_dock.model_requested.connect(self.choose_model)
        self.model_dock.detect_requested.connect(self.detect_current)
        self.models.model_loaded.connect(self.status.show_model)
        self.models.detections_ready.connect(self.assist.on_detections)
        self.models.failed.connect(lambda message: self.show_error("Model error", message))
        self.models.fell_back.connect(lambda message: self.statusBar().showMessage(message, 20000))
        self.models.busy_changed.connect(self.status.busy_bar.setVisible)
        connect_model_dock(self)  # weights list, downloads, failed-load restore

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

    def open_folder(self, folder: Path, split: str | None = None) -> bool:
        """Open the images of ``folder`` and its annotations (annotations.json or any
        exported layout; a folder with several splits asks which, unless ``split``), then
        offer to restore unsaved work left by a crash or a failed save (non-blocking)."""
        from detector.errors import DetScopeError

        folder = Path(folder)
        self.autosave.flush()
        try:
            split = split if split is not None else self._choose_split(folder)
            if split == "":
                return False  # the chooser was cancelled
            with loading_frozen():
                dataset = open_dataset(folder, split=split)
        except (DetScopeError, OSError) as exc:
            self.show_error("Cannot open folder", f"{folder}: {exc}")
            self.recovery_prompt = recovery.offer(self, folder)  # the recovery file may do
            return False
        self.set_dataset(dataset, folder)
        remember_folder(folder)
        self.recovery_prompt = recovery.offer(self, folder)
        return True

    def _choose_split(self, folder: Path) -> str | None:
        """None for a layout with one split, else the split the user picks ('' cancelled)."""
        from detector.formats.layouts import detect_layout

        layout = detect_layout(folder)
        if len(layout.splits) < 2:
            return None
        names = layout.split_names
        dialog = QInputDialog(self, windowTitle="Choose a split", labelText=layout.describe())
        dialog.setComboBoxItems(names)
        dialog.setTextValue(names[0])
        return dialog.textValue() if dialog.exec() else ""

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
        self.autosave.attach(dataset)
        self.state.set_dataset(dataset, folder)
        if not self.state.images:
            self.statusBar().showMessage(f"No images in {folder}", 5000)

    def _on_dataset_opened(self, dataset) -> None:
        self.status.refresh_all_rows()
        self.layer.show(dataset, None)
        self.canvas.set_image(None)
        self._update_title()
        self.status.show_issues(dataset.issues)

    def _on_dataset_change(self, change) -> None:
        for image_id in change.image_ids:
            self.status.refresh_row(image_id)
        if change.categories or self.current_image_id in change.image_ids:
            self.layer.redraw()
            self.editor.prune()
            self.status.show_counts()

    def set_predictions(self, image_id: int | None, annotations) -> None:
        """Replace an image's unaccepted predictions (not ground truth: not saved)."""
        self.state.set_predictions(image_id, annotations)

    # ----- images ------------------------------------------------------------------------
    def show_image(self, image_id: int) -> None:
        self.state.set_current_image(image_id)

    def _on_current_image(self, image_id: int | None) -> None:
        if image_id is None:
            return
        self.autosave.save_in_background()
        self.editor.select([])

    def go_to(self, image_id: int, box=None) -> None:
        """Show ``image_id``; with ``box`` (xyxy) zoom on it and select what is there."""
        self._pending_box = None if box is None else tuple(float(v) for v in box)
        if image_id == self.current_image_id and self.canvas.image is not None:
            self._focus_pending()
        else:
            self.state.set_current_image(image_id)

    def set_image_filter(self, which, sort_key=None, label: str = "") -> None:
        """Narrow and sort the image list (None shows every image again)."""
        self.image_dock.set_filter(which, sort_key, label)

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

    def _on_image_loaded(self, image_id: int, decoded) -> None:
        self.canvas.set_image(
            decoded.array, decoded.qimage, levels=decoded.levels, size=decoded.size
        )
        if decoded.image.reduced:  # the user sees why the pixels look soft when zoomed in
            self.statusBar().showMessage(
                f"Large image {decoded.image.describe()}: boxes and masks are in original "
                "pixels; detection runs on the reduced copy",
                15000,
            )
        self.layer.show(self.dataset, image_id)
        self.editor.refresh()
        self.status.show_counts()
        self._focus_pending()
        self.assist.image_shown()

    def mark_unreadable(self, image_id: int, message: str) -> None:
        self.state.mark_unreadable(image_id, message)

    def _on_image_failed(self, image_id: int, message: str) -> None:
        self.status.refresh_row(image_id)
        if image_id == self.current_image_id:
            self.assist.image_failed()
            self.canvas.set_image(None)
            self.layer.show(self.dataset, None)
            self.statusBar().showMessage(message, 10000)

    def current_image(self) -> np.ndarray | None:
        return self.state.current_image()

    def current_path(self) -> Path | None:
        """The file of the current image (None before any)."""
        return self.state.current_path()

    def step_image(self, step: int) -> None:
        self.state.step(step)

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

    def show_about(self) -> None:
        from app.help import show_about

        self.about_box = show_about(self)

    def show_shortcuts(self) -> None:
        self.shortcut_sheet = ShortcutSheet(self)
        self.shortcut_sheet.show()

    def _on_undo_applied(self, image_id) -> None:
        if image_id is not None and image_id != self.current_image_id:
            self.state.set_current_image(image_id)  # show where the undone edit happened

    def _on_hidden_classes(self, hidden: set) -> None:
        self.layer.hidden_categories = hidden
        self.layer.redraw()
        self.editor.prune()

    def _reviewing_predictions(self) -> bool:
        """The Predictions dock is on screen: a click on a prediction selects it first."""
        dock = self.predictions_dock
        return dock.isVisible() and not dock.visibleRegion().isEmpty()

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
        self.state.close()
        super().closeEvent(event)
