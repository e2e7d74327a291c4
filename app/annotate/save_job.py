"""Saving off the GUI thread: a cheap snapshot on the GUI thread, the rest in a worker.

Serialising 100,000 images with 1,000,000 boxes takes seconds (plus the atomic write and
its fsync): enough to freeze the window on every autosave. The GUI thread only takes a
copy-on-write snapshot (:meth:`detector.data.dataset.Dataset.snapshot`: records are
immutable and shared, per-image dicts are copied by the first edit after it; ~2 ms at
100,000 images, never a copy of the million objects); the worker then serialises (a list
chunk at a time, see :func:`detector.formats.coco.json_pieces`, so the GIL is not held
for seconds) and writes the snapshot with the data layer's own atomic ``save``, while the
user keeps editing.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from detector.formats.coco import paused_gc
from detector.store import save_dataset

#: The GIL switch interval while a save runs (Python's default is 5 ms): the GUI thread,
#: waking for each paint or timer, waits for the busy worker to hand the GIL over at most
#: this long. With 5 ms those waits added up to 50-100 ms stalls (20,000 images, an edit
#: repainted while the save started); with 1 ms the longest was ~20 ms, the save as fast.
SAVE_SWITCH_INTERVAL = 0.001


@dataclass
class SaveJob:
    """One save of a snapshot: ``edits`` counts the edits it includes."""

    copy: Any
    edits: int
    force: bool
    done: threading.Event = field(default_factory=threading.Event)
    path: Path | None = None
    file_state: Any = None
    error: str | None = None
    handled: bool = False

    def run(self) -> SaveJob:
        """The worker part: the data layer's atomic save of the snapshot (sets ``done``)."""
        try:
            with paused_gc(), quick_gil_handover():  # see _save, SAVE_SWITCH_INTERVAL
                self._save()
        except Exception as exc:  # noqa: BLE001 - the GUI thread turns it into a recovery
            self.error = str(exc) or type(exc).__name__
        finally:
            self.done.set()
        return self

    def _save(self) -> None:
        """Save, with the cyclic GC off (by the caller): the 1,000,000 dicts and lists the
        COCO document is built from would otherwise set off collections (each holds the
        GIL: the GUI thread stalled ~0.4 s at 1,000,000 boxes)."""
        self.path = save_dataset(self.copy, force=self.force)
        self.file_state = self.copy.file_state


@contextlib.contextmanager
def quick_gil_handover(interval: float = SAVE_SWITCH_INTERVAL) -> Iterator[None]:
    """Hand the GIL to other threads every ``interval`` seconds inside (then as before)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, interval))
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def run_job(job: SaveJob) -> SaveJob:
    return job.run()
