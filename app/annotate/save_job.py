"""Saving off the GUI thread: a cheap snapshot on the GUI thread, the rest in a worker.

Serialising 5,000 images with 50,000 boxes takes ~0.25 s (plus the atomic write and its
fsync): enough to freeze the window on every autosave. Records (images, categories,
objects) are immutable values and masks are never mutated in place, so a snapshot only
copies the flat containers (C-level dict copies; the per-image index is rebuilt in the
worker, :func:`regroup_objects`); the worker then serialises (a list chunk at a time, see
:func:`detector.formats.coco.dumps_in_chunks`, so the GIL is not held for seconds) and writes
the snapshot with the data layer's own atomic ``save``, while the user keeps editing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from detector.formats.coco import paused_gc
from detector.store import save_dataset


def snapshot(dataset):
    """A copy of ``dataset`` that later edits cannot change (shares the immutable records).

    The ``derived`` caches (COCO areas) are shared: only a save touches them, and one
    save runs at a time.
    """
    return replace(
        dataset,
        images=dict(dataset.images),
        categories=dict(dataset.categories),
        objects=dict(dataset.objects),
        predictions={},
        extra=dict(dataset.extra),
        orphans=list(dataset.orphans),
        issues=list(dataset.issues),
        _by_image={},  # rebuilt in the worker (regroup_objects): 100,000 dict copies here
        _subscribers=[],  # would stall the GUI thread ~1 s
    )


def regroup_objects(copy) -> None:
    """Rebuild a snapshot's per-image index from its objects (worker side)."""
    by_image = {image_id: {} for image_id in copy.images}
    for object_id, annotation in copy.objects.items():
        by_image[annotation.image_id][object_id] = annotation
    copy._by_image = by_image


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
            with paused_gc():  # see _save
                self._save()
        except Exception as exc:  # noqa: BLE001 - the GUI thread turns it into a recovery
            self.error = str(exc) or type(exc).__name__
        finally:
            self.done.set()
        return self

    def _save(self) -> None:
        """Save, with the cyclic GC off (by the caller): the 100,000 per-image dicts of a
        snapshot's index would otherwise set off collections (each holds the GIL: the GUI
        thread stalled ~0.4 s at 1,000,000 boxes); the index is dropped again before the
        GC comes back on, so no collection has it to walk."""
        regrouped = not self.copy._by_image and bool(self.copy.objects)
        if regrouped:
            regroup_objects(self.copy)
        try:
            self.path = save_dataset(self.copy, force=self.force)
            self.file_state = self.copy.file_state
        finally:
            if regrouped:
                self.copy._by_image = {}


def run_job(job: SaveJob) -> SaveJob:
    return job.run()
