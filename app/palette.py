"""Class colours: stable, distinct, readable on photos."""

from __future__ import annotations

from PySide6.QtGui import QColor

_BASE = [
    "#e6194b",
    "#3cb44b",
    "#4363d8",
    "#f58231",
    "#911eb4",
    "#42d4f4",
    "#f032e6",
    "#bfef45",
    "#fabed4",
    "#469990",
    "#dcbeff",
    "#9a6324",
    "#fffac8",
    "#800000",
    "#aaffc3",
    "#808000",
    "#ffd8b1",
    "#000075",
    "#ffe119",
    "#a9a9a9",
]


def class_color(index: int) -> QColor:
    """Colour for class ``index`` (1-based label ids map to the palette in order)."""
    if index <= 0:
        return QColor("#cccccc")
    base = QColor(_BASE[(index - 1) % len(_BASE)])
    cycle = (index - 1) // len(_BASE)
    return base.darker(100 + 30 * cycle) if cycle else base
