"""The program's own error types: every failure a user can cause has one, with a message."""

from __future__ import annotations


class DetScopeError(Exception):
    """Base class: a clear, user-facing message; never a traceback in the GUI or CLI."""


class ImageReadError(DetScopeError):
    """An image file could not be decoded (missing, empty, truncated, not an image)."""


class ModelError(DetScopeError):
    """A model or checkpoint could not be built or loaded (wrong file, wrong architecture)."""
