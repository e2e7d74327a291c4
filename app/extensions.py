"""Docks that plug into the main window, each from its own module, through a typed host.

A module listed in ``EXTENSION_MODULES`` defines ``install(host: WindowHost) -> QDockWidget``
and may define ``add_arguments(parser)`` (GUI command-line flags),
``apply_arguments(window, args)`` (run after the folder opened) and
``screenshot_ready(window, args) -> bool`` (``--screenshot`` waits until every extension
says it shows what the flags asked for). The main window is the only host; an extension
reads and writes the window's model through ``host.state`` (:class:`app.state.AppState`)
and draws through ``host.canvas`` overlays, never through other docks.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDockWidget

    from app.canvas import ImageCanvas
    from app.state import AppState

EXTENSION_MODULES: list[str] = [
    # one line per dock module, e.g. "app.inspect.dock"
    "app.inspect.dock",
    "app.evaluate.dock",
]


@runtime_checkable
class WindowHost(Protocol):
    """What a dock module may use of the window."""

    state: AppState
    canvas: ImageCanvas

    def add_dock(
        self,
        dock: QDockWidget,
        area: Qt.DockWidgetArea,
        *,
        shortcut: str | None = None,
        view_menu: bool = True,
        tabbed: bool = False,
    ) -> None:
        """Place ``dock`` in ``area`` (``tabbed``: in that area's tab group), with its
        show/hide action in the View menu (``view_menu``) under ``shortcut``."""

    def show_error(self, title: str, message: str) -> None:
        """A non-blocking warning (and the status bar)."""

    def go_to(self, image_id: int, box: tuple[float, ...] | None = None) -> None:
        """Show ``image_id``; with an xyxy ``box``, zoom on it and select what is there."""

    def set_image_filter(
        self,
        which: Callable[[int], bool] | Iterable[int] | None,
        sort_key: Callable[[int], object] | None = None,
        label: str = "",
    ) -> None:
        """Narrow and sort the image list (None shows every image again)."""


def modules() -> list[ModuleType]:
    return [import_module(name) for name in EXTENSION_MODULES]


def install_all(host: WindowHost) -> dict[str, QDockWidget]:
    """Install every extension; its dock by module name (e.g. ``"app.evaluate.dock"``)."""
    return {module.__name__: module.install(host) for module in modules()}


def add_arguments(parser) -> None:
    for module in modules():
        if hasattr(module, "add_arguments"):
            module.add_arguments(parser)


def apply_arguments(window, args) -> None:
    for module in modules():
        if hasattr(module, "apply_arguments"):
            module.apply_arguments(window, args)


def screenshot_ready(window, args) -> bool:
    return all(
        module.screenshot_ready(window, args)
        for module in modules()
        if hasattr(module, "screenshot_ready")
    )
