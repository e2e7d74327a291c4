"""The NMS stage's candidate table: one class's NMS inputs by score, each with its state at
the current step (kept at step j / suppressed by #r with IoU / waiting)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor

KEPT, KEPT_NOW, SUPPRESSED, SUPPRESSED_NOW, WAITING = range(5)
STATE_COLORS = {
    KEPT: QColor(0, 150, 0),
    KEPT_NOW: QColor("#33ff66"),
    SUPPRESSED: QColor(200, 60, 60),
    SUPPRESSED_NOW: QColor("#ff4040"),
    WAITING: QColor(150, 150, 150),
}


@dataclass
class CandidateRow:
    score: float
    state: int
    text: str


def candidate_rows(
    inputs: np.ndarray,
    scores: np.ndarray,
    steps: list,
    suppressed_by: np.ndarray,
    suppress_iou: np.ndarray,
    current: int,
) -> list[CandidateRow]:
    """Rows for NMS inputs ``inputs`` (positions in the NMS input, best score first) after
    steps 0..``current`` of ``steps`` (that class's NmsSteps); ``scores``, ``suppressed_by``,
    ``suppress_iou`` are indexed by NMS-input position. ``#r`` is a row number here (1-based)."""
    step_of = {step.kept: j for j, step in enumerate(steps)}
    rank = {int(position): row + 1 for row, position in enumerate(inputs.tolist())}
    rows = []
    for position in inputs.tolist():
        score = float(scores[position])
        kept_at, by = step_of.get(position), int(suppressed_by[position])
        if kept_at is not None and kept_at <= current:
            state = KEPT_NOW if kept_at == current else KEPT
            text = f"kept at step {kept_at + 1}" + (" (now)" if state == KEPT_NOW else "")
        elif by >= 0 and step_of.get(by, current + 1) <= current:
            state = SUPPRESSED_NOW if step_of[by] == current else SUPPRESSED
            text = f"suppressed by #{rank[by]}, IoU {float(suppress_iou[position]):.2f}"
        else:
            state, text = WAITING, "waiting"
        rows.append(CandidateRow(score, state, text))
    return rows


class CandidateTable(QAbstractTableModel):
    """Rank, score, state; cells are made only for the rows on screen."""

    HEADERS = ("#", "score", "state at this step")

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[CandidateRow] = []

    def set_rows(self, rows: list[CandidateRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else 3

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return [f"{index.row() + 1}", f"{row.score:.4f}", row.text][index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 2:
            return STATE_COLORS[row.state]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() < 2:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        return None
