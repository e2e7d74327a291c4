"""Re-make docs/model_dock.png: the Model dock offscreen, mid-download.

The progress shown is staged; nothing is downloaded. A private TORCH_HOME holds a random
stand-in for one cached file so the list shows both states.

    PYTHONPATH=. python docs/shoot_model_dock.py docs/model_dock.png
"""

from __future__ import annotations

import os
import sys
import tempfile
import time


def _pump(app, seconds: float) -> None:
    end = time.time() + seconds
    while time.time() < end:
        app.processEvents()
        time.sleep(0.02)


def main(out: str) -> None:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["DETSCOPE_NO_AUTOLOAD"] = "1"
    os.environ["DETSCOPE_SETTINGS_DIR"] = tempfile.mkdtemp()
    os.environ["TORCH_HOME"] = tempfile.mkdtemp()
    import torch
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from detector.models import load_model
    from detector.models.weights import find_weights

    torch.set_num_threads(1)
    app = QApplication([])
    entry = find_weights("fasterrcnn_mobilenet_v3_large_320_fpn")
    entry.path.parent.mkdir(parents=True)
    model = load_model(entry.architecture, weights=None, num_classes=91)
    torch.save(model.module.state_dict(), entry.path)
    window = MainWindow()
    window.resize(1400, 900)
    window.show()
    dock = window.model_dock
    while "fasterrcnn_resnet50_fpn" not in dock._entries:
        _pump(app, 0.1)
    dock.raise_()
    dock.arch_combo.setCurrentText("fasterrcnn_resnet50_fpn")
    dock.set_choice("fasterrcnn_resnet50_fpn@none", "auto")
    dock.weights_combo.setCurrentIndex(dock.weights_combo.findData("COCO_V1"))
    dock._show_download_state()
    dock.show_download_progress(61_000_000, 159_743_000, entry.file_name)
    dock.download_button.hide()
    dock.download_bar.show()
    dock.cancel_button.show()
    dock.setFloating(True)
    dock.resize(560, 260)
    _pump(app, 0.5)
    dock.grab().save(out)
    window.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/model_dock.png")
