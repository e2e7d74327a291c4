"""The window's model (app/state.py): the current image lives in the state, not in a list
widget's selection, so opening another folder always shows its first image."""

from __future__ import annotations

from PySide6.QtCore import Qt


def test_open_folder_whose_first_id_equals_the_current_one_shows_it(
    qtbot, open_window, image_folder
):
    """Regression: open B, then A whose first image id is the one selected in B. A's first
    image must be drawn and A / D must step through A."""
    folder_b = image_folder("b", count=2, size=(80, 100), seed=1)
    folder_a = image_folder("a", count=3, size=(120, 160), seed=2)
    window = open_window(folder_b)
    selected_in_b = window.current_image_id
    assert window.canvas.image.shape == (80, 100, 3)

    window.open_folder(folder_a)
    first_in_a = window.images[0]
    assert first_in_a == selected_in_b  # the case that used to leave the canvas empty
    qtbot.waitUntil(lambda: window.canvas.image is not None, timeout=10000)
    assert window.canvas.image.shape == (120, 160, 3)
    assert window.current_image_id == first_in_a
    assert window.image_dock.current_id() == first_in_a

    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_D)
    qtbot.waitUntil(lambda: window.current_image_id == window.images[1], timeout=10000)
    qtbot.waitUntil(lambda: window.image_dock.current_id() == window.images[1], timeout=10000)
    qtbot.keyClick(window.canvas, Qt.Key.Key_A)
    qtbot.waitUntil(lambda: window.current_image_id == first_in_a, timeout=10000)


def test_state_signals_in_order_and_order_follows_the_list_filter(qtbot, open_window, image_folder):
    folder = image_folder("f", count=3)
    window = open_window()
    state = window.state
    seen: list[tuple[str, object]] = []
    state.dataset_opened.connect(lambda d: seen.append(("opened", len(d.images))))
    state.current_image_changed.connect(lambda i: seen.append(("current", i)))
    with qtbot.waitSignal(state.image_loaded, timeout=10000):
        window.open_folder(folder)
    ids = state.images
    assert seen == [("opened", 3), ("current", None), ("current", ids[0])]
    assert state.current_image().shape == (120, 160, 3)

    window.image_dock.set_filter([ids[2], ids[0]], sort_key=lambda i: -i, label="two")
    assert state.order == [ids[2], ids[0]]
    state.step(+1)  # the first image is last in this order: stays
    assert state.current_image_id == ids[0]
    state.step(-1)
    assert state.current_image_id == ids[2]
    assert window.image_dock.current_id() == ids[2]
    window.image_dock.filter_edit.setText("img_0")  # the name filter narrows the order too
    assert state.order == [ids[0]]
