"""Help for a first-time user: a hint on the canvas at first launch, and About.

The first launch shows one line over the canvas (what to press first); it goes away at
the first click or key on the canvas and never comes back (a setting remembers it).
About names the versions a bug report needs: DetScope, Python, Qt, torch, torchvision and
the device the model would run on.
"""

from __future__ import annotations

import platform
from importlib import metadata

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QEvent, QObject, Qt, qVersion
from PySide6.QtWidgets import QLabel, QMessageBox
from shiboken6 import isValid

from app.settings import settings

HINT = (
    "Open a folder (Ctrl+O) or explore the samples: W draws a box, Ctrl+R detects, "
    "Ctrl+I inspects the detector step by step, Ctrl+Shift+E evaluates. F1 lists every key."
)
HINT_KEY = "help/first_run_hint_shown"


class FirstRunHint(QObject):
    """The one-line hint over the canvas, shown once per user."""

    def __init__(self, canvas) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.label = QLabel(HINT, canvas.viewport())
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setStyleSheet(
            "QLabel { background: rgba(20, 20, 20, 210); color: white; padding: 10px; "
            "border-radius: 6px; font-size: 13px; }"
        )
        self.label.hide()
        canvas.viewport().installEventFilter(self)
        canvas.installEventFilter(self)

    def show_if_first_run(self) -> bool:
        if settings().value(HINT_KEY, False, type=bool):
            return False
        settings().setValue(HINT_KEY, True)
        self._place()
        self.label.show()
        self.label.raise_()
        return True

    def dismiss(self) -> None:
        self.label.hide()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt API
        kind = event.type()
        if isValid(self.label) and self.label.isVisible():  # (the label dies first on close)
            if kind in (QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress, QEvent.Type.Wheel):
                self.dismiss()
            elif kind == QEvent.Type.Resize:
                self._place()
        return False

    def _place(self) -> None:
        viewport = self.canvas.viewport()
        width = min(560, max(viewport.width() - 40, 200))
        self.label.setFixedWidth(width)
        self.label.adjustSize()
        self.label.move((viewport.width() - width) // 2, 16)


def versions() -> dict[str, str]:
    """What a bug report needs (torch is imported here: About is asked for, not startup)."""
    import torch
    import torchvision

    try:
        detscope = metadata.version("detscope")
    except metadata.PackageNotFoundError:
        detscope = "source tree"
    if torch.cuda.is_available():
        device = f"CUDA: {torch.cuda.get_device_name(0)}"
    else:
        device = f"CPU ({torch.get_num_threads()} threads)"
    return {
        "DetScope": detscope,
        "Python": platform.python_version(),
        "Qt": qVersion(),
        "PySide6": pyside_version,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "device": device,
    }


def show_about(parent) -> QMessageBox:
    rows = "".join(f"<tr><td>{k}</td><td><b>{v}</b></td></tr>" for k, v in versions().items())
    box = QMessageBox(parent)
    box.setWindowTitle("About DetScope")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(
        "<h3>DetScope</h3><p>See inside two-stage object detectors: annotate, run a real "
        "Faster / Mask R-CNN, watch every stage, evaluate.</p>"
        f"<table cellspacing='4'>{rows}</table>"
    )
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.open()
    return box
