"""Where a dataset lives on disk: open a folder, save safely, notice outside changes.

* A dataset lives in ``annotations.json`` beside its images (or a path the user picks).
* Every save is atomic (temp file in the same folder, fsync, rename; see
  :mod:`detector.io.files`) and keeps the previous version as ``annotations.json~``.
* A file that could not be parsed is never overwritten: a dataset remembers the state
  (size, mtime, SHA-256) of the file it was loaded from, and refuses to write over a file
  it did not load, or that changed on disk since (:class:`~detector.errors.FileChangedError`).
* Nothing is written anywhere but the chosen path, its temp file and its ``~`` backup
  (the backup only when the path lies inside the image folder).
"""

from __future__ import annotations

import os
from pathlib import Path

from detector.data.dataset import Dataset, ImageRecord
from detector.data.issues import Issue, missing_file_issues
from detector.errors import AnnotationError, FileChangedError
from detector.io.documents import parse_json, read_bytes
from detector.io.files import changed_on_disk, fingerprint

ANNOTATION_FILE = "annotations.json"


def open_dataset(
    folder: str | os.PathLike, annotation_path: str | os.PathLike | None = None
) -> Dataset:
    """Images of ``folder`` plus its annotations; images not yet annotated are added.

    Raises AnnotationError when the annotation file exists but cannot be used (the file
    is left untouched). Image files named in the annotations but missing are kept and
    flagged in ``dataset.issues``.
    """
    from detector.formats._common import image_size_or_none
    from detector.formats.coco import load_coco
    from detector.io.images import list_images

    root = Path(folder)
    if not root.is_dir():
        raise AnnotationError("not a folder", file=root)
    path = root / ANNOTATION_FILE if annotation_path is None else Path(annotation_path)
    if path.exists():
        dataset = load_coco(path, image_root=root)
    else:
        dataset = Dataset(root=root, annotation_path=path)
    known = {record.file_name for record in dataset.images.values()}
    for image_file in list_images(root):
        if image_file.name in known:
            continue
        size = image_size_or_none(image_file)
        if size is None:
            dataset.issues.append(
                Issue(
                    "unreadable_image",
                    "not a readable image; skipped",
                    None,
                    image_file.name,
                    "warning",
                )
            )
            continue
        dataset.add_image_record(
            ImageRecord(dataset.new_image_id(), image_file.name, size[0], size[1])
        )
    dataset.issues += missing_file_issues(dataset, str(path))
    return dataset


def default_path(dataset: Dataset) -> Path:
    if dataset.annotation_path is not None:
        return Path(dataset.annotation_path)
    return dataset.root / ANNOTATION_FILE


def check_can_write(dataset: Dataset, target: Path, *, force: bool) -> None:
    """Raise unless writing ``target`` loses nothing (see module docstring)."""
    if not target.exists():
        return
    if target.is_dir():
        raise AnnotationError("is a folder; choose a file name", file=target)
    state = dataset.file_state
    ours = state is not None and state.path == target.resolve()
    if ours and not changed_on_disk(state):
        return
    if force:
        parse_json(read_bytes(target), file=target)  # an unparsable file is never overwritten
        return
    if ours:
        raise FileChangedError(
            "the file changed on disk since it was loaded; reload it, "
            "or save anyway (force) to overwrite it (a backup is kept)",
            file=target,
        )
    raise AnnotationError(
        "the file exists and was not loaded into this dataset; refusing to "
        "overwrite it (choose another name, or save with force)",
        file=target,
    )


def _inside(root: Path, target: Path) -> bool:
    try:
        target.resolve().relative_to(Path(root).resolve())
    except (ValueError, OSError):
        return False
    return True


def save_dataset(
    dataset: Dataset, path: str | os.PathLike | None = None, *, force: bool = False
) -> Path:
    """Atomically write the dataset as COCO JSON; see :meth:`Dataset.save`."""
    from detector.formats.coco import coco_bytes
    from detector.io.files import atomic_write_bytes

    target = default_path(dataset) if path is None else Path(path)
    check_can_write(dataset, target, force=force)
    data = coco_bytes(dataset)
    try:  # the ~ backup only inside the image folder: never litter the user's other folders
        atomic_write_bytes(target, data, backup=_inside(dataset.root, target))
    except OSError as exc:
        raise AnnotationError(f"cannot save ({exc.strerror or exc})", file=target) from None
    dataset.annotation_path = target
    dataset.file_state = fingerprint(target, data)
    dataset.mark_saved()
    return target
