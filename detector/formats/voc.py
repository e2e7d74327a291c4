"""Pascal VOC XML: a folder with one ``<annotation>`` file per image, both ways.

Pixel convention: VOC coordinates are **1-based and inclusive**: a box over the first ten
pixel columns is ``xmin=1, xmax=10``. DetScope boxes are continuous 0-based (COCO): the
same box is ``x1=0, x2=10``. So on import ``x1 = xmin - 1, y1 = ymin - 1, x2 = xmax,
y2 = ymax``, and on export the reverse. Integral values are written as integers; a box with
sub-pixel corners is written with decimals (readers using ``int(float(v))`` still work).

``difficult``, ``truncated``, ``occluded`` and ``pose`` are kept per object (in
``annotation.extra``) and written back. VOC XML has no masks: exporting a dataset with
masks keeps the boxes and reports how many masks were left out. Category ids on import
follow the order in which names first appear (files in name order), from 1, unless an
existing ``categories`` list is given.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

from detector.data.dataset import Annotation, Category, Dataset, ImageRecord, palette_color
from detector.data.issues import Issue, box_issues
from detector.errors import AnnotationError
from detector.formats._common import (
    image_size_or_none,
    refuse_overwrite,
    relative_name,
    safe_output_path,
)
from detector.io.documents import read_bytes, sniff_format

KEPT_FIELDS = ("pose", "truncated", "difficult", "occluded")


def load_voc(
    folder: str | os.PathLike,
    *,
    image_root: str | os.PathLike | None = None,
    categories: list[Category] | None = None,
    stems: list[str] | None = None,
) -> Dataset:
    """Read every ``*.xml`` in ``folder`` (sorted), or only ``stems`` (an ImageSets list).
    ``image_root`` defaults to ``folder``."""
    xml_dir = Path(folder)
    if not xml_dir.is_dir():
        raise AnnotationError("not a folder of VOC XML files", file=xml_dir)
    files = sorted(xml_dir.glob("*.xml"))
    if stems is not None:
        wanted = set(stems)
        files = [f for f in files if f.stem in wanted]
    if not files:
        raise AnnotationError("no .xml files in this folder", file=xml_dir)
    dataset = Dataset(root=xml_dir if image_root is None else Path(image_root))
    for category in categories or []:
        dataset.add_category_record(category)
    for image_id, xml_file in enumerate(files, start=1):
        _read_file(dataset, xml_file, image_id)
    dataset.issues += box_issues(dataset)
    return dataset


def parse_voc_xml(xml_file: Path) -> ET.Element:
    data = read_bytes(xml_file)
    if sniff_format(data) == "json":
        raise AnnotationError("this is a JSON file, not VOC XML (COCO or LabelMe?)", file=xml_file)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line, column = exc.position
        message = str(exc).split(":")[0]
        raise AnnotationError(
            f"invalid XML: {message}", file=xml_file, location=f"line {line}, column {column + 1}"
        ) from None
    if root.tag != "annotation":
        raise AnnotationError(
            f"not a VOC file: the root element is <{root.tag}>, expected <annotation>",
            file=xml_file,
        )
    return root


def _read_file(dataset: Dataset, xml_file: Path, image_id: int) -> None:
    root = parse_voc_xml(xml_file)
    file_name = (root.findtext("filename") or "").strip() or _find_image_name(dataset, xml_file)
    name = relative_name(file_name, dataset.root)
    width = _number(root.findtext("size/width"))
    height = _number(root.findtext("size/height"))
    if not width or not height:
        size = image_size_or_none(dataset.root / name)
        if size is None:
            dataset.issues.append(
                Issue(
                    "unknown_size",
                    "no <size> and the image cannot be read",
                    str(xml_file),
                    "size",
                    "error",
                    image_id,
                )
            )
        width, height = size or (0, 0)
    dataset.add_image_record(ImageRecord(image_id, name, int(width), int(height)))
    for index, element in enumerate(root.iter("object")):
        _read_object(dataset, element, image_id, f"{xml_file}", f"object[{index}]")


def _read_object(
    dataset: Dataset, element: ET.Element, image_id: int, file: str, where: str
) -> None:
    label = (element.findtext("name") or "").strip()
    corners = [_number(element.findtext(f"bndbox/{k}")) for k in ("xmin", "ymin", "xmax", "ymax")]
    if not label or any(v is None for v in corners):
        dataset.issues.append(
            Issue(
                "bad_box",
                "object without a <name> or a numeric <bndbox>; skipped",
                file,
                where,
                "error",
                image_id,
            )
        )
        return
    xmin, ymin, xmax, ymax = corners
    category = dataset.category_by_name(label)
    if category is None:
        new_id = dataset.new_category_id()
        category = Category(new_id, label, palette_color(len(dataset.categories)))
        dataset.add_category_record(category)
    extra = {}
    for key in KEPT_FIELDS:
        text = element.findtext(key)
        if text is not None and text.strip():
            value = text.strip()
            extra[key] = int(value) if value.lstrip("-").isdigit() else value
    box = (float(xmin) - 1.0, float(ymin) - 1.0, float(xmax), float(ymax))
    dataset.add_object_record(
        Annotation(dataset.new_object_id(), image_id, category.id, box, extra=extra or None)
    )


def _find_image_name(dataset: Dataset, xml_file: Path) -> str:
    for candidate in sorted(dataset.root.glob(xml_file.stem + ".*")):
        if candidate.suffix.lower() != ".xml":
            return candidate.name
    return xml_file.stem + ".jpg"


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and value == value and abs(value) != float("inf") else None


# --------------------------------------------------------------------------- export
def save_voc(dataset: Dataset, out_dir: str | os.PathLike, *, overwrite: bool = False) -> list[str]:
    """One XML per image into ``out_dir``; returns warnings (e.g. masks left out)."""
    from detector.io.files import atomic_write_bytes

    target_dir = Path(out_dir)
    targets = {
        i: safe_output_path(target_dir, r.file_name, ".xml") for i, r in dataset.images.items()
    }
    refuse_overwrite(list(targets.values()), overwrite, "XML files", target_dir)
    masks = 0
    for image_id, record in dataset.images.items():
        objects = dataset.objects_in(image_id)
        masks += sum(o.mask is not None for o in objects)
        xml = voc_xml(dataset, record, objects)
        atomic_write_bytes(targets[image_id], xml)
    return [f"{masks} masks were left out (VOC XML stores boxes only)"] if masks else []


def voc_xml(dataset: Dataset, record: ImageRecord, objects: list[Annotation]) -> bytes:
    root = ET.Element("annotation")
    _sub(root, "folder", Path(record.file_name).parent.as_posix())
    _sub(root, "filename", Path(record.file_name).name)
    size = ET.SubElement(root, "size")
    for key, value in (("width", record.width), ("height", record.height), ("depth", 3)):
        _sub(size, key, str(value))
    _sub(root, "segmented", "0")
    for obj in objects:
        element = ET.SubElement(root, "object")
        _sub(element, "name", dataset.categories[obj.category_id].name)
        extra = obj.extra or {}
        for key in KEPT_FIELDS:
            if key in extra or key in ("truncated", "difficult"):
                _sub(element, key, str(extra.get(key, 0)))
        box = ET.SubElement(element, "bndbox")
        x1, y1, x2, y2 = obj.box
        for key, value in (("xmin", x1 + 1), ("ymin", y1 + 1), ("xmax", x2), ("ymax", y2)):
            _sub(box, key, _format(value))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=False) + b"\n"


def _sub(parent: ET.Element, tag: str, text: str) -> None:
    ET.SubElement(parent, tag).text = text


def _format(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
