"""Class colours: stable, distinct, readable on photos (one list for the app and the engine).

``palette_color(i)`` is the default colour of a dataset's i-th category (saved with it) and,
through ``app.palette.class_color``, the colour of model label ``i + 1`` in the Inspect and
Evaluate views. Colours are ``#rrggbb`` strings, so nothing here needs Qt.
"""

from __future__ import annotations

PALETTE = (
    "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6",
    "#bfef45", "#fabed4", "#469990", "#dcbeff", "#9a6324", "#fffac8", "#800000",
    "#aaffc3", "#808000", "#ffd8b1", "#000075", "#a9a9a9", "#ffe119",
)  # fmt: skip
BACKGROUND_COLOR = "#cccccc"  # label 0 (background) and anything without a class


def palette_color(index: int) -> str:
    """A distinct default colour for the ``index``-th category (0-based, wraps around)."""
    return PALETTE[index % len(PALETTE)]
