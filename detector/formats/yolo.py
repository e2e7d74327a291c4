"""YOLO labels: one ``<image stem>.txt`` per image plus a classes file, both ways.

Each line is ``class cx cy w h``, normalised to 0-1 by the image width/height (``class
cx cy w h conf`` is read as a model prediction with a score; ``class x1 y1 x2 y2 ...``
with 3+ points as a YOLO-seg polygon). Sizes come from the images, so importing needs the
image folder (``images/`` beside ``labels/`` is found automatically).

Class order never silently changes: class ``k`` of the classes file (``classes.txt``,
``obj.names``, or ``names:`` in ``data.yaml``) becomes category id ``k + 1``; exporting
writes categories in id order and **refuses** to write over an existing classes file with a
different list (that would re-label every file already there). Blank lines in the middle
of a classes file are an error, not a silent shift.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

from detector.data.dataset import Annotation, Category, Dataset, ImageRecord
from detector.data.issues import Issue, box_issues
from detector.data.masks import polygons_fit
from detector.data.palette import palette_color
from detector.errors import AnnotationError
from detector.formats._common import (
    add_image_file,
    check_label_names,
    clip_far_boxes,
    output_paths,
    refuse_overwrite,
)
from detector.io.documents import read_bytes
from detector.io.images import list_images

CLASS_FILES = ("classes.txt", "obj.names", "data.yaml", "dataset.yaml")
MAX_CLASSES = 1_000_000  # a class index beyond this is a corrupt line, not a class


def find_classes_file(labels_dir: Path) -> Path | None:
    for folder in (labels_dir, labels_dir.parent):
        for name in CLASS_FILES:
            if (folder / name).is_file():
                return folder / name
    return None


def default_image_dir(labels_dir: Path) -> Path:
    """``.../images`` when ``labels_dir`` is ``.../labels`` (the Ultralytics layout), else itself."""
    if labels_dir.name == "labels" and (labels_dir.parent / "images").is_dir():
        return labels_dir.parent / "images"
    return labels_dir


def read_classes(path: Path) -> list[str]:
    """Class names in order; a blank line inside the list is an error (it would shift ids)."""
    text = read_bytes(path).decode("utf-8-sig", errors="replace")
    if path.suffix in (".yaml", ".yml"):
        return _yaml_names(text, path)
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    for number, line in enumerate(lines, start=1):
        if not line:
            raise AnnotationError(
                "blank line inside the class list (it would shift every class "
                "after it); remove it or name the class",
                file=path,
                location=f"line {number}",
            )
    if len(set(lines)) != len(lines):
        raise AnnotationError("a class name appears twice", file=path)
    return lines


def _yaml_names(text: str, path: Path) -> list[str]:
    """``names: [a, b]``, a ``names:`` block list, or a ``names:`` block of ``0: a`` lines."""
    inline = re.search(r"^names:\s*\[(.*?)\]", text, re.M | re.S)
    if inline:
        return [n.strip().strip("'\"") for n in inline.group(1).split(",") if n.strip()]
    block = re.search(r"^names:\s*\n((?:[ \t]+.*\n?)+)", text, re.M)
    if not block:
        raise AnnotationError("no 'names:' list found", file=path)
    names = {}
    for index, line in enumerate(block.group(1).splitlines()):
        item = line.strip()
        key, sep, value = item.partition(":") if not item.startswith("-") else ("", "", item[1:])
        names[int(key) if sep and key.strip().isdigit() else index] = value.strip().strip("'\"")
    return [names[k] for k in sorted(names)]


def load_yolo(
    labels_dir: str | os.PathLike,
    *,
    image_root: str | os.PathLike | None = None,
    classes_file: str | os.PathLike | None = None,
) -> Dataset:
    """Read a YOLO labels folder; every image of ``image_root`` becomes an image record."""
    labels = Path(labels_dir)
    if not labels.is_dir():
        raise AnnotationError("not a folder of YOLO label files", file=labels)
    classes_path = Path(classes_file) if classes_file else find_classes_file(labels)
    if classes_path is None:
        raise AnnotationError(
            "no classes file (classes.txt, obj.names or data.yaml) found; "
            "class indices cannot be named",
            file=labels,
        )
    dataset = Dataset(root=Path(image_root) if image_root else default_image_dir(labels))
    for index, name in enumerate(read_classes(classes_path)):
        dataset.add_category_record(Category(index + 1, name, palette_color(index)))
    label_files = {p.stem: p for p in labels.glob("*.txt") if p.name not in CLASS_FILES}
    for image_file in list_images(dataset.root):
        _read_image(dataset, image_file, label_files.pop(image_file.stem, None))
    for stem, path in sorted(label_files.items()):
        dataset.issues.append(
            Issue(
                kind="orphan",
                message=f"no image named {stem}.* in {dataset.root}; its "
                "boxes cannot be converted (sizes unknown)",
                file=str(path),
                location=None,
                severity="error",
            )
        )
    dataset.issues += clip_far_boxes(dataset)
    dataset.issues += box_issues(dataset)
    return dataset


def _read_image(dataset: Dataset, image_file: Path, label_file: Path | None) -> None:
    record = add_image_file(dataset, image_file)
    if record is None:
        return
    if label_file is None:
        return
    text = read_bytes(label_file).decode("utf-8-sig", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            _read_line(dataset, record, line.split(), str(label_file), f"line {number}")


def _read_line(
    dataset: Dataset, record: ImageRecord, parts: list[str], file: str, where: str
) -> None:
    class_index, values = -1, []
    try:
        class_index, values = int(parts[0]), [float(v) for v in parts[1:]]
    except ValueError:
        values = []
    if not all(math.isfinite(v) and abs(v) <= 1e6 for v in values) or not (
        0 <= class_index < MAX_CLASSES
    ):
        values = []
    if len(values) not in (4, 5) and (len(values) < 6 or len(values) % 2):
        dataset.issues.append(
            Issue(
                kind="bad_box",
                message=f"expected 'class cx cy w h', got {' '.join(parts)!r}; skipped",
                file=file,
                location=where,
                severity="error",
                image_id=record.id,
            )
        )
        return
    category_id = _category_for(dataset, class_index, file, where)
    w, h = record.width, record.height
    score = values[4] if len(values) == 5 else None
    mask = None
    if len(values) >= 6:
        xs, ys = values[0::2], values[1::2]
        mask = [[round(v * (w if i % 2 == 0 else h), 4) for i, v in enumerate(values)]]
        box = (min(xs) * w, min(ys) * h, max(xs) * w, max(ys) * h)
        if not polygons_fit(mask, w, h):
            mask = None  # far outside the image: the box is kept (and clipped, flagged)
    else:
        cx, cy, bw, bh = values[:4]
        box = ((cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h)
    source = "model" if score is not None else "human"
    dataset.add_object_record(
        Annotation(
            id=dataset.new_object_id(),
            image_id=record.id,
            category_id=category_id,
            box=box,
            mask=mask,
            source=source,
            score=score,
        )
    )


def _category_for(dataset: Dataset, class_index: int, file: str, where: str) -> int:
    category_id = class_index + 1
    if category_id not in dataset.categories:
        name = f"class-{class_index}"
        dataset.add_category_record(Category(category_id, name, palette_color(class_index)))
        dataset.issues.append(
            Issue(
                kind="unknown_category",
                message=f"class {class_index} is not in the classes file; added as {name!r}",
                file=file,
                location=where,
                severity="error",
            )
        )
    return category_id


# --------------------------------------------------------------------------- export
def save_yolo(
    dataset: Dataset,
    out_dir: str | os.PathLike,
    *,
    overwrite: bool = False,
    segments: bool | None = None,
    classes_file: bool = True,
) -> list[str]:
    """Write ``<stem>.txt`` per image and ``classes.txt`` (categories in id order; not
    when ``classes_file`` is False: the names live elsewhere, e.g. data.yaml).

    ``segments``: write YOLO-seg polygon lines (Ultralytics ``class x1 y1 x2 y2 ...``,
    normalised); None (default) does so when any object has a mask. In segment mode an
    object without a mask is written as its box's 4-corner polygon, an RLE is traced into
    polygons and a multi-part object becomes one bridged polygon. YOLO has no crowd flag.
    """
    from detector.io.files import atomic_write_bytes

    target_dir = Path(out_dir)
    check_label_names(dataset, "YOLO classes.txt")
    order = sorted(dataset.categories)
    names = [dataset.categories[i].name for i in order]
    classes_path = target_dir / "classes.txt"
    if classes_file and classes_path.is_file() and read_classes(classes_path) != names:
        raise AnnotationError(
            "exists with a different class list; writing would change the "
            "meaning of every label file already there",
            file=classes_path,
        )
    targets = output_paths(dataset, target_dir, ".txt")
    refuse_overwrite(list(targets.values()), overwrite, "label files", target_dir)
    index_of = {category_id: index for index, category_id in enumerate(order)}
    if classes_file:
        atomic_write_bytes(classes_path, ("\n".join(names) + "\n").encode("utf-8"))
    if segments is None:
        segments = any(o.mask is not None for o in dataset.objects.values())
    masks, warnings = 0, []
    for image_id, record in dataset.images.items():
        objects = dataset.objects_in(image_id)
        if record.width <= 0 or record.height <= 0:
            warnings.append(f"{record.file_name}: size unknown, {len(objects)} objects not written")
            continue
        masks += sum(o.mask is not None for o in objects)
        write = _segment_line if segments else _line
        lines = [write(o, record, index_of[o.category_id]) for o in objects]
        atomic_write_bytes(targets[image_id], "".join(lines).encode("ascii"))
    crowd = sum(o.iscrowd for o in dataset.objects.values())
    return (
        warnings
        + ([f"{masks} masks were written as boxes only"] if masks and not segments else [])
        + (
            [f"{crowd} crowd objects written as plain objects (YOLO has no crowd flag)"]
            if crowd
            else []
        )
    )


def _line(obj: Annotation, record: ImageRecord, class_index: int) -> str:
    x1, y1, x2, y2 = obj.box
    w, h = record.width, record.height
    values = ((x1 + x2) / 2 / w, (y1 + y2) / 2 / h, (x2 - x1) / w, (y2 - y1) / h)
    return f"{class_index} " + " ".join(f"{v:.6f}" for v in values) + "\n"


def _segment_line(obj: Annotation, record: ImageRecord, class_index: int) -> str:
    from detector.formats._masks import merge_segments, object_polygons

    polygon = merge_segments(object_polygons(obj, record))
    if not polygon:
        x1, y1, x2, y2 = obj.box
        polygon = [x1, y1, x2, y1, x2, y2, x1, y2]
    w, h = record.width, record.height
    values = [min(max(v / (w if i % 2 == 0 else h), 0.0), 1.0) for i, v in enumerate(polygon)]
    return f"{class_index} " + " ".join(f"{v:.6f}" for v in values) + "\n"
