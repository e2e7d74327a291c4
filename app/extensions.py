"""Docks that plug into the main window, each from its own module.

A module listed in ``EXTENSION_MODULES`` defines ``install(window)`` and may define
``add_arguments(parser)`` (GUI command-line flags), ``apply_arguments(window, args)`` (run
after the folder opened) and ``screenshot_ready(window, args) -> bool`` (``--screenshot``
waits until every extension says it shows what the flags asked for).
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

EXTENSION_MODULES: list[str] = [
    # one line per dock module, e.g. "app.inspect.dock"
    "app.inspect.dock",
    "app.evaluate.dock",
    "app.annotate.mask_tools",
]


def modules() -> list[ModuleType]:
    return [import_module(name) for name in EXTENSION_MODULES]


def install_all(window) -> None:
    for module in modules():
        module.install(window)


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
