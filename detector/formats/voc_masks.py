"""Pascal VOC segmentation PNGs: ``SegmentationObject`` and ``SegmentationClass``, both ways.

VOC stores masks as palette PNGs beside ``Annotations/``: in ``SegmentationObject/<stem>.png``
pixel value ``k`` (1-based) belongs to the image's ``k``-th ``<object>`` in XML order, in
``SegmentationClass/<stem>.png`` value ``c`` is a class; 0 is background and 255 the void
border the devkit ignores. Class values here are the category's position in id order + 1
(DetScope's VOC export writes categories in that order). Reading attaches each object's
pixels as an RLE mask; an image with only a class PNG gives each object the pixels of its
class inside its box (flagged: instances cannot be told apart from a class PNG).
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path, PurePosixPath

import numpy as np

from detector.data.dataset import Dataset, ImageRecord
from detector.data.issues import Issue
from detector.data.masks import encode_mask_rle
from detector.formats._masks import object_binary

OBJECT_DIR, CLASS_DIR = "SegmentationObject", "SegmentationClass"
VOID = 255


def segmentation_root(xml_dir: Path) -> Path:
    """Where the PNG folders live: beside ``Annotations/`` (the VOC layout), else inside."""
    return xml_dir.parent if xml_dir.name == "Annotations" else xml_dir


def voc_colormap(count: int = 256) -> list[int]:
    """The devkit's palette (bit-interleaved label colours), flat RGB for PIL's putpalette."""
    palette = []
    for label in range(count):
        r = g = b = 0
        value = label
        for shift in range(7, -1, -1):
            r |= (value & 1) << shift
            g |= ((value >> 1) & 1) << shift
            b |= ((value >> 2) & 1) << shift
            value >>= 3
        palette += [r, g, b]
    return palette


def _png_name(record: ImageRecord) -> str:
    return PurePosixPath(record.file_name.replace("\\", "/")).with_suffix(".png").name


def _palette_png(indices: np.ndarray) -> bytes:
    from PIL import Image

    image = Image.fromarray(indices.astype(np.uint8), mode="P")
    image.putpalette(voc_colormap())
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def save_voc_segmentation(dataset: Dataset, xml_dir: Path) -> int:
    """Write both PNGs for every image with a mask; returns how many images got PNGs."""
    from detector.io.files import atomic_write_bytes

    root = segmentation_root(xml_dir)
    class_value = {cid: index + 1 for index, cid in enumerate(sorted(dataset.categories))}
    written = 0
    for image_id, record in dataset.images.items():
        objects = dataset.objects_in(image_id)
        if not any(o.mask is not None for o in objects) or record.width <= 0:
            continue
        instances = np.zeros((record.height, record.width), np.uint8)
        classes = np.zeros_like(instances)
        for number, obj in enumerate(objects[:254], start=1):
            binary = object_binary(obj, record)
            if binary is not None:
                instances[binary] = number
                classes[binary] = min(class_value[obj.category_id], 254)
        atomic_write_bytes(root / OBJECT_DIR / _png_name(record), _palette_png(instances))
        atomic_write_bytes(root / CLASS_DIR / _png_name(record), _palette_png(classes))
        written += 1
    return written


def read_palette_png(path: Path) -> np.ndarray:
    """uint8[H, W] palette indices of a VOC PNG (not its colours)."""
    from PIL import Image

    with Image.open(path) as image:
        if image.mode not in ("P", "L"):
            raise ValueError(f"{path}: a VOC segmentation PNG is a palette image, got {image.mode}")
        return np.asarray(image, dtype=np.uint8)


def attach_voc_segmentation(dataset: Dataset, xml_dir: Path) -> None:
    """Give the objects of ``dataset`` (read from ``xml_dir``) their masks from the PNGs."""
    root = segmentation_root(xml_dir)
    if not (root / OBJECT_DIR).is_dir() and not (root / CLASS_DIR).is_dir():
        return
    category_of_value = {index + 1: cid for index, cid in enumerate(sorted(dataset.categories))}
    xml_objects = _xml_object_counts(xml_dir)
    for image_id, record in dataset.images.items():
        objects = dataset.objects_in(image_id)
        if xml_objects.get(image_id, len(objects)) != len(objects):
            dataset.issues.append(_misaligned_issue(record, xml_objects[image_id], len(objects)))
            continue
        for folder, attach in ((OBJECT_DIR, _by_instance), (CLASS_DIR, _by_class)):
            path = root / folder / _png_name(record)
            if objects and path.is_file():
                try:
                    values = read_palette_png(path)
                except (OSError, ValueError) as exc:
                    dataset.issues.append(
                        Issue(kind="bad_mask", message=str(exc), file=str(path), severity="error")
                    )
                    break
                if values.shape != (record.height, record.width):
                    dataset.issues.append(_size_issue(path, values, record))
                    break
                attach(dataset, objects, values, category_of_value, str(path))
                break


def _xml_object_counts(xml_dir: Path) -> dict[int, int]:
    """``<object>`` elements per image id (ids follow the sorted XML files, as load_voc does)."""
    import xml.etree.ElementTree as ET

    from detector.errors import DetScopeError
    from detector.io.documents import read_bytes

    counts = {}
    for image_id, xml_file in enumerate(sorted(xml_dir.glob("*.xml")), start=1):
        try:
            counts[image_id] = sum(1 for _ in ET.fromstring(read_bytes(xml_file)).iter("object"))
        except (ET.ParseError, OSError, DetScopeError):  # the reader reported this file
            continue
    return counts


def _misaligned_issue(record: ImageRecord, in_xml: int, read: int) -> Issue:
    message = (
        f"{in_xml - read} of {in_xml} <object>s were skipped, so PNG instance numbers cannot "
        "be matched to objects; masks not used"
    )
    return Issue(
        kind="bad_mask",
        message=message,
        file=record.file_name,
        location=OBJECT_DIR,
        severity="error",
        image_id=record.id,
    )


def _size_issue(path: Path, values: np.ndarray, record: ImageRecord) -> Issue:
    message = (
        f"PNG is {values.shape[1]} x {values.shape[0]}, the image {record.width} x "
        f"{record.height}; masks not used"
    )
    return Issue(
        kind="bad_mask", message=message, file=str(path), severity="error", image_id=record.id
    )


def _by_instance(dataset, objects, values, category_of_value, file) -> None:
    for number, obj in enumerate(objects, start=1):
        binary = values == number
        if binary.any():
            dataset.replace_object_record(replace(obj, mask=encode_mask_rle(binary)))


def _by_class(dataset, objects, values, category_of_value, file) -> None:
    for obj in objects:
        x1, y1, x2, y2 = (int(round(v)) for v in obj.box)
        inside = np.zeros(values.shape, bool)
        inside[max(y1, 0) : max(y2, 0), max(x1, 0) : max(x2, 0)] = True
        value = next((v for v, cid in category_of_value.items() if cid == obj.category_id), None)
        binary = inside & (values == value)
        if value is not None and binary.any():
            dataset.replace_object_record(replace(obj, mask=encode_mask_rle(binary)))
    dataset.issues.append(
        Issue(
            kind="class_mask_only",
            message="no SegmentationObject PNG: each object got its class's pixels inside its box",
            file=file,
            image_id=objects[0].image_id,
        )
    )
