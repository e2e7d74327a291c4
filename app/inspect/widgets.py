"""Small controls the stage panels share: a labelled spin box row, a labelled combo box."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QWidget


def spin_row(layout, label: str, maximum: int, on_change) -> QSpinBox:
    row = QWidget()
    box = QHBoxLayout(row)
    box.setContentsMargins(0, 0, 0, 0)
    box.addWidget(QLabel(label))
    spin = QSpinBox(minimum=0, maximum=max(0, maximum))
    spin.valueChanged.connect(lambda _v: on_change())
    box.addWidget(spin, 1)
    layout.addWidget(row)
    return spin


def combo_row(layout, label: str, items: list[str], on_change) -> QComboBox:
    row = QWidget()
    box = QHBoxLayout(row)
    box.setContentsMargins(0, 0, 0, 0)
    box.addWidget(QLabel(label))
    combo = QComboBox()
    combo.addItems(items)
    combo.currentIndexChanged.connect(lambda _i: on_change())
    box.addWidget(combo, 1)
    layout.addWidget(row)
    return combo


def set_items(combo: QComboBox, items: list[str]) -> None:
    """Replace the items, keeping the current index when it still exists, without signals."""
    current = combo.currentIndex()
    combo.blockSignals(True)
    combo.clear()
    combo.addItems(items)
    combo.setCurrentIndex(min(max(current, 0), len(items) - 1))
    combo.blockSignals(False)


def set_range(spin: QSpinBox, maximum: int) -> None:
    spin.blockSignals(True)
    spin.setMaximum(max(0, maximum))
    spin.blockSignals(False)


def table(rows: list[tuple[str, str]]) -> str:
    """Rich-text two-column table of (name, value)."""
    cells = "".join(
        f"<tr><td>{name}</td><td align='right'><b>{value}</b></td></tr>" for name, value in rows
    )
    return f"<table cellspacing='2'>{cells}</table>"
