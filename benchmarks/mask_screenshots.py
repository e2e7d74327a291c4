"""README screenshot of the polygon tool: Mask from box with the bundled model (its 28x28
grid and its polygon's vertices) and a polygon being drawn. Run: ``.venv/bin/python benchmarks/mask_screenshots.py``
(offscreen); writes docs/polygon_tool.png. The segm Evaluate view comes from
``python main.py FOLDER --screenshot docs/evaluate_segm.png --evaluate --iou-type segm``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DETSCOPE_SETTINGS_DIR", tempfile.mkdtemp(prefix="detscope-shot-"))


def wait(app, condition, timeout: float = 120.0) -> None:
    end = time.perf_counter() + timeout
    while not condition() and time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.005)


def main() -> None:
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from detector.data.edits import update_object
    from detector.models import load_model

    app = QApplication.instance() or QApplication([])
    folder = Path(tempfile.mkdtemp()) / "shapes"
    shutil.copytree(ROOT / "resources" / "samples" / "shapes", folder)
    window = MainWindow()
    window.resize(1600, 1000)
    window.show()
    window.open_folder(folder)
    wait(app, lambda: window.canvas.image is not None)
    window.models.set_model(load_model("shapes"))
    dataset, image_id = window.dataset, window.current_image_id
    target = max(dataset.objects_in(image_id), key=lambda o: o.width * o.height)
    window.undo.push(update_object(dataset, target.id, mask=None), image_id)
    window.editor.select([target.id])
    window.mask_toolbar.mask_action.trigger()
    wait(app, lambda: isinstance(dataset.objects[target.id].mask, list))
    tool = window.mask_toolbar.polygons
    tool.start()
    width, height = window.canvas.image_size()
    tool.points = [(0.55 * width, 0.15 * height), (0.7 * width, 0.2 * height)]
    tool.points.append((0.66 * width, 0.38 * height))
    tool.item.set_draft(tool.points, (0.52 * width, 0.33 * height))
    app.processEvents()
    out = ROOT / "docs" / "polygon_tool.png"
    print("saved" if window.grab().save(str(out)) else "FAILED", out)
    window.autosave.flush()
    window.close()


if __name__ == "__main__":
    main()
