"""The Classes dock: its object counts follow every edit of the dataset."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

LEFT = Qt.MouseButton.LeftButton
COCO = {
    "images": [
        {"id": i + 1, "file_name": f"img_{i}.png", "width": 300, "height": 200} for i in range(2)
    ],
    "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
    "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [20, 20, 40, 30], "iscrowd": 0},
        {"id": 2, "image_id": 2, "category_id": 1, "bbox": [50, 50, 40, 30], "iscrowd": 0},
    ],
}


def counts(window) -> dict[str, int]:
    """Class name -> the count its row shows ("1  cat  (2)")."""
    rows = window.classes_dock.list_widget
    found = {}
    for row in range(rows.count()):
        match = re.fullmatch(r"\s*\d*\s+(\S+)\s+\((\d+)\)", rows.item(row).text())
        found[match.group(1)] = int(match.group(2))
    return found


@pytest.fixture
def window(open_window, image_folder, qtbot):
    window = open_window(image_folder("pets", count=2, size=(200, 300), coco=COCO), (1000, 700))
    window.canvas.actual_size()  # 1 image pixel = 1 screen pixel, image at the origin
    window.canvas.horizontalScrollBar().setValue(window.canvas.horizontalScrollBar().minimum())
    window.canvas.verticalScrollBar().setValue(window.canvas.verticalScrollBar().minimum())
    window.canvas.setFocus()
    return window


def drag(qtbot, window, start, end) -> None:
    viewport = window.canvas.viewport()
    point = lambda x, y: window.canvas.mapFromScene(QPointF(x, y))  # noqa: E731
    qtbot.mousePress(viewport, LEFT, pos=point(*start))
    qtbot.mouseMove(viewport, point((start[0] + end[0]) / 2, (start[1] + end[1]) / 2))
    qtbot.mouseMove(viewport, point(*end))
    qtbot.mouseRelease(viewport, LEFT, pos=point(*end))


class _Model:
    categories = ["__background__", "cat", "dog"]
    device = "cpu"


def test_counts_follow_relabel_draw_and_accept(qtbot, window):
    """Regression: the counts stayed stale after relabel, draw and accept."""
    from detector.inference.detections import Detections

    assert counts(window) == {"cat": 2, "dog": 0}
    qtbot.mouseClick(
        window.canvas.viewport(), LEFT, pos=window.canvas.mapFromScene(QPointF(40, 35))
    )
    assert window.editor.selected == [1]
    qtbot.keyClick(window.canvas, Qt.Key.Key_2)  # relabel as dog
    qtbot.waitUntil(lambda: counts(window) == {"cat": 1, "dog": 1}, timeout=5000)

    qtbot.keyClick(window.canvas, Qt.Key.Key_W)  # draw: new boxes get the class just used
    drag(qtbot, window, (150, 100), (220, 160))
    qtbot.waitUntil(lambda: counts(window) == {"cat": 1, "dog": 2}, timeout=5000)

    window.models.model = _Model()
    detections = Detections(
        boxes=np.array([[10, 120, 60, 180], [200, 20, 260, 70]], np.float32),
        labels=np.array([1, 1], np.int64),
        scores=np.array([0.9, 0.8], np.float32),
    )
    window.assist.on_detections(window.current_image_id, detections, 0.01, None)
    assert counts(window) == {"cat": 1, "dog": 2}  # predictions are not objects yet
    window.commands.accept_above(0.5)
    qtbot.waitUntil(lambda: counts(window) == {"cat": 3, "dog": 2}, timeout=5000)

    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: counts(window) == {"cat": 1, "dog": 2}, timeout=5000)


def test_a_large_set_is_counted_once_in_a_worker_then_every_edit_updates_the_counts(
    qtbot, window, monkeypatch
):
    """Past COUNT_IN_WORKER objects the GUI thread never counts: rows come at once with
    the last counts, a worker counts a snapshot once; from then on the dataset keeps the
    counts up to date edit by edit (no recount, no copy of every object)."""
    from app.annotate import classes_dock

    monkeypatch.setattr(classes_dock, "COUNT_IN_WORKER", 1)
    on_gui_thread = []
    count = classes_dock.count_categories
    monkeypatch.setattr(
        classes_dock,
        "count_categories",
        lambda copy: on_gui_thread.append(qtbot_thread_is_gui()) or count(copy),
    )
    window.open_folder(window.dataset.root)  # opened again: counted afresh
    first_row = window.classes_dock.list_widget.item
    qtbot.waitUntil(lambda: on_gui_thread and "…" not in first_row(0).text(), timeout=5000)
    assert counts(window) == {"cat": 2, "dog": 0}
    assert not any(on_gui_thread)
    assert window.dataset.category_counts(count=False) == {1: 2}
    qtbot.waitUntil(lambda: window.canvas.image is not None)
    qtbot.mouseClick(
        window.canvas.viewport(), LEFT, pos=window.canvas.mapFromScene(QPointF(40, 35))
    )
    qtbot.keyClick(window.canvas, Qt.Key.Key_2)  # relabel as dog
    qtbot.waitUntil(lambda: counts(window) == {"cat": 1, "dog": 1}, timeout=5000)
    window.undo.undo()
    qtbot.waitUntil(lambda: counts(window) == {"cat": 2, "dog": 0}, timeout=5000)
    assert len(on_gui_thread) == 1  # counted once


def test_counts_of_a_worker_are_not_adopted_after_an_edit():
    from detector.data.dataset import Annotation, Category, Dataset, ImageRecord
    from detector.data.edits import RemoveObjects

    dataset = Dataset()
    dataset.add_image_record(ImageRecord(id=1, file_name="a.jpg", width=10, height=10))
    dataset.add_category_record(Category(1, "cat"))
    for object_id in (1, 2):
        dataset.add_object_record(Annotation(object_id, 1, 1, (0.0, 0.0, 5.0, 5.0)))
    copy = dataset.snapshot()
    assert copy.category_counts() == {1: 2} and dataset.category_counts(count=False) is None
    dataset.apply(RemoveObjects((2,)))
    assert not dataset.adopt_category_counts(copy)
    copy = dataset.snapshot()
    copy.category_counts()
    assert dataset.adopt_category_counts(copy) and dataset.category_counts() == {1: 1}
    dataset.apply(RemoveObjects((1,)))
    assert dataset.category_counts() == {1: 0} and copy.category_counts() == {1: 1}


def qtbot_thread_is_gui() -> bool:
    from PySide6.QtCore import QCoreApplication, QThread

    return QThread.currentThread() is QCoreApplication.instance().thread()
