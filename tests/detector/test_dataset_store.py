"""Storage: open a folder, atomic save with backup, refuse to lose anything."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from detector.data.dataset import Dataset
from detector.data.edits import update_object
from detector.errors import AnnotationError, FileChangedError
from detector.io.files import backup_path
from detector.store import open_dataset, save_dataset

ROOT = Path(__file__).resolve().parents[2]


def write_image(path: Path, width: int, height: int) -> None:
    import cv2

    cv2.imwrite(str(path), np.zeros((height, width, 3), np.uint8))


def make_folder(tmp_path: Path) -> Path:
    write_image(tmp_path / "a.png", 40, 30)
    write_image(tmp_path / "b.png", 20, 10)
    doc = {
        "images": [
            {"id": 1, "file_name": "a.png", "width": 40, "height": 30},
            {"id": 2, "file_name": "gone.png", "width": 5, "height": 5},
        ],
        "categories": [{"id": 1, "name": "thing"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]}],
    }
    (tmp_path / "annotations.json").write_text(json.dumps(doc))
    return tmp_path


def test_open_folder_adds_new_images_and_flags_missing_ones(tmp_path):
    dataset = open_dataset(make_folder(tmp_path))
    names = {r.file_name: (r.width, r.height) for r in dataset.images.values()}
    assert names == {"a.png": (40, 30), "gone.png": (5, 5), "b.png": (20, 10)}
    missing = [i for i in dataset.issues if i.kind == "missing_file"]
    assert [i.location for i in missing] == ["gone.png"]


def test_open_empty_folder_then_save_creates_annotations_json(tmp_path):
    write_image(tmp_path / "x.png", 8, 6)
    dataset = open_dataset(tmp_path)
    assert dataset.annotation_path == tmp_path / "annotations.json"
    save_dataset(dataset)
    saved = json.loads((tmp_path / "annotations.json").read_text())
    assert saved["images"][0]["file_name"] == "x.png" and saved["annotations"] == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["annotations.json", "x.png"]


def test_save_keeps_previous_version_as_backup(tmp_path):
    folder = make_folder(tmp_path)
    original = (folder / "annotations.json").read_bytes()
    dataset = open_dataset(folder)
    dataset.apply(update_object(dataset, 1, box=(0.0, 0.0, 9.0, 9.0)))
    assert dataset.is_modified
    save_dataset(dataset)
    assert not dataset.is_modified
    assert backup_path(folder / "annotations.json").read_bytes() == original
    saved = json.loads((folder / "annotations.json").read_text())
    assert saved["annotations"][0]["bbox"] == [0.0, 0.0, 9.0, 9.0]
    save_dataset(dataset)  # a second save right after the first is not an "outside change"


def test_refuses_to_overwrite_a_file_it_could_not_parse(tmp_path):
    folder = make_folder(tmp_path)
    path = folder / "annotations.json"
    path.write_text('{"images": [')
    with pytest.raises(AnnotationError, match="line 1, column 13"):
        open_dataset(folder)
    fresh = Dataset(root=folder)
    with pytest.raises(AnnotationError, match="refusing to overwrite"):
        save_dataset(fresh)
    with pytest.raises(AnnotationError, match="invalid JSON"):
        save_dataset(fresh, force=True)
    assert path.read_text() == '{"images": ['


def test_notices_a_change_on_disk_since_load(tmp_path):
    folder = make_folder(tmp_path)
    dataset = open_dataset(folder)
    path = folder / "annotations.json"
    path.write_text(path.read_text().replace("thing", "other thing"))
    with pytest.raises(FileChangedError, match="changed on disk"):
        save_dataset(dataset)
    save_dataset(dataset, force=True)
    assert "other thing" in backup_path(path).read_text()


def test_touch_without_content_change_is_not_a_conflict(tmp_path):
    folder = make_folder(tmp_path)
    dataset = open_dataset(folder)
    os.utime(folder / "annotations.json", ns=(1, 1))
    save_dataset(dataset)


CHILD = """
import sys
sys.path.insert(0, {root!r})
from detector.data.dataset import Dataset, ImageRecord, Category, Annotation
from detector.store import open_dataset
from detector.store import save_dataset
dataset = open_dataset({folder!r})
image_id = next(iter(dataset.images))
n = 0
print("ready", flush=True)
while True:
    n += 1
    dataset.add_object_record(Annotation(id=dataset.new_object_id(), image_id=image_id,
                                         category_id=1, box=(0.0, 0.0, float(n), 1.0),
                                         extra={{"pad": "x" * 4000}}))
    save_dataset(dataset)
"""


def test_killing_a_save_loop_never_corrupts_the_file(tmp_path):
    folder = make_folder(tmp_path)
    path = folder / "annotations.json"
    rng = np.random.default_rng(0)
    counts = [1]
    for _ in range(6):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD.format(root=str(ROOT), folder=str(folder))],
            stdout=subprocess.PIPE,
        )
        assert child.stdout.readline().strip() == b"ready"
        time.sleep(float(rng.uniform(0.05, 0.3)))
        child.send_signal(signal.SIGKILL)
        child.wait()
        doc = json.loads(path.read_text())  # always a whole, parseable file
        assert doc["categories"][0]["name"] == "thing"
        counts.append(len(doc["annotations"]))
        assert counts[-1] >= counts[-2]  # the last completed save survived, nothing went back
        json.loads(backup_path(path).read_text())
    assert counts[-1] > 10  # the loop really saved many times before being killed
    leftovers = [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) <= 6  # at most one orphan temp file per kill, never the target
