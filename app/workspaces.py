"""Workspaces: Annotate, Inspect and Evaluate, each with the docks it needs.

A workspace is a set of docks and where they sit; switching hides the others and gives the
canvas the rest of the window. The user's own rearrangement of a workspace (moved,
resized, floated or closed docks) is remembered per workspace (``QMainWindow.saveState``
in the settings) and comes back the next time that workspace is chosen. In Inspect, the
annotation and prediction overlays step aside: the stages draw what they explain.

Every dock scrolls within the room it has (:func:`scrollable`), so no dock can force the
window taller than a laptop screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QMainWindow,
    QScrollArea,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.settings import settings

LEFT, RIGHT = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
STATE_VERSION = 2  # bump when the docks change: an older saved arrangement is not applied


@dataclass(frozen=True)
class Workspace:
    """``left`` and ``right``: dock object names, top to bottom (a list: one tab group)."""

    key: str
    title: str
    shortcuts: tuple[str, ...]
    left: tuple[str | tuple[str, ...], ...]
    right: tuple[str | tuple[str, ...], ...]
    right_width: int
    overlays: bool = True  # the annotation and prediction overlays are shown
    tip: str = ""


WORKSPACES = (
    Workspace(
        "annotate",
        "Annotate",
        ("Ctrl+1",),
        left=("ImageListDock",),
        right=("ClassesDock", ("PredictionsDock", "ModelDock")),
        right_width=340,
        tip="Draw and fix ground truth, with the model's help",
    ),
    Workspace(
        "inspect",
        "Inspect",
        ("Ctrl+2", "Ctrl+I"),
        left=("ImageListDock",),
        right=("inspect_dock",),
        right_width=430,
        overlays=False,
        tip="Watch the detector's stages on the current image",
    ),
    Workspace(
        "evaluate",
        "Evaluate",
        ("Ctrl+3", "Ctrl+Shift+E"),
        left=("ImageListDock",),
        right=("EvaluateDock",),
        right_width=470,
        tip="PR curves, AP and the errors over the annotated set",
    ),
)


def scrollable(dock: QDockWidget) -> None:
    """Put the dock's content in a scroll area: the dock no longer has a minimum height.

    The content fills the room it has and scrolls only below its minimum height.
    """
    body = dock.widget()
    if body is None or isinstance(body, QScrollArea):
        return
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(_Fitted(body))
    dock.setWidget(area)


class _Fitted(QWidget):
    """Holds a dock's content for its scroll area. A QScrollArea sizes content whose layout
    has height-for-width (any word-wrapped label) at its *preferred* height for the width,
    so a dock whose preferred height is more than the room scrolled even when everything
    fitted at its minimum (the Evaluate dock at 768 px: the AP table below the fold). Here
    height-for-width answers the minimum: the content gets the room, and scrolls below it."""

    def __init__(self, body: QWidget) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(body)

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt API
        return self.minimumSizeHint().height()


class Workspaces(QObject):
    """The workspace switch of ``window`` (a toolbar and the View menu's actions)."""

    changed = Signal(str)

    def __init__(self, window: QMainWindow, overlays_visible) -> None:
        super().__init__(window)
        self.window = window
        self._overlays_visible = overlays_visible  # callable(bool): the annotation overlays
        self.current: str | None = None
        self.toolbar = QToolBar("Workspaces", window)
        self.toolbar.setObjectName("WorkspaceBar")
        self.toolbar.setMovable(False)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        group = QActionGroup(self)
        self.actions: dict[str, QAction] = {}
        for workspace in WORKSPACES:
            action = QAction(workspace.title, self, checkable=True)
            action.setShortcuts([QKeySequence(s) for s in workspace.shortcuts])
            action.setToolTip(f"{workspace.tip} ({', '.join(workspace.shortcuts)})")
            action.triggered.connect(lambda _c=False, k=workspace.key: self.switch(k))
            group.addAction(action)
            self.toolbar.addAction(action)
            window.addAction(action)
            self.actions[workspace.key] = action

    def workspace(self, key: str) -> Workspace:
        return next(w for w in WORKSPACES if w.key == key)

    def switch(self, key: str) -> None:
        """Show workspace ``key``: the user's arrangement of it if any, else its default."""
        if key == self.current:
            self.actions[key].setChecked(True)
            return
        self.remember()
        self.current = key
        saved = settings().value(f"workspace/{key}")
        if saved is None or not self.window.restoreState(saved, STATE_VERSION):
            self.arrange(key)
        self._overlays_visible(self.workspace(key).overlays)
        self.actions[key].setChecked(True)
        settings().setValue("workspace/current", key)
        self.changed.emit(key)

    def remember(self) -> None:
        """Store the current workspace's arrangement (done on every switch and on close)."""
        if self.current is not None:
            settings().setValue(f"workspace/{self.current}", self.window.saveState(STATE_VERSION))

    def reset(self) -> None:
        """Forget the user's arrangement of the current workspace; show its default."""
        if self.current is not None:
            settings().remove(f"workspace/{self.current}")
            self.arrange(self.current)

    def arrange(self, key: str) -> None:
        """The default arrangement: the workspace's docks in two columns, the rest hidden."""
        window, workspace = self.window, self.workspace(key)
        docks = {name: d for name, d in window.docks.items()}
        wanted = {n for group in (*workspace.left, *workspace.right) for n in _names(group)}
        for name, dock in docks.items():
            if name not in wanted:
                dock.hide()
        for area, groups in ((LEFT, workspace.left), (RIGHT, workspace.right)):
            for group in groups:
                self._place(area, [docks[n] for n in _names(group) if n in docks])
        first_right = [docks[n] for g in workspace.right for n in _names(g)[:1] if n in docks]
        first_left = [docks[n] for g in workspace.left for n in _names(g)[:1] if n in docks]
        window.resizeDocks(
            first_left + first_right[:1],
            [240] * len(first_left) + [workspace.right_width] * len(first_right[:1]),
            Qt.Orientation.Horizontal,
        )

    def _place(self, area: Qt.DockWidgetArea, group: list[QDockWidget]) -> None:
        if not group:
            return
        window = self.window
        for dock in group:
            dock.setFloating(False)
            window.addDockWidget(area, dock)
            dock.show()
        for other in group[1:]:
            window.tabifyDockWidget(group[0], other)
        group[0].raise_()


def _names(group: str | tuple[str, ...]) -> tuple[str, ...]:
    return (group,) if isinstance(group, str) else group
