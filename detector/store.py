"""Where a dataset lives on disk: open a folder, save safely, notice outside changes.

* A dataset lives in ``annotations.json`` beside its images (or a path the user picks), or
  in whatever an exporter wrote (Roboflow, CVAT, COCO, Label Studio, YOLO, VOC: see
  :mod:`detector.formats.layouts`); edits are saved back to that same file or folder, in
  its format. Opening never writes.
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

from detector.data.dataset import Dataset
from detector.data.issues import Issue, missing_file_issues
from detector.errors import AnnotationError, FileChangedError
from detector.io.documents import parse_json, read_bytes
from detector.io.files import changed_on_disk, fingerprint

ANNOTATION_FILE = "annotations.json"


def open_dataset(
    folder: str | os.PathLike,
    annotation_path: str | os.PathLike | None = None,
    *,
    split: str | None = None,
) -> Dataset:
    """Images of ``folder`` plus its annotations; images not yet annotated are added.

    ``folder`` may be any layout :func:`detector.formats.layouts.detect_layout` knows;
    ``split`` picks one of its splits (needed when it has several). Raises AnnotationError
    when the annotation file exists but cannot be used (the file is left untouched). Image
    files named in the annotations but missing are kept and flagged in ``dataset.issues``.
    """
    from detector.formats.coco import load_coco
    from detector.formats.layouts import detect_layout, open_split

    root = Path(folder)
    if not root.is_dir():
        raise AnnotationError("not a folder", file=root)
    if annotation_path is not None:
        path = Path(annotation_path)
        dataset = load_coco(path, image_root=root) if path.exists() else None
        dataset = dataset or Dataset(root=root, annotation_path=path)
        present = _image_names(dataset.root)  # one directory scan serves both uses
        add_unannotated_images(dataset, present)
    else:
        chosen = detect_layout(root).split(split)
        dataset = open_split(chosen)
        present = _image_names(dataset.root)
        if chosen.format == "coco" or (chosen.format == "voc" and chosen.extra is None):
            add_unannotated_images(dataset, present)
        path = dataset.annotation_path or chosen.images
    dataset.issues += _missing_file_issues(dataset, str(path), present)
    return dataset


def add_unannotated_images(dataset: Dataset, present: set[str] | None = None) -> None:
    """Add a record for every image directly in ``dataset.root`` not named yet (unreadable
    ones are flagged in ``dataset.issues`` instead); ``present``: the image names in the
    folder when the caller has scanned it already (:func:`_image_names`)."""
    from detector.formats._common import add_image_file

    root = dataset.root
    known = {record.file_name for record in dataset.images.values()}
    present = _image_names(root) if present is None else present
    for image_file in _new_images(root, present, known):
        add_image_file(dataset, image_file)


# ---- large folders (100,000 images): one directory scan, no Path or stat per image ----
def _image_names(root: Path) -> set[str]:
    """Names of the image files directly in ``root`` (as :func:`list_images` finds them)."""
    from detector.io.images import IMAGE_EXTENSIONS

    try:
        with os.scandir(root) as entries:
            return {
                entry.name
                for entry in entries
                if os.path.splitext(entry.name)[1].lower() in IMAGE_EXTENSIONS and entry.is_file()
            }
    except OSError:
        return set()  # then every name is looked up one by one


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

    if path is None and dataset.annotation_format != "coco":
        return _save_folder_format(dataset)
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


def _save_folder_format(dataset: Dataset) -> Path:
    """Write a YOLO labels folder or VOC Annotations folder back where it was read."""
    target = Path(dataset.annotation_path)
    if dataset.annotation_format == "yolo":
        from detector.formats.yolo import read_classes, save_yolo

        names = [dataset.categories[i].name for i in sorted(dataset.categories)]
        if dataset.classes_path is not None and read_classes(dataset.classes_path) != names:
            raise AnnotationError(
                "the categories changed, and YOLO class names live in this shared file; "
                "save as COCO instead (Save As, or main.py convert)",
                file=dataset.classes_path,
            )
        save_yolo(dataset, target, overwrite=True, classes_file=dataset.classes_path is None)
    elif dataset.annotation_format == "voc":
        from detector.formats.voc import save_voc

        save_voc(dataset, target, overwrite=True)
    else:
        raise AnnotationError(f"cannot save format {dataset.annotation_format!r}", file=target)
    dataset.mark_saved()
    return target
