"""The program's own error types: every failure a user can cause has one, with a message."""

from __future__ import annotations


class DetScopeError(Exception):
    """Base class: a clear, user-facing message; never a traceback in the GUI or CLI."""


class ImageReadError(DetScopeError):
    """An image file could not be decoded (missing, empty, truncated, not an image)."""


class ModelError(DetScopeError):
    """A model or checkpoint could not be built or loaded (wrong file, wrong architecture)."""


class AnnotationError(DetScopeError):
    """An annotation file or edit is invalid: the message names the file and the location.

    ``file`` is the offending file (or None), ``location`` where in it (``line 3, column 7``,
    ``annotations[12] (id 57)``, ``object 4``), ``message`` the plain problem. ``str()`` joins
    them as ``file: location: message``, ready for a dialog or the CLI.
    """

    def __init__(self, message: str, *, file: object = None, location: str | None = None) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.location = location
        prefix = "".join(f"{part}: " for part in (self.file, location) if part)
        super().__init__(prefix + message)


class FileChangedError(AnnotationError):
    """The annotation file changed on disk since it was loaded; saving would overwrite it."""
