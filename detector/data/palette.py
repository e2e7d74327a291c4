"""Class colours: stable, distinct, readable on photos (one list for the app and the engine).

``palette_color(i)`` is the default colour of a dataset's i-th category (saved with it) and,
through ``app.palette.class_color``, the colour of model label ``i + 1`` in the Inspect and
Evaluate views. Colours are ``#rrggbb`` strings, so nothing here needs Qt.
"""

from __future__ import annotations

# Evaluation marks own four hues (app/evaluate/canvas_marks.py): TP green, FP red, missed
# ground truth (FN) orange, the picked detection cyan. Class colours never use them, so a
# class is never mistaken for a verdict on the canvas.
RESERVED_FOR_MARKS = ("#2ca02c", "#d62728", "#ff8c00", "#00e5ff")
PALETTE = (
    "#4363d8", "#911eb4", "#f032e6", "#f0e442", "#000075", "#fabed4",
    "#dcbeff", "#808000", "#a9a9a9", "#fffac8", "#7f4fc9", "#6a7fa0",
)  # fmt: skip
BACKGROUND_COLOR = "#cccccc"  # label 0 (background) and anything without a class


def palette_color(index: int) -> str:
    """A distinct default colour for the ``index``-th category (0-based, wraps around)."""
    return PALETTE[index % len(PALETTE)]
