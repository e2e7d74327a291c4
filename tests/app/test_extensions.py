"""Dock modules plug in through a typed host (app/extensions.py), not by probing the window."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

from app.extensions import EXTENSION_MODULES, WindowHost


def test_the_window_is_the_host_and_extension_docks_sit_in_the_view_menu(open_window):
    window = open_window()
    assert isinstance(window, WindowHost)
    assert set(window.docks) >= {"EvaluateDock", "inspect_dock", "ImageListDock"}
    view = window.view_menu.actions()
    for name in ("EvaluateDock", "inspect_dock"):
        assert window.docks[name].toggleViewAction() in view
    assert len(EXTENSION_MODULES) == 2


def test_add_dock_refuses_a_dock_without_a_unique_name(open_window):
    window = open_window()
    with pytest.raises(ValueError, match="object name"):
        window.add_dock(QDockWidget("Nameless"), Qt.DockWidgetArea.RightDockWidgetArea)
    twin = QDockWidget("Twin")
    twin.setObjectName("EvaluateDock")
    with pytest.raises(ValueError, match="taken"):
        window.add_dock(twin, Qt.DockWidgetArea.RightDockWidgetArea)
