"""COCO JSON import and export.

Import accepts what real exporters write: category ids from 0, sparse or unsorted; bbox
``[x, y, w, h]`` in pixels; segmentation as polygons, compressed RLE (``counts`` str) or
uncompressed RLE (``counts`` list, crowd regions); empty ``segmentation`` lists; images
with no annotations. Fields DetScope does not use (``info``, ``licenses``, ``attributes``,
extra keys on images/categories/annotations) are kept and written back. Problems in the
data are flagged in ``dataset.issues`` (see :mod:`detector.data.issues`), not fatal.

Export writes bbox ``[x, y, w, h]``, ``area`` from the mask when there is one (pycocotools'
rasterised area) else from the box, the dataset's (unique, stable) ids and category ids,
oriented image width/height, masks as stored: polygons for human-drawn masks, compressed
RLE for model masks (see :func:`rle_from_binary_mask`). Unaccepted predictions are not
written. Objects with ``source="model"`` carry ``"source": "model"`` and their ``score``.
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from detector.data.dataset import Annotation, Category, Dataset, ImageRecord, palette_color
from detector.data.issues import Issue, box_issues
from detector.data.masks import _valid_polygon, _valid_rle, bbox_from_mask, image_areas
from detector.data.masks import decode_rle_counts as decode_rle_counts  # re-exported
from detector.data.masks import mask_area as mask_area  # re-exported
from detector.data.masks import rle_from_binary_mask as rle_from_binary_mask  # re-exported
from detector.errors import AnnotationError
from detector.formats._common import image_size_or_none, relative_name
from detector.io.documents import is_number, parse_json, read_bytes

IMAGE_KEYS = frozenset({"id", "file_name", "width", "height", "verified"})
CATEGORY_KEYS = frozenset({"id", "name", "color"})
ANNOTATION_KEYS = frozenset(
    {"id", "image_id", "category_id", "bbox", "segmentation", "area", "iscrowd", "score", "source"}
)


# --------------------------------------------------------------------------- import
def load_coco(path: str | os.PathLike, *, image_root: str | os.PathLike | None = None) -> Dataset:
    """Read a COCO JSON file; ``image_root`` (default: the file's folder) resolves file names."""
    from detector.io.files import state_of

    file = Path(path)
    try:
        stat_before = file.stat()  # before reading: a change during the read is noticed later
    except OSError:
        stat_before = None
    data = read_bytes(file)
    root = file.parent if image_root is None else Path(image_root)
    with paused_gc():
        doc = parse_json(data, file=file)
        dataset = from_coco_dict(doc, image_root=root, file=file)
    dataset.annotation_path = file
    dataset.file_state = state_of(file, stat_before, data)
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
            if type(annotation.id) is not int or annotation.id in seen:
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
        """One annotation, or None (flagged) when it cannot be used. Hot loop: kept lean."""
        if not isinstance(item, dict):
            raise self.fail("an annotation entry must be an object", f"annotations[{index}]")
        image_id = item.get("image_id")
        if type(image_id) is not int or image_id not in self.dataset.images:
            self.flag(
                "orphan",
                f"no image with id {image_id!r}; annotation kept aside",
                f"annotations[{index}]",
                "error",
            )
            return None
        segmentation = item.get("segmentation")
        if not segmentation:
            mask = None
        elif (
            type(segmentation) is list
            and len(segmentation) == 1
            and _valid_polygon(segmentation[0])
        ):
            mask = segmentation  # the common case, checked inline
        else:
            mask = self._mask(segmentation, index)
        box = _fast_box(item.get("bbox")) or self._box_fallback(item, mask, index)
        if box is None:
            return None
        category_id = item.get("category_id")
        if type(category_id) is not int or category_id not in self.dataset.categories:
            category_id = self._unknown_category(category_id, index)
        score = item.get("score")
        extra = None
        if not item.keys() <= ANNOTATION_KEYS:
            extra = {k: v for k, v in item.items() if k not in ANNOTATION_KEYS}
        source = item.get("source")
        if source != "human" and source != "model":
            if source is not None:
                extra = {**(extra or {}), "source": source}
            source = "human" if score is None else "model"
        if mask is None and segmentation:
            extra = {**(extra or {}), "segmentation": segmentation}  # unusable, kept
        if score is not None:
            score = float(score) if is_number(score) else None
        iscrowd = item.get("iscrowd", 0)
        return Annotation(
            item.get("id"),
            image_id,
            category_id,
            box,
            mask,
            iscrowd is True or iscrowd == 1,
            source,
            score,
            extra,
        )

    def _box_fallback(self, item: dict, mask: Any, index: int) -> tuple | None:
        where = f"annotations[{index}]"
        if mask is not None:
            box = bbox_from_mask(mask, self.dataset.images[item["image_id"]])
            if box is not None:
                self.flag(
                    "box_from_mask", "no usable 'bbox'; computed from the segmentation", where
                )
                return box
        self.flag(
            "bad_box",
            f"'bbox' must be 4 finite numbers, got {item.get('bbox')!r}; annotation kept aside",
            where,
            "error",
            item.get("image_id"),
        )
        return None

    def _mask(self, segmentation: Any, index: int) -> Any:
        if isinstance(segmentation, list):
            if all(_valid_polygon(p) for p in segmentation):
                return segmentation
        elif isinstance(segmentation, dict) and _valid_rle(segmentation):
            return segmentation
        self.flag(
            "bad_mask",
            "segmentation is neither polygons nor RLE; kept as is, unused",
            f"annotations[{index}]",
        )
        return None

    def _unknown_category(self, category_id: Any, index: int) -> int:
        if not _is_int(category_id):
            category_id = -1
        if category_id not in self.dataset.categories:
            name = f"unknown-{category_id}"
            self.dataset.categories[category_id] = Category(
                category_id, name, palette_color(len(self.dataset.categories))
            )
            self.flag(
                "unknown_category",
                f"category id {category_id} is not in 'categories'; added as {name!r}",
                f"annotations[{index}]",
                "error",
            )
        return category_id


def _fast_box(bbox: Any) -> tuple[float, float, float, float] | None:
    """COCO ``[x, y, w, h]`` as xyxy floats, or None unless it is 4 finite numbers."""
    if type(bbox) is not list or len(bbox) != 4:
        return None
    try:
        if not math.isfinite(sum(bbox)):
            return None
    except TypeError:
        return None
    x, y, w, h = bbox
    box = (float(x), float(y), float(x + w), float(y + h))
    return box if math.isfinite(box[2] + box[3]) else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_int(value: Any) -> bool:
    return is_number(value) and value > 0 and float(value).is_integer()


def _replace_id(annotation: Annotation, new_id: int) -> Annotation:
    from dataclasses import replace

    return replace(annotation, id=new_id)


# --------------------------------------------------------------------------- export
def to_coco_dict(dataset: Dataset) -> dict[str, Any]:
    """The dataset as a COCO document (ground truth only; predictions are not included)."""
    images = [_image_dict(r) for r in dataset.images.values()]
    categories = [_category_dict(c) for c in dataset.categories.values()]
    annotations = []
    area_cache = dataset.derived.setdefault("coco_area", {})
    for image_id, image in dataset.images.items():
        objects = dataset.objects_in(image_id)
        if objects:
            areas = image_areas(objects, image, area_cache)
            annotations += [_annotation_dict(o, a) for o, a in zip(objects, areas, strict=True)]
    return {
        **dataset.extra,
        "images": images,
        "annotations": annotations + dataset.orphans,
        "categories": categories,
    }


def save_coco(dataset: Dataset, path: str | os.PathLike, *, backup: bool = True) -> Path:
    """Write ``to_coco_dict(dataset)`` atomically (no overwrite checks; see Dataset.save)."""
    from detector.io.files import atomic_write_bytes

    return atomic_write_bytes(path, coco_bytes(dataset), backup=backup)


def coco_bytes(dataset: Dataset) -> bytes:
    with paused_gc():
        doc = to_coco_dict(dataset)
        pieces = json_pieces(doc, release=("images", "annotations"))  # lists made for doc
        del doc
        return b"".join(piece.encode("utf-8") for piece in pieces)


def dumps_in_chunks(doc: dict[str, Any], chunk: int = 500) -> str:
    """``json.dumps(doc, ensure_ascii=False)``, character for character (see json_pieces)."""
    return "".join(json_pieces(doc, chunk))


def json_pieces(
    doc: dict[str, Any], chunk: int = 500, release: tuple[str, ...] = ()
) -> Iterator[str]:
    """``json.dumps(doc, ensure_ascii=False)`` in pieces: each list is encoded ``chunk``
    items at a time. The C encoder holds the GIL for one whole call (~8 s for 1,000,000
    annotations), and so do encoding one huge string and freeing a million dicts at once:
    a save in a worker thread would freeze the GUI thread; between pieces other threads
    run. The lists under the keys in ``release`` (owned by the caller, no one else's) get
    their encoded items replaced by None as it goes, so they are freed a chunk at a time."""
    if not all(type(key) is str for key in doc):
        yield json.dumps(doc, ensure_ascii=False)
        return
    for number, (key, value) in enumerate(doc.items()):
        yield ("{" if number == 0 else ", ") + json.dumps(key, ensure_ascii=False) + ": "
        if type(value) is list and len(value) > chunk:
            for start in range(0, len(value), chunk):
                text = json.dumps(value[start : start + chunk], ensure_ascii=False)
                if key in release:
                    value[start : start + chunk] = [None] * len(value[start : start + chunk])
                yield ("[" if start == 0 else ", ") + text[1:-1]
            yield "]"
        else:
            yield json.dumps(value, ensure_ascii=False)
    yield "}" if doc else "{}"


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic GC passes while building/serialising ~10^5 acyclic objects (~35% of a load)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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


def _annotation_dict(obj: Annotation, area: float) -> dict[str, Any]:
    x1, y1, x2, y2 = obj.box
    out: dict[str, Any] = {
        "id": obj.id,
        "image_id": obj.image_id,
        "category_id": obj.category_id,
        "bbox": [x1, y1, x2 - x1, y2 - y1],
    }
    out["segmentation"] = [] if obj.mask is None else obj.mask
    out["area"] = area
    out["iscrowd"] = int(obj.iscrowd)
    if obj.extra:
        out.update(obj.extra)
    if obj.source != "human":
        out["source"] = obj.source
    if obj.score is not None:
        out["score"] = obj.score
    return out
