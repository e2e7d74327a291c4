"""COCO masks: polygon/RLE validation, areas and boxes via pycocotools, model-mask encoding.

A mask is COCO polygons (a list of flat ``[x0, y0, x1, y1, ...]`` lists, 3+ points each) or
an RLE dict ``{"size": [h, w], "counts": str | list[int]}`` (compressed or uncompressed).
Masks are treated as immutable values: an edit swaps in a new list/dict, never mutates one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from detector.data.dataset import Annotation, ImageRecord
from detector.io.limits import (
    MAX_NUMBER,
    MAX_POLYGON_PERIMETER,
    MAX_RLE_CHARS,
    coordinate_bounds,
    valid_image_size,
)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_int(value: Any) -> bool:
    return _is_int(value) and value > 0


def _valid_polygon(polygon: Any) -> bool:
    """A flat list of 3+ (x, y) pairs of finite numbers (sum() is the fast type check here).

    Shape only: :func:`polygons_fit` also bounds the coordinates by the image.
    """
    if type(polygon) is not list or len(polygon) < 6 or len(polygon) % 2:
        return False
    try:
        total = sum(polygon)  # TypeError for str/None/list/dict items; nan/inf propagate
    except (TypeError, OverflowError):  # a float plus an int past 1e308
        return False
    return -MAX_NUMBER * len(polygon) <= total <= MAX_NUMBER * len(polygon)


def polygons_fit(polygons: Any, width: int, height: int) -> bool:
    """True for a non-empty list of valid polygons that pycocotools can rasterise safely.

    Every coordinate lies within :func:`~detector.io.limits.coordinate_bounds` of the
    ``width`` x ``height`` image and the polygons' summed edge length is within
    ``MAX_POLYGON_PERIMETER``: pycocotools allocates per pixel of edge (5x upsampled) and
    crashes the process when that allocation fails.
    """
    if type(polygons) is not list or not polygons:
        return False
    x_min, y_min, x_max, y_max = coordinate_bounds(width, height)
    low, high = min(x_min, y_min), max(x_max, y_max)
    rough_perimeter = 0.0
    for polygon in polygons:
        if not _valid_polygon(polygon):
            return False
        if min(polygon) < low or max(polygon) > high:
            return False
        rough_perimeter += len(polygon) // 2 * (high - low)
    if rough_perimeter <= MAX_POLYGON_PERIMETER:
        return True
    return sum(_perimeter(p) for p in polygons) <= MAX_POLYGON_PERIMETER


def _perimeter(polygon: list) -> float:
    """Sum over the closed polygon's edges of max(|dx|, |dy|) (pycocotools' edge pixels)."""
    import numpy as np

    points = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    steps = np.abs(np.diff(np.vstack([points, points[:1]]), axis=0))
    return float(steps.max(axis=1).sum())


def _valid_rle(rle: dict) -> bool:
    """Size [h, w] within the pixel budget; run lengths non-negative covering h * w pixels.

    A compressed ``counts`` string is size-checked and its alphabet validated before it is
    decoded (vectorised); pycocotools' C decoder trusts both and writes out of bounds when
    the runs overshoot the mask.
    """
    size, counts = rle.get("size"), rle.get("counts")
    if not (isinstance(size, list) and len(size) == 2 and all(_positive_int(v) for v in size)):
        return False
    if not valid_image_size(size[1], size[0]):
        return False
    pixels = size[0] * size[1]
    if isinstance(counts, str):
        runs = rle_counts_array(counts)
        if runs is None or len(runs) > pixels + 1:
            return False
        return bool((runs >= 0).all()) and int(runs.sum()) == pixels
    if not isinstance(counts, list) or len(counts) > pixels + 1:
        return False
    if not all(_is_int(c) and c >= 0 for c in counts):
        return False
    return sum(counts) == pixels


MAX_RLE_VALUE_CHARS = 7  # 35 bits: more than any run of a 2^30-pixel mask needs


def rle_counts_array(text: str) -> Any:
    """int64[N] run lengths of a compressed COCO RLE string, or None when it is malformed.

    The same decoding as pycocotools' ``rleFrString``, vectorised with NumPy; strings longer
    than ``MAX_RLE_CHARS``, outside the RLE alphabet ('0'..'o'), ending inside a value or
    with a value longer than 7 characters are refused before any value is built.
    """
    import numpy as np

    if len(text) > MAX_RLE_CHARS or not text.isascii():
        return None
    if not text:
        return np.zeros(0, np.int64)
    codes = np.frombuffer(text.encode("ascii"), np.uint8)
    if codes.min() < 48 or codes.max() > 111:
        return None
    codes = codes.astype(np.int64) - 48
    last = (codes & 0x20) == 0  # a value ends at a character without the continuation bit
    if not last[-1]:
        return None
    ends = np.flatnonzero(last)
    starts = np.empty_like(ends)
    starts[0], starts[1:] = 0, ends[:-1] + 1
    lengths = ends - starts + 1
    if lengths.max() > MAX_RLE_VALUE_CHARS:
        return None
    place = np.arange(len(codes)) - np.repeat(starts, lengths)
    values = np.add.reduceat((codes & 0x1F) << (5 * place), starts)
    negative = (codes[ends] & 0x10) != 0
    values[negative] |= np.left_shift(-1, 5 * lengths[negative])
    values[1::2] = np.cumsum(values[1::2])  # counts[i] += counts[i - 2] from i = 3 on
    values[2::2] = np.cumsum(values[2::2])
    return values


def decode_rle_counts(text: str) -> list[int] | None:
    """Run lengths of a compressed COCO RLE string (pycocotools' rleFrString), None if malformed."""
    runs = rle_counts_array(text)
    return None if runs is None else runs.tolist()


def mask_to_rle(mask: Any, height: int, width: int) -> dict:
    """Any COCO mask as pycocotools' compressed RLE (``counts`` bytes), ``COCO.annToRLE``'s
    conversion: polygons are rasterised at ``height`` x ``width`` (several merged into one);
    an RLE (uncompressed, or compressed with str or bytes counts) keeps its own ``size``."""
    from pycocotools import mask as mask_utils

    if isinstance(mask, list):
        return mask_utils.merge(mask_utils.frPyObjects(mask, height, width))
    counts = mask.get("counts")
    if isinstance(counts, list):
        return mask_utils.frPyObjects(mask, *mask["size"])
    if isinstance(counts, bytes):
        return mask
    return {"size": list(mask["size"]), "counts": counts.encode("ascii")}


def binary_mask(mask: Any, height: int, width: int) -> Any:
    """uint8[H, W] (1 inside) of polygons, uncompressed RLE, or compressed RLE (str or bytes).

    Polygons are rasterised at ``height`` x ``width``; an RLE has its own ``size``, which
    callers compare with their image to catch a mask made for another image.
    """
    from pycocotools import mask as mask_utils

    return mask_utils.decode(mask_to_rle(mask, height, width)).astype(np.uint8)


def decode_mask(mask: Any, height: int, width: int) -> np.ndarray:
    """A COCO mask (polygons, uncompressed or compressed RLE) as uint8[height, width].

    Raises ValueError when an RLE was made for an image of another size.
    """
    decoded = binary_mask(mask, height, width)
    if decoded.shape != (height, width):
        raise ValueError(f"mask of size {decoded.shape} on a {height}x{width} image")
    return decoded


@dataclass(frozen=True)
class MaskCrop:
    """A binary mask cut to its bounding box: ``mask`` (bool[h, w]) placed at (x, y)."""

    x: int
    y: int
    mask: np.ndarray


def decode_mask_crop(mask: Any, height: int, width: int, step: int = 1) -> MaskCrop | None:
    """Polygons or RLE (compressed or not) -> the tight crop of the mask, None when empty.

    Only the mask's own region is rasterised: polygons are shifted into their bounding box
    before pycocotools draws them; RLE runs are expanded (numpy) for the columns they
    cover. A 12 MP image's mask costs its own size, not 12 MP.
    ``step`` > 1: the crop on a grid of every ``step``-th pixel (crop pixel (i, j) is image
    pixel (i, j) * step; ``x``, ``y`` are grid indices), read from the runs without
    expanding them at full resolution (what a drawing of a huge image needs).
    """
    if isinstance(mask, list):
        return _polygons_crop(mask, height, width, step)
    rows, cols = (int(v) for v in mask["size"])
    counts = mask["counts"]
    if isinstance(counts, str):
        counts = decode_rle_counts(counts)
    if counts is None or sum(counts) != rows * cols:
        raise ValueError("malformed RLE: its runs do not cover its size")
    return _runs_crop(np.asarray(counts, np.int64), rows, 0, 0, step)


def _polygons_crop(polygons: list, height: int, width: int, step: int = 1) -> MaskCrop | None:
    from pycocotools import mask as mask_utils

    shapes = [np.asarray(p, np.float64).reshape(-1, 2) for p in polygons]
    points = np.concatenate(shapes)
    x0, y0 = (max(int(v), 0) for v in np.floor(points.min(axis=0)))
    x1 = min(int(np.ceil(points[:, 0].max())) + 1, width)
    y1 = min(int(np.ceil(points[:, 1].max())) + 1, height)
    if x1 <= x0 or y1 <= y0:
        return None
    shifted = [(shape - (x0, y0)).ravel().tolist() for shape in shapes]
    rle = mask_utils.merge(mask_utils.frPyObjects(shifted, y1 - y0, x1 - x0))
    counts = decode_rle_counts(rle["counts"].decode("ascii"))
    return _runs_crop(np.asarray(counts, np.int64), y1 - y0, x0, y0, step)


def _runs_crop(counts: np.ndarray, rows: int, x0: int, y0: int, step: int = 1) -> MaskCrop | None:
    """Expand column-major runs (background first) over the columns holding foreground;
    the runs' frame starts at image pixel (x0, y0). ``step``: see ``decode_mask_crop``."""
    ends = np.cumsum(counts)
    starts = ends - counts
    foreground = (np.arange(len(counts)) % 2 == 1) & (counts > 0)
    if not foreground.any():
        return None
    first_col = int(starts[foreground][0]) // rows
    last_col = (int(ends[foreground][-1]) - 1) // rows + 1
    if step > 1:
        return _runs_on_grid(ends, rows, x0, y0, (first_col, last_col), step)
    low, high = first_col * rows, last_col * rows
    lengths = np.clip(ends, low, high) - np.clip(starts, low, high)
    block = np.repeat(np.arange(len(counts)) % 2 == 1, lengths).reshape(-1, rows).T
    filled = np.flatnonzero(block.any(axis=1))
    top, bottom = int(filled[0]), int(filled[-1]) + 1
    return MaskCrop(x0 + first_col, y0 + top, np.ascontiguousarray(block[top:bottom]))


def _runs_on_grid(
    ends: np.ndarray, rows: int, x0: int, y0: int, columns: tuple[int, int], step: int
) -> MaskCrop | None:
    """Runs (column-major, ending at ``ends``, their frame's pixel (0, 0) at image pixel
    (x0, y0)) sampled at the grid pixels of frame ``columns`` (first, end): one lookup per
    grid pixel, nothing at full resolution."""
    grid_x = np.arange(-(-(x0 + columns[0]) // step), -(-(x0 + columns[1]) // step))
    grid_y = np.arange(-(-y0 // step), -(-(y0 + rows) // step))
    if not grid_x.size or not grid_y.size:
        return None
    index = (grid_x * step - x0)[None, :] * rows + (grid_y * step - y0)[:, None]
    block = np.searchsorted(ends, index, side="right") % 2 == 1  # odd runs are foreground
    filled_rows, filled_cols = np.flatnonzero(block.any(axis=1)), np.flatnonzero(block.any(axis=0))
    if not filled_rows.size:
        return None
    top, bottom = int(filled_rows[0]), int(filled_rows[-1]) + 1
    first, last = int(filled_cols[0]), int(filled_cols[-1]) + 1
    return MaskCrop(
        int(grid_x[first]), int(grid_y[top]), np.ascontiguousarray(block[top:bottom, first:last])
    )


def mask_area(mask: Any, image: ImageRecord) -> float:
    """Pixel area of a polygon list or RLE mask (pycocotools' rasterisation)."""
    from pycocotools import mask as mask_utils

    height, width = _mask_frame(mask, image)
    return float(mask_utils.area(mask_to_rle(mask, height, width)))


def bbox_from_mask(mask: Any, image: ImageRecord) -> tuple[float, float, float, float] | None:
    from pycocotools import mask as mask_utils

    height, width = _mask_frame(mask, image)
    if height <= 0 or width <= 0:
        return None
    x, y, w, h = (float(v) for v in mask_utils.toBbox(mask_to_rle(mask, height, width)))
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
    from pycocotools import mask as mask_utils

    height, width = _mask_frame(mask, image)
    binary = mask_utils.decode(mask_to_rle(mask, height, width))
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
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle["counts"] = rle["counts"].decode("ascii")
    return rle
