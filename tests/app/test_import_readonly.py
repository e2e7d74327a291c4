"""Issue 18: importing COCO in the window reads the file and writes nothing until an edit."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image


def make_source(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    Image.fromarray(np.zeros((100, 120, 3), np.uint8)).save(images / "img_0.png")
    elsewhere = tmp_path / "exports"
    elsewhere.mkdir()
    source = elsewhere / "from_tool.json"
    doc = {
        "images": [{"id": 1, "file_name": "img_0.png", "width": 120, "height": 100}],
        "categories": [{"id": 1, "name": "cat"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [5, 5, 30, 20], "iscrowd": 0}
        ],
    }
    source.write_text(json.dumps(doc, indent=1))  # indented: a rewrite would show
    return images, elsewhere, source


def test_import_coco_writes_nothing_until_the_user_edits(open_window, qtbot, tmp_path):
    images, elsewhere, source = make_source(tmp_path)
    before = source.read_bytes()
    window = open_window()
    window.import_annotations("COCO", source, images)
    qtbot.waitUntil(lambda: window.canvas.image is not None, timeout=20000)
    assert "nothing is written until you edit" in window.statusBar().currentMessage()
    qtbot.wait(700)  # longer than the autosave delay
    assert window.autosave.flush()
    assert source.read_bytes() == before
    assert sorted(p.name for p in elsewhere.iterdir()) == ["from_tool.json"]
    assert sorted(p.name for p in images.iterdir()) == ["img_0.png"]

    window.commands.add_box((50, 50, 90, 90))
    assert window.autosave.flush()
    saved = json.loads(source.read_text())
    assert len(saved["annotations"]) == 2  # saved where the user chose
    assert sorted(p.name for p in elsewhere.iterdir()) == ["from_tool.json"]  # no ~ backup
