"""The folder layouts people export, found from the folder alone, and opened split by split.

``detect_layout(folder)`` recognises (first match wins):

=====================  ==============================================================
``annotations.json``   DetScope's own: the file beside the images
Roboflow COCO          ``_annotations.coco.json`` beside the images; or a parent folder
                       holding ``train/ valid/ test/`` split folders of that kind
CVAT COCO 1.0          ``annotations/instances_<subset>.json`` + ``images/``
                       (``images/<subset>/`` when CVAT exported several subsets)
official COCO          ``annotations/instances_<split>.json`` + ``<split>/`` (val2017 ...)
Label Studio COCO      ``result.json`` + ``images/``
YOLO (Ultralytics)     ``data.yaml`` + ``images/<split>/`` + ``labels/<split>/`` (or
                       ``<split>/images`` + ``<split>/labels``, or plain ``images/`` +
                       ``labels/``); class names from ``data.yaml``
Pascal VOC             ``Annotations/`` + ``JPEGImages/`` (+ ``ImageSets/Main/<split>.txt``)
plain images           anything else: images only; ``annotations.json`` is created on save
=====================  ==============================================================

A layout has one or more ``Split`` s; ``Layout.split(name)`` picks one (``None`` is fine
when there is only one). ``open_split`` reads a split into a Dataset whose
``annotation_path`` / ``annotation_format`` say where and how edits are written back (the
same file or folder, in the same format; see ``detector.store.save_dataset``). Opening never
writes anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from detector.data.dataset import Dataset
from detector.errors import AnnotationError

ANNOTATION_FILE = "annotations.json"
ROBOFLOW_FILE = "_annotations.coco.json"
SPLIT_ORDER = ("train", "valid", "val", "test", "default")


@dataclass(frozen=True)
class Split:
    """One split of a layout. ``format``: coco, yolo or voc. ``annotations``: the COCO JSON,
    the YOLO labels folder or the VOC Annotations folder (None: not yet annotated).
    ``images``: the folder image file names are relative to. ``extra``: YOLO's classes
    file (data.yaml) or VOC's ImageSets list."""

    name: str
    format: str
    annotations: Path | None
    images: Path
    extra: Path | None = None
    classes: tuple[str, ...] = ()  # VOC: class names from ImageSets/Main/<class>_<split>.txt


@dataclass(frozen=True)
class Layout:
    """A recognised folder: ``kind`` (see the module table), ``root`` and its splits."""

    kind: str
    root: Path
    splits: list[Split] = field(default_factory=list)

    @property
    def split_names(self) -> list[str]:
        return [s.name for s in self.splits]

    def split(self, name: str | None = None) -> Split:
        """The split called ``name``; with None, the only split (or an error naming them)."""
        if name is None:
            if len(self.splits) == 1:
                return self.splits[0]
            raise AnnotationError(
                f"{self.kind} folder with splits {', '.join(self.split_names)}; "
                "choose one (--split NAME)",
                file=self.root,
            )
        for split in self.splits:
            if split.name == name:
                return split
        raise AnnotationError(
            f"no split {name!r}; this {self.kind} folder has {', '.join(self.split_names)}",
            file=self.root,
        )

    def describe(self) -> str:
        names = ", ".join(self.split_names)
        return f"{self.kind} ({len(self.splits)} split{'s' * (len(self.splits) != 1)}: {names})"


def detect_layout(folder: str | os.PathLike) -> Layout:
    """Recognise ``folder``'s layout (see the module docstring); never reads images."""
    root = Path(folder)
    if not root.is_dir():
        raise AnnotationError("not a folder", file=root)
    for finder in (_own, _roboflow, _coco_annotations_dir, _label_studio, _yolo, _voc):
        layout = finder(root)
        if layout is not None and layout.splits:
            return layout
    return Layout("images", root, [Split("", "coco", None, root)])


def _own(root: Path) -> Layout | None:
    if (root / ANNOTATION_FILE).is_file():
        return Layout("annotations.json", root, [Split("", "coco", root / ANNOTATION_FILE, root)])
    return None


def _roboflow(root: Path) -> Layout | None:
    if (root / ROBOFLOW_FILE).is_file():
        return Layout("roboflow-coco", root, [Split(root.name, "coco", root / ROBOFLOW_FILE, root)])
    splits = [
        Split(sub.name, "coco", sub / ROBOFLOW_FILE, sub)
        for sub in _subfolders(root)
        if (sub / ROBOFLOW_FILE).is_file()
    ]
    return Layout("roboflow-coco", root, _ordered(splits)) if splits else None


