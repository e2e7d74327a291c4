"""Crash journal: each ground-truth edit is on disk before the next event is handled.

Autosave writes the annotation file a moment after the last edit (300 ms debounce), so a
crash in between would lose those edits. The journal closes that gap: on every edit one
JSON line with the *full current state* of what the edit touched (the objects and flags of
each touched image, all categories when they changed) is appended and flushed to the OS
(it survives the process dying; ``fsync`` is left to the real save, so a keystroke costs a
write of one image's objects: 0.03 ms for 10 objects, ~5 ms for 2,000). Replaying the
lines in order over the last saved file gives the edited state, whatever the edits were
(undo and redo included). The journal is deleted after every successful save.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any


def recovery_path(folder: Path) -> Path:
    """Where unsaved work of ``folder`` goes when its own file cannot be written."""
    from PySide6.QtCore import QStandardPaths

    base = os.environ.get("DETSCOPE_SETTINGS_DIR") or QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.AppDataLocation
    )
    digest = hashlib.sha1(str(Path(folder).resolve()).encode()).hexdigest()[:16]
    return Path(base) / "recovery" / f"{digest}.json"


def journal_path(folder: Path) -> Path:
    """The journal of ``folder``'s unsaved edits (beside its recovery file)."""
    return recovery_path(folder).with_suffix(".journal.jsonl")


def _record(value) -> dict[str, Any]:
    return {f.name: getattr(value, f.name) for f in fields(value)}


def _plain(value: Any) -> Any:
    """numpy scalars and arrays (a model's mask sizes, say) as JSON values."""
    return value.tolist() if hasattr(value, "tolist") else str(value)


class Journal:
    """Appends edits of one dataset; ``clear()`` after a save, ``close()`` keeps the file."""

    def __init__(self) -> None:
        self.dataset = None
        self.path: Path | None = None
        self._file = None

    def start(self, dataset) -> None:
        self.close()
        self.dataset = dataset
        self.path = None if dataset is None else journal_path(dataset.root)

    def record(self, change) -> None:
        """Append the state ``change`` touched (raises OSError when the disk refuses)."""
        if self.dataset is None or self.path is None:
            return
        dataset = self.dataset
        line: dict[str, Any] = {"revision": change.revision, "images": []}
        for image_id in sorted(change.image_ids):
            if image_id in dataset.images:
                line["images"].append(
                    {
                        "record": _record(dataset.images[image_id]),
                        "objects": [_record(a) for a in dataset.objects_in(image_id)],
                    }
                )
        if change.categories:
            line["categories"] = [_record(c) for c in dataset.categories.values()]
        self._open().write(json.dumps(line, default=_plain) + "\n")
        self._file.flush()

    def _open(self):
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
            if self._file.tell() == 0:
                header = {
                    "folder": str(self.dataset.root),
                    "started": datetime.now().isoformat(timespec="seconds"),
                }
                self._file.write(json.dumps(header) + "\n")
        return self._file

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def clear(self) -> None:
        """Everything is saved: the journal is no longer needed."""
        self.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def replay(dataset, path: Path) -> int:
    """Apply the journal at ``path`` to ``dataset`` (no notifications); the edits replayed.

    A last line cut short by a crash mid-write is skipped; images the folder no longer has
    are skipped too.
    """
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    replayed = 0
    for text in lines:
        try:
            line = json.loads(text)
        except json.JSONDecodeError:
            continue
        if "categories" in line:
            _replace_categories(dataset, line["categories"])
        for image in line["images"]:
            _replace_image(dataset, image)
        replayed += 1
    return replayed


def _replace_categories(dataset, categories: list[dict]) -> None:
    from detector.data.dataset import Category

    dataset.categories.clear()
    for category in categories:
        dataset.add_category_record(Category(**category))


def _replace_image(dataset, image: dict) -> None:
    from detector.data.dataset import Annotation, ImageRecord

    record = ImageRecord(**image["record"])
    if record.id not in dataset.images:
        return
    dataset.images[record.id] = record
    for old in dataset.objects_in(record.id):
        dataset.remove_object_record(old.id)
    for obj in image["objects"]:
        dataset.add_object_record(Annotation(**{**obj, "box": tuple(obj["box"])}))
