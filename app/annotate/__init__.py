"""Annotation: editing tools, undo, classes, predictions, autosave, export (issue 7)."""
