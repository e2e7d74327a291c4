"""The image list is a model/view list: 100,000 rows, lazy status, instant filtering."""

from __future__ import annotations

from PySide6.QtCore import Qt

N = 100_000


def test_a_hundred_thousand_rows_ask_status_only_for_what_is_on_screen(qtbot):
    from app.image_list import ImageListDock
    from app.state import AppState

    state = AppState()
    dock = ImageListDock(state)
    qtbot.addWidget(dock)
    asked = []
    dock.set_status_source(lambda image_id: asked.append(image_id) or f"{image_id % 7} obj")
    names = {i: f"photo_{i:06d}.jpg" for i in range(1, N + 1)}
    dock.set_images(names, [("broken.jpg", "not a readable image; skipped")])
    dock.resize(300, 600)
    dock.show()
    qtbot.waitExposed(dock)
    dock.grab()  # paint it once, as the screen would
    assert dock.row_count() == N + 1
    assert 0 < len(set(asked)) < 200  # the rows painted, not a hundred thousand
    assert state.order[:3] == [1, 2, 3] and len(state.order) == N
    last = dock.model.index(dock.row_count() - 1)  # the problem row: listed, greyed, inert
    assert "broken.jpg" in dock.model.data(last)
    assert not (dock.model.flags(last) & Qt.ItemFlag.ItemIsSelectable)
    qtbot.keyClicks(dock.filter_edit, "0999")
    assert dock.visible_ids() == [i for i in names if "0999" in names[i]]
    assert dock.count_label.text() == f"{len(dock.visible_ids())} of {N} images · 1 unreadable"


def test_a_click_on_a_row_makes_it_the_current_image(qtbot, open_window, sample_folder):
    window = open_window(sample_folder)
    dock = window.image_dock
    third = window.images[2]
    rect = dock.view.visualRect(dock.model.index(2))
    qtbot.mouseClick(dock.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.current_image_id == third)
    assert dock.current_id() == third


def test_typing_and_erasing_a_filter_at_100k_rows_never_walks_every_row(qtbot, monkeypatch):
    """The view lays out no row it does not show: a keystroke asks the model's row count a
    handful of times, not twice per row (QListView did, ~0.2 s a key at 20,000 rows)."""
    from app.image_list import ImageListDock, ImageListModel
    from app.state import AppState

    calls = []
    row_count = ImageListModel.rowCount
    monkeypatch.setattr(
        ImageListModel, "rowCount", lambda self, *a: calls.append(1) or row_count(self, *a)
    )
    state = AppState()
    dock = ImageListDock(state)
    qtbot.addWidget(dock)
    names = {i: f"photo_{i:06d}.jpg" for i in range(1, N + 1)}
    dock.set_images(names)
    dock.resize(300, 600)
    dock.show()
    qtbot.waitExposed(dock)
    dock.view.setCurrentIndex(dock.model.index(12345 - 1))  # photo_012345 current
    calls.clear()
    shown = []
    for key in "12345":
        qtbot.keyClick(dock.filter_edit, key)
        shown.append(dock.visible_ids())
    for _ in range(3):
        qtbot.keyClick(dock.filter_edit, Qt.Key.Key_Backspace)
        shown.append(dock.visible_ids())
    dock.grab()
    assert len(calls) < 2_000, f"{len(calls)} rowCount calls for 8 keystrokes"
    needles = ["1", "12", "123", "1234", "12345", "1234", "123", "12"]
    for needle, ids in zip(needles, shown, strict=True):
        assert ids == [i for i in names if needle in names[i]], needle
    assert state.order == shown[-1]
    assert dock.model.row_of(12345) == shown[-1].index(12345)
    assert dock.model.row_of(99999 + 2) is None


def test_erasing_back_to_a_needle_typed_before_does_not_search_again(qtbot, monkeypatch):
    from app.image_list import ImageListDock
    from app.state import AppState

    state = AppState()
    dock = ImageListDock(state)
    qtbot.addWidget(dock)
    names = {i: f"photo_{i:04d}.jpg" for i in range(1, 1001)}
    dock.set_images(names)
    searches = []
    search = dock._search
    monkeypatch.setattr(dock, "_search", lambda *a: searches.append(a[0]) or search(*a))
    qtbot.keyClicks(dock.filter_edit, "pho1")
    for _ in range(4):
        qtbot.keyClick(dock.filter_edit, Qt.Key.Key_Backspace)
    assert searches == ["p", "ph", "pho", "pho1"]  # the erasing found them remembered
    assert dock.visible_ids() == list(names)
    qtbot.keyClicks(dock.filter_edit, "o_09")
    assert dock.visible_ids() == [i for i in names if "o_09" in names[i]]
    dock.set_images({1: "other_09.jpg", 2: "photo_09.jpg"})  # new names: nothing remembered
    assert dock.visible_ids() == [2]
    dock.filter_edit.clear()
    qtbot.keyClicks(dock.filter_edit, "o")
    assert searches[-1] == "o" and dock.visible_ids() == [1, 2]
