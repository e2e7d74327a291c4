"""COCO masks: polygon/RLE validation, areas and boxes via pycocotools, model-mask encoding.

A mask is COCO polygons (a list of flat ``[x0, y0, x1, y1, ...]`` lists, 3+ points each) or
an RLE dict ``{"size": [h, w], "counts": str | list[int]}`` (compressed or uncompressed).
Masks are treated as immutable values: an edit swaps in a new list/dict, never mutates one.
"""

from __future__ import annotations

import math
from typing import Any

from detector.data.dataset import Annotation, ImageRecord


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_int(value: Any) -> bool:
    return _is_int(value) and value > 0


def _valid_polygon(polygon: Any) -> bool:
    """A flat list of 3+ (x, y) pairs of finite numbers (sum() is the fast type check here)."""
    if type(polygon) is not list or len(polygon) < 6 or len(polygon) % 2:
        return False
    try:
        total = sum(polygon)  # TypeError for str/None/list/dict items; nan/inf propagate
    except TypeError:
        return False
    return math.isfinite(total)


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


def _to_rle(mask: Any, height: int, width: int) -> Any:
    from pycocotools import mask as mask_utils

    if isinstance(mask, list):
        return mask_utils.merge(mask_utils.frPyObjects(mask, height, width))
    if isinstance(mask.get("counts"), list):
        return mask_utils.frPyObjects(mask, *mask["size"])
    return {"size": mask["size"], "counts": mask["counts"].encode("ascii")}


def coco_rle(mask: Any, height: int, width: int) -> dict:
    """The mask as pycocotools' compressed RLE (bytes counts), the way ``COCO.annToRLE``
    makes it: polygons rasterised at ``height`` x ``width`` and merged."""
    if isinstance(mask, dict) and isinstance(mask.get("counts"), bytes):
        return mask
    return _to_rle(mask, height, width)


def binary_mask(mask: Any, height: int, width: int) -> Any:
    """uint8[H, W] (1 inside) of polygons, uncompressed RLE, or compressed RLE (str or bytes).

    Polygons are rasterised at ``height`` x ``width``; an RLE has its own ``size``, which
    callers compare with their image to catch a mask made for another image.
    """
    import numpy as np
    from pycocotools import mask as mask_utils

    if isinstance(mask, dict) and isinstance(mask.get("counts"), bytes):
        rle = mask
    else:
        rle = _to_rle(mask, height, width)
    return mask_utils.decode(rle).astype(np.uint8)


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
    return encode_mask_rle(mask)


def fit_mask_to_box(mask: Any, old_box: tuple, new_box: tuple, image: ImageRecord) -> Any:
    """The mask moved and scaled the way its box went from ``old_box`` to ``new_box``.

    Moving or resizing a box in the editor must carry its mask along, or the saved mask and
    box disagree. Polygons are transformed exactly; RLE masks are decoded, warped with
    nearest-neighbour sampling and re-encoded. ``None`` stays ``None``.
    """
    if mask is None or tuple(old_box) == tuple(new_box):
        return mask
    old_w, old_h = max(old_box[2] - old_box[0], 1e-6), max(old_box[3] - old_box[1], 1e-6)
    scale_x = (new_box[2] - new_box[0]) / old_w
    scale_y = (new_box[3] - new_box[1]) / old_h
    shift_x = new_box[0] - old_box[0] * scale_x
    shift_y = new_box[1] - old_box[1] * scale_y
    if isinstance(mask, list):
        return [
            [
                round(v * scale_x + shift_x if i % 2 == 0 else v * scale_y + shift_y, 2)
                for i, v in enumerate(polygon)
            ]
            for polygon in mask
        ]
    import cv2
    import numpy as np
    from pycocotools import mask as mask_utils

    height, width = _mask_frame(mask, image)
    binary = mask_utils.decode(_to_rle(mask, height, width))
    # pixel i covers [i, i+1): map pixel centres, so warp with the shift in index coordinates
    index_shift_x = shift_x + 0.5 * (scale_x - 1.0)
    index_shift_y = shift_y + 0.5 * (scale_y - 1.0)
    matrix = np.array([[scale_x, 0.0, index_shift_x], [0.0, scale_y, index_shift_y]], np.float32)
    warped = cv2.warpAffine(binary, matrix, (width, height), flags=cv2.INTER_NEAREST)
    return rle_from_binary_mask(warped > 0)


def image_areas(
    objects: list[Annotation], image: ImageRecord, cache: dict[int, tuple[Any, float]] | None = None
) -> list[float]:
    """Areas of one image's objects: from the mask when there is one, else the box.

    Polygons of the image are rasterised in one pycocotools call; an object with several
    polygons takes their union. ``cache`` maps object id -> (mask, area) and is trusted only
    while the object still holds that very mask object (masks are never mutated in place),
    so an autosave re-rasterises only the masks that changed.
    """
    areas = [max(o.box[2] - o.box[0], 0.0) * max(o.box[3] - o.box[1], 0.0) for o in objects]
    cache = {} if cache is None else cache
    polygons, owners = [], []
    for index, obj in enumerate(objects):
        if obj.mask is None:
            continue
        hit = cache.get(obj.id)
        if hit is not None and hit[0] is obj.mask:
            areas[index] = hit[1]
        elif isinstance(obj.mask, list):
            polygons += obj.mask
            owners += [index] * len(obj.mask)
        else:
            areas[index] = mask_area(obj.mask, image)
            cache[obj.id] = (obj.mask, areas[index])
    if polygons:
        _polygon_areas(objects, image, polygons, owners, areas, cache)
    return areas


RLE_AREA_CHUNK = 255  # pycocotools' area() overflows a uint8 on longer lists with numpy 2


def rle_areas(rles: list) -> list[float]:
    """``pycocotools.mask.area`` for any number of RLEs (it fails past 255 in one call)."""
    from pycocotools import mask as mask_utils

    areas: list[float] = []
    for start in range(0, len(rles), RLE_AREA_CHUNK):
        areas.extend(float(a) for a in mask_utils.area(rles[start : start + RLE_AREA_CHUNK]))
    return areas


def _polygon_areas(objects, image, polygons, owners, areas, cache) -> None:
    from pycocotools import mask as mask_utils

    height, width = max(image.height, 1), max(image.width, 1)
    rles = mask_utils.frPyObjects(polygons, height, width)
    groups: dict[int, list] = {}
    for owner, rle, area in zip(owners, rles, rle_areas(rles), strict=True):
        groups.setdefault(owner, []).append(rle)
        areas[owner] = float(area)
    for owner, parts in groups.items():
        if len(parts) > 1:
            areas[owner] = float(mask_utils.area(mask_utils.merge(parts)))
        cache[objects[owner].id] = (objects[owner].mask, areas[owner])


def encode_mask_rle(mask: Any) -> dict:
    """A binary H x W mask as COCO compressed RLE with a str ``counts`` (JSON-ready)."""
    import numpy as np
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle["counts"] = rle["counts"].decode("ascii")
    return rle