def _coco_annotations_dir(root: Path) -> Layout | None:
    """CVAT COCO 1.0 (``images/``) or official COCO (``<split>/``) beside ``annotations/``."""
    folder = root / "annotations"
    files = sorted(folder.glob("instances_*.json")) if folder.is_dir() else []
    if not files:
        return None
    splits = []
    for file in files:
        name = file.stem[len("instances_") :]
        if (root / "images" / name).is_dir():
            splits.append(Split(name, "coco", file, root / "images" / name))
        elif (root / "images").is_dir():
            splits.append(Split(name, "coco", file, root / "images"))
        elif (root / name).is_dir():
            splits.append(Split(name, "coco", file, root / name))
    kind = "cvat-coco" if (root / "images").is_dir() else "coco"
    return Layout(kind, root, _ordered(splits))


def _label_studio(root: Path) -> Layout | None:
    file = root / "result.json"
    if not file.is_file() or not (root / "images").is_dir():
        return None
    # Label Studio writes file names as images/<name> (relative to the export root); older
    # exports write bare names, relative to images/.
    images = root if _first_name_starts_with_images(file) else root / "images"
    return Layout("label-studio-coco", root, [Split("", "coco", file, images)])


def _first_name_starts_with_images(file: Path) -> bool:
    from detector.io.documents import read_json

    try:
        doc = read_json(file)
        first = doc["images"][0]["file_name"] if doc.get("images") else ""
    except (AnnotationError, KeyError, IndexError, TypeError, AttributeError):
        return True
    return str(first).replace("\\", "/").lstrip("./").startswith("images/")


def _yolo(root: Path) -> Layout | None:
    classes = next((root / n for n in ("data.yaml", "dataset.yaml") if (root / n).is_file()), None)
    if classes is None:
        return None
    splits = []
    if (root / "images").is_dir() and (root / "labels").is_dir():
        nested = [s for s in _subfolders(root / "images") if (root / "labels" / s.name).is_dir()]
        splits = [Split(s.name, "yolo", root / "labels" / s.name, s, classes) for s in nested]
        if not splits:
            splits = [Split("", "yolo", root / "labels", root / "images", classes)]
    else:  # Roboflow's YOLO export: <split>/images + <split>/labels
        splits = [
            Split(sub.name, "yolo", sub / "labels", sub / "images", classes)
            for sub in _subfolders(root)
            if (sub / "images").is_dir() and (sub / "labels").is_dir()
        ]
    return Layout("yolo", root, _ordered(splits))


def _voc(root: Path) -> Layout | None:
    annotations, images = root / "Annotations", root / "JPEGImages"
    if not annotations.is_dir() or not images.is_dir():
        return None
    main = root / "ImageSets" / "Main"
    texts = sorted(main.glob("*.txt")) if main.is_dir() else []
    lists = [p for p in texts if "_" not in p.stem]
    # <class>_<split>.txt name every class: ids then agree across splits (alphabetical)
    classes = tuple(sorted({p.stem.rsplit("_", 1)[0] for p in texts if "_" in p.stem}))
    if not lists:
        return Layout("pascal-voc", root, [Split("", "voc", annotations, images, None, classes)])
    splits = [Split(p.stem, "voc", annotations, images, p, classes) for p in lists]
    return Layout("pascal-voc", root, _ordered(splits))


def _subfolders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _ordered(splits: list[Split]) -> list[Split]:
    rank = {name: i for i, name in enumerate(SPLIT_ORDER)}
    return sorted(splits, key=lambda s: (rank.get(s.name, len(rank)), s.name))


def open_split(split: Split) -> Dataset:
    """Read ``split`` into a Dataset that saves back to the same file or folder, same format.

    COCO splits without their file yet (plain image folders) give an empty Dataset whose
    ``annotation_path`` is ``annotations.json`` in the image folder.
    """
    if split.format == "coco":
        from detector.formats.coco import load_coco

        if split.annotations is None or not split.annotations.exists():
            path = split.annotations or split.images / ANNOTATION_FILE
            return Dataset(root=split.images, annotation_path=path)
        return load_coco(split.annotations, image_root=split.images)
    if split.format == "yolo":
        from detector.formats.yolo import load_yolo

        dataset = load_yolo(split.annotations, image_root=split.images, classes_file=split.extra)
        dataset.classes_path = split.extra
    elif split.format == "voc":
        stems = None if split.extra is None else _list_stems(split.extra)
        dataset = _load_voc(split, stems)
    else:
        raise AnnotationError(f"unknown annotation format {split.format!r}", file=split.images)
    dataset.annotation_path = split.annotations
    dataset.annotation_format = split.format
    dataset.mark_saved()
    return dataset


def _load_voc(split: Split, stems: list[str] | None) -> Dataset:
    from detector.formats.voc import load_voc

    if not any(split.annotations.glob("*.xml")):
        return Dataset(root=split.images)
    from detector.data.dataset import Category, palette_color

    categories = [Category(i + 1, n, palette_color(i)) for i, n in enumerate(split.classes)]
    return load_voc(split.annotations, image_root=split.images, categories=categories, stems=stems)


def _list_stems(path: Path) -> list[str]:
    from detector.io.documents import read_bytes

    text = read_bytes(path).decode("utf-8-sig", errors="replace")
    return [line.split()[0] for line in text.splitlines() if line.strip()]
