"""Reading COCO documents: every field type- and bound-checked before NumPy or pycocotools.

Problems in usable data are flagged as issues (see :mod:`detector.data.issues`); problems
that make a file unusable raise AnnotationError with the file and the location. The bounds
are those of :mod:`detector.io.limits`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from detector.data.dataset import Annotation, Category, Dataset, ImageRecord, make_annotation
from detector.data.issues import Issue, Severity
from detector.data.masks import _valid_rle, bbox_from_mask, polygons_fit
from detector.data.palette import palette_color
from detector.errors import AnnotationError
from detector.formats._common import image_size_or_none, relative_name
from detector.io.documents import is_number
from detector.io.limits import (
    MAX_NESTING,
    MAX_NUMBER,
    MAX_POLYGON_PERIMETER,
    coordinate_bounds,
    name_problem,
    nesting_depth_exceeds,
    valid_image_size,
)

IMAGE_KEYS = frozenset({"id", "file_name", "width", "height", "verified"})
CATEGORY_KEYS = frozenset({"id", "name", "color"})
ANNOTATION_KEYS = frozenset(
    {"id", "image_id", "category_id", "bbox", "segmentation", "area", "iscrowd", "score", "source"}
)
PLAIN_KEYS = ANNOTATION_KEYS - {"score", "source"}  # see Reader.read_annotations


class Reader:
    def __init__(self, dataset: Dataset, file: str | None) -> None:
        self.dataset = dataset
        self.file = file
        self.bounds: dict[int, tuple[float, ...]] = {}

    def flag(
        self,
        kind: str,
        message: str,
        location: str,
        severity: Severity = "warning",
        image_id: int | None = None,
        object_id: int | None = None,
    ) -> None:
        self.dataset.issues.append(
            Issue(
                kind=kind,
                message=message,
                file=self.file,
                location=location,
                severity=severity,
                image_id=image_id,
                object_id=object_id,
            )
        )

    def fail(self, message: str, location: str) -> AnnotationError:
        return AnnotationError(message, file=self.file, location=location)

    def check_kept(self, value: Any, where: str) -> None:
        """Values kept as they are must nest at most MAX_NESTING deep (saves recurse)."""
        if value and nesting_depth_exceeds(value):
            raise self.fail(f"a kept value nests more than {MAX_NESTING} levels deep", where)

    def read_images(self, images: list) -> None:
        root = self.dataset.root
        for index, item in enumerate(images):
            where = f"images[{index}]"
            if not isinstance(item, dict):
                raise self.fail("an image entry must be an object", where)
            image_id, file_name = item.get("id"), item.get("file_name")
            if not _is_id(image_id):
                raise self.fail(
                    f"image 'id' must be a 64-bit integer, got {_short(image_id)}", where
                )
            if not isinstance(file_name, str) or not file_name:
                raise self.fail(f"image {image_id}: 'file_name' must be a non-empty string", where)
            problem = name_problem(file_name)
            if problem:
                raise self.fail(f"image {image_id}: 'file_name' {problem}", where)
            if image_id in self.dataset.images:
                raise self.fail(
                    f"duplicate image id {image_id} (also "
                    f"{self.dataset.images[image_id].file_name!r})",
                    where,
                )
            name = relative_name(file_name, root)
            width, height = item.get("width"), item.get("height")
            if not valid_image_size(width, height):
                self._flag_declared_size(width, height, where, image_id)
                width, height = self._size_from_file(root / name, where, image_id)
            extra = {k: v for k, v in item.items() if k not in IMAGE_KEYS} or None
            self.check_kept(extra, where)
            self.dataset.add_image_record(
                ImageRecord(
                    id=image_id,
                    file_name=name,
                    width=int(width),
                    height=int(height),
                    verified=bool(item.get("verified", False)),
                    extra=extra,
                )
            )

    def _flag_declared_size(self, width: Any, height: Any, where: str, image_id: int) -> None:
        if width is None and height is None:
            return  # not declared: read from the image file, as always
        self.flag(
            "bad_size",
            f"declared size {_short(width)} x {_short(height)} is not two whole numbers "
            "within the pixel budget; the size is read from the image file instead",
            where,
            "warning",
            image_id,
        )

    def _size_from_file(self, path: Path, where: str, image_id: int) -> tuple[int, int]:
        size = image_size_or_none(path)
        if size is not None and not valid_image_size(*size):
            self.flag("bad_size", f"{path} is beyond the pixel budget", where, "error", image_id)
            return 0, 0
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
            if not _is_id(category_id):
                raise self.fail(
                    f"category 'id' must be a 64-bit integer, got {_short(category_id)}", where
                )
            if not isinstance(name, str):
                self.check_kept(name, where)
                name = _short(name)
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
            self.check_kept(extra, where)
            self.dataset.categories[category_id] = Category(category_id, name, color, extra)

    def read_annotations(self, annotations: list) -> None:
        """Plain entries (only PLAIN_KEYS, no segmentation, an image whose bounds are known
        and a category that exist, a box of 4 numbers inside those bounds) are built right
        here: the same record :meth:`_annotation` makes of them, ~1 us sooner each (10^6
        entries); every other entry goes through its checks."""
        dataset = self.dataset
        categories, bounds_of, add = dataset.categories, self.bounds, dataset.add_object_record
        seen: set[int] = set()
        needs_id: list[tuple[int, Annotation]] = []
        for index, item in enumerate(annotations):
            annotation = None
            if type(item) is dict and item.keys() <= PLAIN_KEYS and not item.get("segmentation"):
                image_id, category_id = item.get("image_id"), item.get("category_id")
                bounds = bounds_of.get(image_id) if type(image_id) is int else None
                box = None
                if bounds is not None and type(category_id) is int and category_id in categories:
                    box = _fast_box(item.get("bbox"))
                if box is not None and _within(box, bounds):
                    iscrowd = item.get("iscrowd", 0)
                    crowd = iscrowd is True or iscrowd == 1
                    annotation = make_annotation(
                        item.get("id"), image_id, category_id, box, None, crowd, "human", None, None
                    )
            if annotation is None:
                annotation = self._annotation(index, item)
                if annotation is None:
                    self._keep_orphan(index, item)
                    continue
            object_id = annotation.id
            if (
                type(object_id) is not int
                or not _ID_LOW <= object_id < _ID_HIGH
                or object_id in seen
            ):
                needs_id.append((index, annotation))
                continue
            seen.add(object_id)
            add(annotation)
        for index, annotation in needs_id:  # duplicate or missing ids: new ids after the others
            new_id = dataset.new_object_id()
            self.flag(
                "duplicate_id",
                f"annotation id {_short(annotation.id)} missing or duplicate; now {new_id}",
                f"annotations[{index}]",
                "warning",
                annotation.image_id,
                new_id,
            )
            dataset.add_object_record(_replace_id(annotation, new_id))

    def _keep_orphan(self, index: int, item: Any) -> None:
        """An annotation that cannot be used: kept aside as read (written back), its id
        reserved."""
        self.check_kept(item, f"annotations[{index}]")
        self.dataset.orphans.append(item)
        orphan_id = item.get("id")
        if _is_id(orphan_id):
            self.dataset.reserve_id(orphan_id)  # new ids never collide with kept orphans

    def _annotation(self, index: int, item: Any) -> Annotation | None:
        """One annotation, or None (flagged) when it cannot be used. Hot loop: kept lean."""
        if not isinstance(item, dict):
            raise self.fail("an annotation entry must be an object", f"annotations[{index}]")
        image_id = item.get("image_id")
        if type(image_id) is not int or image_id not in self.dataset.images:
            self.flag(
                "orphan",
                f"no image with id {_short(image_id)}; annotation kept aside",
                f"annotations[{index}]",
                "error",
            )
            return None
        image = self.dataset.images[image_id]
        bounds = self.bounds.get(image_id) or self._bounds(image)
        segmentation = item.get("segmentation")
        if not segmentation:
            mask = None
        elif _one_small_polygon(segmentation, bounds) or (
            type(segmentation) is list and polygons_fit(segmentation, image.width, image.height)
        ):
            mask = segmentation
        else:
            mask = self._mask(segmentation, index)
        box = _fast_box(item.get("bbox")) or self._box_fallback(item, mask, index)
        if box is None:
            return None
        if not _within(box, bounds):
            box = self._clip_far_box(box, bounds, image, index)
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
        if extra:
            self.check_kept(extra, f"annotations[{index}]")
        if score is not None:
            score = float(score) if is_number(score) else None
        iscrowd = item.get("iscrowd", 0)
        return make_annotation(  # Annotation(...), positional, at half the cost
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

    def _bounds(self, image: ImageRecord) -> tuple[float, ...]:
        """Per image: coordinate_bounds, then (low, high) over both axes (polygon check)."""
        x_min, y_min, x_max, y_max = coordinate_bounds(image.width, image.height)
        bounds = (x_min, y_min, x_max, y_max, min(x_min, y_min), max(x_max, y_max))
        self.bounds[image.id] = bounds
        return bounds

    def _clip_far_box(self, box: tuple, bounds: tuple, image: ImageRecord, index: int) -> tuple:
        """``box`` clipped to the image plus its margin, flagged."""
        x_min, y_min, x_max, y_max = bounds[:4]
        x1, y1, x2, y2 = box
        clipped = (
            min(max(x1, x_min), x_max),
            min(max(y1, y_min), y_max),
            min(max(x2, x_min), x_max),
            min(max(y2, y_min), y_max),
        )
        self.flag(
            "box_clipped",
            f"box {_short(list(box))} lies far outside the image; clipped to the image "
            "plus one image side",
            f"annotations[{index}]",
            "warning",
            image.id,
        )
        return clipped

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
            f"'bbox' must be 4 finite numbers, got {_short(item.get('bbox'))}; "
            "annotation kept aside",
            where,
            "error",
            item.get("image_id"),
        )
        return None

    def _mask(self, segmentation: Any, index: int) -> Any:
        if isinstance(segmentation, list):
            pass  # polygons that do not fit (checked by the caller)
        elif isinstance(segmentation, dict) and _valid_rle(segmentation):
            return segmentation
        self.flag(
            "bad_mask",
            "segmentation is not polygons or RLE within the image's bounds; kept as is, unused",
            f"annotations[{index}]",
        )
        return None

    def _unknown_category(self, category_id: Any, index: int) -> int:
        if not _is_id(category_id):
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


def _one_small_polygon(segmentation: Any, bounds: tuple) -> bool:
    """The common case, inline-fast: one polygon inside the bounds, short enough to skip
    the exact perimeter check (the rest go through :func:`polygons_fit`)."""
    if type(segmentation) is not list or len(segmentation) != 1:
        return False
    polygon = segmentation[0]
    if type(polygon) is not list or len(polygon) < 6 or len(polygon) % 2:
        return False
    low, high = bounds[4], bounds[5]
    try:
        inside = low <= min(polygon) and max(polygon) <= high
        total = sum(polygon)  # nan/inf propagate (min/max may skip a nan)
    except (TypeError, OverflowError):
        return False
    return (
        inside
        and low * len(polygon) <= total <= high * len(polygon)
        and len(polygon) // 2 * (high - low) <= MAX_POLYGON_PERIMETER
    )


def _fast_box(bbox: Any) -> tuple[float, float, float, float] | None:
    """COCO ``[x, y, w, h]`` as xyxy floats, or None unless it is 4 numbers within MAX_NUMBER."""
    if type(bbox) is not list or len(bbox) != 4:
        return None
    try:  # TypeError: not numbers; OverflowError: a float plus an int past 1e308
        if not (
            -MAX_NUMBER <= min(bbox)
            and max(bbox) <= MAX_NUMBER
            and -4 * MAX_NUMBER <= sum(bbox) <= 4 * MAX_NUMBER  # nan fails here
        ):
            return None
    except (TypeError, OverflowError):
        return None
    x, y, w, h = bbox
    return (float(x), float(y), float(x + w), float(y + h))


def _within(box: tuple[float, ...], bounds: tuple[float, ...]) -> bool:
    """``box`` (xyxy) inside ``bounds`` (x_low, y_low, x_high, y_high), edges included."""
    return (
        bounds[0] <= box[0] <= bounds[2]
        and bounds[0] <= box[2] <= bounds[2]
        and bounds[1] <= box[1] <= bounds[3]
        and bounds[1] <= box[3] <= bounds[3]
    )


_ID_LOW, _ID_HIGH = -(2**63), 2**63


def _is_id(value: Any) -> bool:
    """An int (not bool) that fits int64, as NumPy and pycocotools store ids."""
    return type(value) is int and _ID_LOW <= value < _ID_HIGH


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters (never str() of a 5,000-digit int)."""
    if type(value) is int and not -(10**limit) < value < 10**limit:
        return f"<integer with more than {limit} digits>"
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        return f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_int(value: Any) -> bool:
    return is_number(value) and value > 0 and float(value).is_integer()


def _replace_id(annotation: Annotation, new_id: int) -> Annotation:
    from dataclasses import replace

    return replace(annotation, id=new_id)
