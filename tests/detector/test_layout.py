"""The engine's shape: no Qt anywhere in ``detector``, no import cycle, a light ``import detector``.

import-linter (``lint-imports`` in ./dev.sh test) checks the layers; these tests check what it
cannot: every module really imports without Qt, and no two modules import each other in a loop.
"""

from __future__ import annotations

import subprocess
import sys

import grimp

QT_OR_APP = "('PySide6', 'pyqtgraph', 'app')"


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_import_detector_loads_no_qt_and_no_torch():
    code = (
        "import sys, detector, detector.io.images, detector.models, detector.trace; "
        f"bad = [m for m in sys.modules if m.split('.')[0] in {QT_OR_APP}]; "
        "print(bad, 'torch' in sys.modules)"
    )
    assert _run(code) == "[] False"


def test_every_detector_module_imports_without_qt():
    code = (
        "import sys, pkgutil, importlib, detector; "
        "names = [m.name for m in pkgutil.walk_packages(detector.__path__, 'detector.')]; "
        "[importlib.import_module(name) for name in names]; "
        f"print(len(names), [m for m in sys.modules if m.split('.')[0] in {QT_OR_APP}])"
    )
    count, bad = _run(code).split(" ", 1)
    assert int(count) > 60, "walk_packages must reach every subpackage"
    assert bad == "[]"


def _cycle(graph: grimp.ImportGraph, modules: set[str]) -> list[str] | None:
    """One import cycle among ``modules`` (module level, TYPE_CHECKING and lazy imports too)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        stack.append(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module) & modules):
            if state.get(imported) == 1:
                return stack[stack.index(imported) :] + [imported]
            if imported not in state and (found := visit(imported)):
                return found
        stack.pop()
        state[module] = 2
        return None

    for module in sorted(modules):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_no_import_cycle_inside_the_engine():
    graph = grimp.build_graph("detector", exclude_type_checking_imports=True)
    # a package's __init__ re-exporting its own modules is not a cycle between concerns
    modules = {m for m in graph.modules if not graph.find_children(m)}
    assert _cycle(graph, modules) is None, " -> ".join(_cycle(graph, modules) or [])
