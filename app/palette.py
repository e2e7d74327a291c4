"""Class colours as QColors, from the engine's one palette (``detector.data.palette``)."""

from __future__ import annotations

from PySide6.QtGui import QColor

from detector.data.palette import BACKGROUND_COLOR, PALETTE, palette_color


def class_color(index: int) -> QColor:
    """Colour for class ``index`` (1-based label ids map to the palette in order; each
    further round through the palette is darker)."""
    if index <= 0:
        return QColor(BACKGROUND_COLOR)
    base = QColor(palette_color(index - 1))
    cycle = (index - 1) // len(PALETTE)
    return base.darker(100 + 30 * cycle) if cycle else base
