"""Render the Diagnose pictures for the README offscreen: ``python benchmarks/diagnose_screenshots.py``.

docs/diagnose_tab.png: the real window's Evaluate dock, Diagnose tab, after a run with the
bundled shapes model on the first N sample images; docs/diagnose/*.png: the charts of
``main.py diagnose FOLDER --model shapes --plot`` on the same images.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "resources" / "samples" / "shapes"


def small_copy(count: int) -> Path:
    document = json.loads((SAMPLES / "annotations.json").read_text())
    document["images"] = sorted(document["images"], key=lambda i: i["id"])[:count]
    kept = {image["id"] for image in document["images"]}
    document["annotations"] = [a for a in document["annotations"] if a["image_id"] in kept]
    folder = Path(tempfile.mkdtemp()) / "shapes"
    folder.mkdir()
    for image in document["images"]:
        shutil.copy(SAMPLES / image["file_name"], folder / image["file_name"])
    (folder / "annotations.json").write_text(json.dumps(document))
    return folder


def tab_screenshot(folder: Path, out: Path) -> None:
    os.environ.update(QT_QPA_PLATFORM="offscreen", DETSCOPE_NO_AUTOLOAD="1")
    os.environ["DETSCOPE_SETTINGS_DIR"] = tempfile.mkdtemp()
    sys.path.insert(0, str(ROOT))
    import torch
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from detector import load_model

    torch.set_num_threads(1)
    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    window.resize(1500, 1150)
    window.show()
    window.open_folder(folder)
    window.state.models.set_model(load_model("shapes"))
    dock = window.docks["EvaluateDock"]
    dock.show()
    dock.raise_()
    window.resizeDocks([dock], [620], Qt.Orientation.Horizontal)
    dock.tabs.setCurrentWidget(dock.diagnose)
    dock.diagnose.run()
    deadline = time.time() + 600
    while dock.diagnose.tide is None and time.time() < deadline:
        app.processEvents()
        time.sleep(0.02)
    dock.diagnose.funnel.show_cell(9, 0)  # the "found" row: its objects listed below
    app.processEvents()
    dock.grab().save(str(out))
    window.state.pool.shutdown()
    window.close()


def main() -> int:
    folder = small_copy(int(sys.argv[1]) if len(sys.argv) > 1 else 6)
    docs = ROOT / "docs"
    command = [
        sys.executable, str(ROOT / "main.py"), "diagnose", str(folder), "--model", "shapes",
        "--plot", str(docs / "diagnose"),
    ]  # fmt: skip
    print(subprocess.run(command, cwd=ROOT, capture_output=True, text=True).stdout)
    tab_screenshot(folder, docs / "diagnose_tab.png")
    print(f"wrote {docs / 'diagnose_tab.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
