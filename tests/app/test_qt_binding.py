"""The Qt binding must not corrupt the interpreter (PySide6 6.12.0 on Python < 3.12 did)."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel


def test_void_calls_keep_none_and_bools_alive(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    before = {
        name: sys.getrefcount(obj)
        for name, obj in (("None", None), ("True", True), ("False", False))
    }
    for _ in range(2000):
        label.setText("x")
        label.setVisible(False)
    after = {
        name: sys.getrefcount(obj)
        for name, obj in (("None", None), ("True", True), ("False", False))
    }
    for name in before:  # a leak of one reference per call would show as -2000 or worse
        assert abs(after[name] - before[name]) < 100, (name, before[name], after[name])
