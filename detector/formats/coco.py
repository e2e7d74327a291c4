"""COCO JSON import and export.

Import accepts what real exporters write: category ids from 0, sparse or unsorted; bbox
``[x, y, w, h]`` in pixels; segmentation as polygons, compressed RLE (``counts`` str) or
uncompressed RLE (``counts`` list, crowd regions); empty ``segmentation`` lists; images
with no annotations. Fields DetScope does not use (``info``, ``licenses``, ``attributes``,
extra keys on images/categories/annotations) are kept and written back. Problems in the
data are flagged in ``dataset.issues`` (see :mod:`detector.validation`), not fatal.

Export writes bbox ``[x, y, w, h]``, ``area`` from the mask when there is one (pycocotools'
rasterised area) else from the box, the dataset's (unique, stable) ids and category ids,
oriented image width/height, masks as stored: polygons for human-drawn masks, compressed
RLE for model masks (see :func:`rle_from_binary_mask`). Unaccepted predictions are not
written. Objects with ``source="model"`` carry ``"source": "model"`` and their ``score``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from detector.dataset import Annotation, Category, Dataset, ImageRecord, palette_color
from detector.errors import AnnotationError
from detector.formats._common import image_size_or_none, relative_name
from detector.validation import Issue, box_issues, is_number, parse_json, read_bytes

IMAGE_KEYS = frozenset({"id", "file_name", "width", "height", "verified"})
CATEGORY_KEYS = frozenset({"id", "name", "color"})
ANNOTATION_KEYS = frozenset(
    {"id", "image_id", "category_id", "bbox", "segmentation", "area", "iscrowd", "score", "source"}
)


# --------------------------------------------------------------------------- import
def load_coco(path: str | os.PathLike, *, image_root: str | os.PathLike | None = None) -> Dataset:
    """Read a COCO JSON file; ``image_root`` (default: the file's folder) resolves file names."""
    file = Path(path)
    doc = parse_json(read_bytes(file), file=file)
    root = file.parent if image_root is None else Path(image_root)
    dataset = from_coco_dict(doc, image_root=root, file=file)
    dataset.annotation_path = file
    from detector.dataset_store import fingerprint

    dataset.file_state = fingerprint(file)
    return dataset


def from_coco_dict(
    doc: Any, *, image_root: str | os.PathLike = ".", file: str | os.PathLike | None = None
) -> Dataset:
    """Build a Dataset from a parsed COCO document (not modified)."""
    if not isinstance(doc, dict):
        raise AnnotationError(
            f"not a COCO file: the top level is a {type(doc).__name__}, "
            "expected an object with 'images'",
            file=file,
        )
    if "shapes" in doc and "images" not in doc:
        raise AnnotationError("this is a LabelMe file, not COCO; use --from labelme", file=file)
    if not isinstance(doc.get("images"), list):
        raise AnnotationError("not a COCO file: no 'images' list", file=file)
    for key in ("annotations", "categories"):
        if not isinstance(doc.get(key, []), list):
            raise AnnotationError(f"'{key}' must be a list", file=file)
    reader = _Reader(Dataset(root=Path(image_root)), None if file is None else str(file))
    reader.dataset.extra = {
        k: v for k, v in doc.items() if k not in ("images", "annotations", "categories")
    }
    reader.read_images(doc["images"])
    reader.read_categories(doc.get("categories", []))
    reader.read_annotations(doc.get("annotations", []))
    reader.dataset.issues += box_issues(reader.dataset, reader.file)
    return reader.dataset


class _Reader:
    def __init__(self, dataset: Dataset, file: str | None) -> None:
        self.dataset = dataset
        self.file = file

    def flag(
        self,
        kind: str,
        message: str,
        location: str,
        severity: str = "warning",
        image_id: int | None = None,
        object_id: int | None = None,
    ) -> None:
        self.dataset.issues.append(
            Issue(kind, message, self.file, location, severity, image_id, object_id)
        )

    def fail(self, message: str, location: str) -> AnnotationError:
        return AnnotationError(message, file=self.file, location=location)

    def read_images(self, images: list) -> None:
        root = self.dataset.root
        for index, item in enumerate(images):
            where = f"images[{index}]"
            if not isinstance(item, dict):
                raise self.fail("an image entry must be an object", where)
            image_id, file_name = item.get("id"), item.get("file_name")
            if not isinstance(image_id, int) or isinstance(image_id, bool):
                raise self.fail(f"image 'id' must be an integer, got {image_id!r}", where)
            if not isinstance(file_name, str) or not file_name:
                raise self.fail(f"image {image_id}: 'file_name' must be a non-empty string", where)
            if image_id in self.dataset.images:
                raise self.fail(
                    f"duplicate image id {image_id} (also "
                    f"{self.dataset.images[image_id].file_name!r})",
                    where,
                )
            name = relative_name(file_name, root)
            width, height = item.get("width"), item.get("height")
            if not _positive_int(width) or not _positive_int(height):
                width, height = self._size_from_file(root / name, where, image_id)
            extra = {k: v for k, v in item.items() if k not in IMAGE_KEYS} or None
            self.dataset.add_image_record(
                ImageRecord(
                    image_id,
                    name,
                    int(width),
                    int(height),
                    bool(item.get("verified", False)),
                    extra,
                )
            )

    def _size_from_file(self, path: Path, where: str, image_id: int) -> tuple[int, int]:
        size = image_size_or_none(path)
        if size is None:
            self.flag(
                "unknown_size",
                f"no width/height and {path} cannot be read",
                where,
                "error",
                image_id,
            )
            return 0, 0
        return size

    def read_categories(self, categories: list) -> None:
        for index, item in enumerate(categories):
            where = f"categories[{index}]"
            if not isinstance(item, dict):
                raise self.fail("a category entry must be an object", where)
            category_id, name = item.get("id"), item.get("name")
            if not isinstance(category_id, int) or isinstance(category_id, bool):
                raise self.fail(f"category 'id' must be an integer, got {category_id!r}", where)
            if not isinstance(name, str):
                name = str(name)
                self.flag("bad_category", f"category {category_id}: name is not a string", where)
            old = self.dataset.categories.get(category_id)
            if old is not None:
                if old.name != name:
                    raise self.fail(
                        f"duplicate category id {category_id} ({old.name!r} and {name!r})", where
                    )
                self.flag("duplicate_id", f"category {category_id} listed twice", where)
                continue
            color = item.get("color")
            if not (isinstance(color, str) and color.startswith("#")):
                color = palette_color(len(self.dataset.categories))
            extra = {k: v for k, v in item.items() if k not in CATEGORY_KEYS} or None
            self.dataset.categories[category_id] = Category(category_id, name, color, extra)

    def read_annotations(self, annotations: list) -> None:
        dataset = self.dataset
        seen: set[int] = set()
        needs_id: list[tuple[int, Annotation]] = []
        for index, item in enumerate(annotations):
            annotation = self._annotation(index, item)
            if annotation is None:
                dataset.orphans.append(item)
                orphan_id = item.get("id")
                if isinstance(orphan_id, int):
                    dataset.reserve_id(orphan_id)  # new ids never collide with kept orphans
                continue
            if not _is_int(annotation.id) or annotation.id in seen:
                needs_id.append((index, annotation))
                continue
            seen.add(annotation.id)
            dataset.add_object_record(annotation)
        for index, annotation in needs_id:  # duplicate or missing ids: new ids after the others
            new_id = dataset.new_object_id()
            self.flag(
                "duplicate_id",
                f"annotation id {annotation.id!r} missing or duplicate; now {new_id}",
                f"annotations[{index}]",
                "warning",
                annotation.image_id,
                new_id,
            )
            dataset.add_object_record(_replace_id(annotation, new_id))

    def _annotation(self, index: int, item: Any) -> Annotation | None:
        where = f"annotations[{index}]"
        if not isinstance(item, dict):
            raise self.fail("an annotation entry must be an object", where)
        image_id = item.get("image_id")
        if not _is_int(image_id) or image_id not in self.dataset.images:
            self.flag(
                "orphan", f"no image with id {image_id!r}; annotation kept aside", where, "error"
            )
            return None
        mask = self._mask(item.get("segmentation"), where)
        box = self._box(item, mask, where)
        if box is None:
            return None
        category_id = self._category_id(item.get("category_id"), where)
        source = item.get("source")
        score = item.get("score")
        extra = {k: v for k, v in item.items() if k not in ANNOTATION_KEYS} or None
        if source not in ("human", "model"):
            if source is not None:
                extra = {**(extra or {}), "source": source}
            source = "model" if score is not None else "human"
        if "segmentation" in item and mask is None and item["segmentation"] not in ([], None):
            extra = {**(extra or {}), "segmentation": item["segmentation"]}  # unusable, kept
        return Annotation(
            item.get("id"),
            image_id,
            category_id,
            box,
            mask,
            bool(item.get("iscrowd", 0)),
            source,
            float(score) if is_number(score) else None,
            extra,
        )

    def _box(self, item: dict, mask: Any, where: str) -> tuple[float, float, float, float] | None:
        bbox = item.get("bbox")
        if isinstance(bbox, list) and len(bbox) == 4 and all(is_number(v) for v in bbox):
            x, y, w, h = bbox
            return (float(x), float(y), float(x + w), float(y + h))
        if mask is not None:
            box = bbox_from_mask(mask, self.dataset.images[item["image_id"]])
            if box is not None:
                self.flag(
                    "box_from_mask", "no usable 'bbox'; computed from the segmentation", where
                )
                return box
        self.flag(
            "bad_box",
            f"'bbox' must be 4 finite numbers, got {bbox!r}; annotation kept aside",
            where,
            "error",
            item.get("image_id"),
        )
        return None

    def _mask(self, segmentation: Any, where: str) -> Any:
        if segmentation is None or segmentation == []:
            return None
        if isinstance(segmentation, list):
            if all(
                isinstance(p, list)
                and len(p) >= 6
                and len(p) % 2 == 0
                and all(is_number(v) for v in p)
                for p in segmentation
            ):
                return segmentation
        elif isinstance(segmentation, dict) and _valid_rle(segmentation):
            return segmentation
        self.flag("bad_mask", "segmentation is neither polygons nor RLE; kept as is, unused", where)
        return None

    def _category_id(self, category_id: Any, where: str) -> int:
        if not isinstance(category_id, int) or isinstance(category_id, bool):
            category_id = -1
        elif category_id in self.dataset.categories:
            return category_id
        if category_id not in self.dataset.categories:
            name = f"unknown-{category_id}"
            self.dataset.categories[category_id] = Category(
                category_id, name, palette_color(len(self.dataset.categories))
            )
            self.flag(
                "unknown_category",
                f"category id {category_id} is not in 'categories'; added as {name!r}",
                where,
                "error",
            )
        return category_id


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_int(value: Any) -> bool:
    return is_number(value) and value > 0 and float(value).is_integer()


def _valid_rle(rle: dict) -> bool:
    """Size is [h, w] and the run lengths are non-negative and cover exactly h * w pixels."""
    size, counts = rle.get("size"), rle.get("counts")
    if not (isinstance(size, list) and len(size) == 2 and all(_positive_int(v) for v in size)):
        return False
    if isinstance(counts, str):
        counts = decode_rle_counts(counts)
    elif not (isinstance(counts, list) and all(_is_int(c) for c in counts)):
        return False
    return counts is not None and all(c >= 0 for c in counts) and sum(counts) == size[0] * size[1]


def decode_rle_counts(text: str) -> list[int] | None:
    """Run lengths of a compressed COCO RLE string (pycocotools' rleFrString), None if malformed."""
    counts: list[int] = []
    position = 0
    while position < len(text):
        value, shift, more = 0, 0, True
        while more:
            if position >= len(text):
                return None
            char = ord(text[position]) - 48
            if not 0 <= char < 64:
                return None
            value |= (char & 0x1F) << shift
            more = bool(char & 0x20)
            position += 1
            shift += 5
            if not more and char & 0x10:
                value |= -1 << shift
        if len(counts) > 2:
            value += counts[-2]
        counts.append(value)
    return counts


def _replace_id(annotation: Annotation, new_id: int) -> Annotation:
    from dataclasses import replace

    return replace(annotation, id=new_id)


# --------------------------------------------------------------------------- masks
def _to_rle(mask: Any, height: int, width: int) -> Any:
    from pycocotools import mask as mask_utils

    if isinstance(mask, list):
        return mask_utils.merge(mask_utils.frPyObjects(mask, height, width))
    if isinstance(mask.get("counts"), list):
        return mask_utils.frPyObjects(mask, *mask["size"])
    return {"size": mask["size"], "counts": mask["counts"].encode("ascii")}


def mask_area(mask: Any, image: ImageRecord) -> float:
    """Pixel area of a polygon list or RLE mask (pycocotools' rasterisation)."""
    from pycocotools import mask as mask_utils

    height, width = _mask_frame(mask, image)
    return float(mask_utils.area(_to_rle(mask, height, width)))


def bbox_from_mask(mask: Any, image: ImageRecord) -> tuple[float, float, float, float] | None:
    from pycocotools import mask as mask_utils

    height, width = _mask_frame(mask, image)
    if height <= 0 or width <= 0:
        return None
    x, y, w, h = (float(v) for v in mask_utils.toBbox(_to_rle(mask, height, width)))
    return None if w <= 0 or h <= 0 else (x, y, x + w, y + h)


def _mask_frame(mask: Any, image: ImageRecord) -> tuple[int, int]:
    if isinstance(mask, dict):
        return int(mask["size"][0]), int(mask["size"][1])
    return max(image.height, 1), max(image.width, 1)


def rle_from_binary_mask(mask: Any) -> dict:
    """A binary H x W numpy mask as compressed COCO RLE (how model masks are stored)."""
    from detector.detections import encode_mask_rle

    return encode_mask_rle(mask)


# --------------------------------------------------------------------------- export
def to_coco_dict(dataset: Dataset) -> dict[str, Any]:
    """The dataset as a COCO document (ground truth only; predictions are not included)."""
    images = [_image_dict(r) for r in dataset.images.values()]
    categories = [_category_dict(c) for c in dataset.categories.values()]
    annotations = [_annotation_dict(a, dataset.images[a.image_id]) for a in dataset.iter_objects()]
    return {
        **dataset.extra,
        "images": images,
        "annotations": annotations + dataset.orphans,
        "categories": categories,
    }


def save_coco(dataset: Dataset, path: str | os.PathLike, *, backup: bool = True) -> Path:
    """Write ``to_coco_dict(dataset)`` atomically (no overwrite checks; see Dataset.save)."""
    from detector.fileio import atomic_write_bytes

    return atomic_write_bytes(path, coco_bytes(dataset), backup=backup)


def coco_bytes(dataset: Dataset) -> bytes:
    return json.dumps(to_coco_dict(dataset), ensure_ascii=False).encode("utf-8")


def _image_dict(record: ImageRecord) -> dict[str, Any]:
    out = {
        "id": record.id,
        "file_name": record.file_name,
        "width": record.width,
        "height": record.height,
        **(record.extra or {}),
    }
    if record.verified:
        out["verified"] = True
    return out


def _category_dict(category: Category) -> dict[str, Any]:
    return {
        "id": category.id,
        "name": category.name,
        **(category.extra or {}),
        "color": category.color,
    }


def _annotation_dict(obj: Annotation, image: ImageRecord) -> dict[str, Any]:
    x1, y1, x2, y2 = obj.box
    out: dict[str, Any] = {
        "id": obj.id,
        "image_id": obj.image_id,
        "category_id": obj.category_id,
        "bbox": [x1, y1, x2 - x1, y2 - y1],
    }
    if obj.mask is not None:
        out["segmentation"] = obj.mask
        out["area"] = mask_area(obj.mask, image)
    else:
        out["segmentation"] = []
        out["area"] = max(x2 - x1, 0.0) * max(y2 - y1, 0.0)
    out["iscrowd"] = int(obj.iscrowd)
    if obj.extra:
        out.update(obj.extra)
    if obj.source != "human":
        out["source"] = obj.source
    if obj.score is not None:
        out["score"] = obj.score
    return out
