"""Every editing shortcut in one table: it builds the actions and the F1 sheet alike."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

# (name, menu text, shortcuts, window method / commands method path)
EDIT_SHORTCUTS: list[tuple[str, str, tuple[str, ...], str]] = [
    ("draw", "Draw box", ("W", "R"), "editor.draw"),
    ("delete", "Delete selected", ("Del", "Backspace"), "commands.delete"),
    ("duplicate", "Duplicate", ("Ctrl+D",), "commands.duplicate"),
    ("copy", "Copy", ("Ctrl+C",), "commands.copy"),
    ("paste", "Paste (also onto another image)", ("Ctrl+V",), "commands.paste"),
    ("relabel", "Relabel…", ("Ctrl+E",), "commands.ask_relabel"),
    ("undo", "Undo", ("Ctrl+Z",), "undo.undo"),
    ("redo", "Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "undo.redo"),
    ("previous", "Previous image", ("A",), "window.previous_image"),
    ("next", "Next image", ("D",), "window.next_image"),
    ("save", "Save", ("Ctrl+S",), "window.save"),
    ("labels", "Hide/show labels", ("T",), "window.toggle_labels"),
    ("accept", "Accept prediction", ("Return", "Enter"), "commands.accept_selected"),
    ("cancel", "Cancel drawing / deselect", ("Esc",), "editor.cancel"),
    ("left", "Nudge left", ("Left",), "commands.nudge_left"),
    ("right", "Nudge right", ("Right",), "commands.nudge_right"),
    ("up", "Nudge up", ("Up",), "commands.nudge_up"),
    ("down", "Nudge down", ("Down",), "commands.nudge_down"),
    ("help", "Keyboard shortcuts", ("F1",), "window.show_shortcuts"),
]

# shown in the sheet only (handled elsewhere: canvas, view actions, model)
OTHER_SHORTCUTS = [
    ("Mark image verified", "Space"),
    ("Relabel as class 1-9", "1 … 9"),
    ("Shift+arrows", "Nudge by 10 pixels"),
    ("Zoom", "Mouse wheel (around the cursor)"),
    ("Pan", "Middle-drag, or Space+drag"),
    ("Fit to window", "Ctrl+F"),
    ("Actual size (100 %)", "Ctrl+0"),
    ("Detect this image", "Ctrl+R"),
    ("Open folder", "Ctrl+O"),
    ("Add to selection", "Shift+click or Ctrl+click"),
]


def _resolve(window, path: str):
    owner, name = path.split(".")
    target = window if owner == "window" else getattr(window, owner)
    return getattr(target, name)


def build_edit_actions(window) -> dict[str, QAction]:
    """QActions for EDIT_SHORTCUTS, added to the window (so they work wherever focus is)."""
    actions = {}
    for name, text, keys, path in EDIT_SHORTCUTS:
        action = QAction(text, window)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.triggered.connect(lambda _checked=False, p=path: _resolve(window, p)())
        window.addAction(action)
        actions[name] = action
    for index in range(9):
        action = QAction(f"Relabel as class {index + 1}", window)
        action.setShortcut(QKeySequence(str(index + 1)))
        action.triggered.connect(lambda _c=False, i=index: window.commands.relabel_nth(i))
        window.addAction(action)
        actions[f"class{index + 1}"] = action
    for key, dx, dy in (("Left", -10, 0), ("Right", 10, 0), ("Up", 0, -10), ("Down", 0, 10)):
        action = QAction(f"Nudge 10 px {key.lower()}", window)
        action.setShortcut(QKeySequence(f"Shift+{key}"))
        action.triggered.connect(lambda _c=False, x=dx, y=dy: window.commands.nudge(x, y))
        window.addAction(action)
        actions[f"big_{key.lower()}"] = action
    return actions


def shortcut_rows() -> list[tuple[str, str]]:
    rows = [(text, ", ".join(keys)) for _n, text, keys, _p in EDIT_SHORTCUTS]
    return rows + [(a, b) if not a.startswith("Shift") else (b, a) for a, b in OTHER_SHORTCUTS]


class ShortcutSheet(QDialog):
    """F1: the table of every shortcut (built from the same table as the actions)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows()
        table = QTableWidget(len(rows), 2)
        table.setHorizontalHeaderLabels(["Action", "Keys"])
        for row, (text, keys) in enumerate(rows):
            table.setItem(row, 0, QTableWidgetItem(text))
            table.setItem(row, 1, QTableWidgetItem(keys))
        table.resizeColumnsToContents()
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(buttons)
        self.table, self.buttons = table, buttons
        self.resize(460, 620)
        self.setWindowModality(Qt.WindowModality.NonModal)
