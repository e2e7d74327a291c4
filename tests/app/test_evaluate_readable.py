"""The Evaluate dock readable at a glance (issue 17): full names, legend, exports, marks."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QImage

LONG_NAME = "rectangular_triangle"  # 20 characters


@pytest.fixture
def dock(open_window, sample_folder, evaluated_dock):
    window = open_window(sample_folder, size=(1366, 768))
    from dataclasses import replace

    from detector.data.edits import UpdateCategory

    triangle = window.dataset.category_by_name("triangle")
    window.undo.push(UpdateCategory(replace(triangle, name=LONG_NAME)))
    return evaluated_dock(window)


def test_class_names_are_shown_whole_in_table_and_legend(dock):
    table = dock.table
    row = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == LONG_NAME)
    item = table.item(row, 0)
    needed = table.fontMetrics().horizontalAdvance(LONG_NAME)
    assert table.columnWidth(0) >= needed, "the class column cuts the name"
    assert item.toolTip() == LONG_NAME
    legend_texts = [label.text for _sample, label in dock.plot.legend.items]
    assert any(LONG_NAME in text for text in legend_texts)
    assert dock.plot.legend.opts["brush"] is not None  # a card behind the names


def test_export_leaves_the_hover_ring_out(dock, tmp_path, qtbot):
    dock.controls.select_category(2)
    plain, hovered = tmp_path / "plain.png", tmp_path / "hovered.png"
    dock.export(str(plain))
    dock.plot._set_hover(dock.plot.point(2, 0))
    assert dock.plot.hovered is not None
    dock.export(str(hovered))
    assert dock.plot.hovered is not None  # the ring comes back on screen after the export
    assert QImage(str(plain)) == QImage(str(hovered))


def test_tooltips_name_files_and_marks_lie_above_the_ground_truth(dock):
    window = dock.window()
    point = dock.plot.point(2, 0)
    record = window.dataset.images[point.image_id]
    assert (
        record.file_name in point.describe() and f"image {point.image_id}" not in point.describe()
    )
    marks = window.canvas.boxes_overlay("evaluation")
    truth = window.canvas.boxes_overlay("objects")
    assert marks.zValue() > truth.zValue()
