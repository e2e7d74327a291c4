"""The Masks toolbar: polygon tool, Mask from box,
the contour tolerance, and the selected object's flags (iscrowd, difficult, truncated,
occluded), each change one undo step."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QLabel, QToolBar

from app.annotate.mask_from_box import MaskFromBox
from app.annotate.polygon_tool import PolygonTool
from detector.data.flags import FLAGS, object_flags, with_flags

FLAG_TEXT = {"iscrowd": "crowd", "difficult": "difficult", "truncated": "truncated"}
FLAG_TEXT["occluded"] = "occluded"


class MaskToolbar(QToolBar):
    def __init__(self, window) -> None:
        super().__init__("Masks", window)
        self.setObjectName("MaskToolbar")
        self.window = window
        self.polygons = PolygonTool(window, self)
        self.mask_from_box = MaskFromBox(window, self.polygons, self)
        self.polygon_action = self._action("Polygon", "P", self.polygons.start)
        self.polygon_action.setToolTip("Draw a polygon (P): clicks; double-click/Enter closes")
        self.part_action = self._action(
            "Add part", "Shift+P", lambda: self.polygons.start(add_part=True)
        )
        self.mask_action = self._action("Mask from box", "Ctrl+M", self.mask_from_box.run)
        self.mask_action.setToolTip(
            "Run the current Mask R-CNN's mask head on the selected box (RoIAlign on its FPN "
            "level, 28x28 logits, pasted) and make the result an editable polygon"
        )
        self.tolerance = QDoubleSpinBox(minimum=0.0, maximum=20.0, singleStep=0.5, value=1.0)
        self.tolerance.setSuffix(" px")
        self.tolerance.setToolTip("Contour simplification (Douglas-Peucker) for masks made here")
        self.tolerance.valueChanged.connect(self.polygons.set_tolerance)
        self.addWidget(QLabel(" tolerance "))
        self.addWidget(self.tolerance)
        self.addSeparator()
        self.flags = {name: QCheckBox(FLAG_TEXT[name]) for name in FLAGS}
        for name, box in self.flags.items():
            box.toggled.connect(lambda on, n=name: self._set_flag(n, on))
            self.addWidget(box)
        for signal in (self.polygons.message, self.mask_from_box.message):
            signal.connect(lambda text: window.statusBar().showMessage(text, 8000))
        window.editor.selection_changed.connect(self.show_flags)
        window.state.dataset_changed.connect(lambda _change: self.show_flags())
        self.show_flags()

    def _action(self, text: str, shortcut: str, slot) -> QAction:
        action = QAction(text, self.window)
        action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        self.window.addAction(action)
        self.addAction(action)
        return action

    def selected(self):
        chosen = self.window.editor.selected_annotations()
        return chosen[0] if len(chosen) == 1 else None

    def show_flags(self) -> None:
        """The checkboxes show the one selected object's flags (disabled otherwise)."""
        obj = self.selected()
        values = object_flags(obj) if obj is not None else dict.fromkeys(FLAGS, False)
        for name, box in self.flags.items():
            box.blockSignals(True)
            box.setChecked(values[name])
            box.setEnabled(obj is not None)
            box.blockSignals(False)

    def _set_flag(self, name: str, on: bool) -> None:
        from detector.data.edits import UpdateObjects

        obj = self.selected()
        if obj is None or object_flags(obj)[name] == on:
            return
        verb = f"{'Set' if on else 'Clear'} {FLAG_TEXT[name]}"
        edit = UpdateObjects((with_flags(obj, **{name: on}),), verb)
        self.window.undo.push(edit, obj.image_id)


def install_mask_tools(window) -> MaskToolbar:
    """The Masks toolbar and its Edit-menu entries (part of annotating, like the box editor;
    the main window calls this once its menus and editor exist)."""
    toolbar = MaskToolbar(window)
    window.addToolBar(toolbar)
    for action in window.menuBar().actions():
        if action.menu() is not None and action.text().replace("&", "") == "Edit":
            menu = action.menu()
            menu.addSeparator()
            menu.addActions([toolbar.polygon_action, toolbar.part_action, toolbar.mask_action])
    return toolbar
