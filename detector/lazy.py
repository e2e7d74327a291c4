"""Public names that load their module on first use (PEP 562), so ``import detector``, and
``import detector.models`` / ``detector.trace``, import neither torch nor anything heavy."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy_names(package: str, names: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` giving ``names[name]``'s attribute ``name`` when asked."""

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module hook's own name
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(module), name)

    return __getattr__
