"""Where a dataset lives on disk: open a folder, save safely, notice outside changes.

* A dataset lives in ``annotations.json`` beside its images (or a path the user picks).
* Every save is atomic (temp file in the same folder, fsync, rename; see
  :mod:`detector.io.files`) and keeps the previous version as ``annotations.json~``.
* A file that could not be parsed is never overwritten: a dataset remembers the state
  (size, mtime, SHA-256) of the file it was loaded from, and refuses to write over a file
  it did not load, or that changed on disk since (:class:`~detector.errors.FileChangedError`).
* Nothing is written anywhere but the chosen path, its temp file and its ``~`` backup.
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

    root = Path(folder)
    if not root.is_dir():
        raise AnnotationError("not a folder", file=root)
    path = root / ANNOTATION_FILE if annotation_path is None else Path(annotation_path)
    if path.exists():
        dataset = load_coco(path, image_root=root)
    else:
        dataset = Dataset(root=root, annotation_path=path)
    known = {record.file_name for record in dataset.images.values()}
    present = _image_names(root)
    for image_file in _new_images(root, present, known):
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
    dataset.issues += _missing_file_issues(dataset, str(path), present)
    return dataset


# ---- large folders (100,000 images): one directory scan, no Path or stat per image ----
def _image_names(root: Path) -> set[str]:
    """Names of the image files directly in ``root`` (as :func:`list_images` finds them)."""
    from detector.io.images import IMAGE_EXTENSIONS

    with os.scandir(root) as entries:
        return {
            entry.name
            for entry in entries
            if os.path.splitext(entry.name)[1].lower() in IMAGE_EXTENSIONS and entry.is_file()
        }


def _new_images(root: Path, present: set[str], known: set[str]) -> list[Path]:
    """The image files of ``root`` not named in the annotations, in list_images' order."""
    from detector.io.images import _natural_key

    return sorted((root / name for name in present - known), key=_natural_key)


def _missing_file_issues(dataset: Dataset, file: str, present: set[str]) -> list[Issue]:
    """:func:`missing_file_issues`, answered from the directory scan for files directly in
    the folder: only names the scan did not find (or in subfolders) are looked up."""
    absent = [
        r for r in dataset.images.values() if r.file_name not in present or "/" in r.file_name
    ]
    if not absent:
        return []
    partial = Dataset(root=dataset.root, images={r.id: r for r in absent})
    return missing_file_issues(partial, file)


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


def save_dataset(
    dataset: Dataset, path: str | os.PathLike | None = None, *, force: bool = False
) -> Path:
    """Atomically write the dataset as COCO JSON; see :meth:`Dataset.save`."""
    from detector.formats.coco import coco_bytes
    from detector.io.files import atomic_write_bytes

    target = default_path(dataset) if path is None else Path(path)
    check_can_write(dataset, target, force=force)
    data = coco_bytes(dataset)
    try:
        atomic_write_bytes(target, data, backup=True)
    except OSError as exc:
        raise AnnotationError(f"cannot save ({exc.strerror or exc})", file=target) from None
    dataset.annotation_path = target
    dataset.file_state = fingerprint(target, data)
    dataset.mark_saved()
    return target
