"""The documented bounds on everything read from a user's file.

Values outside these bounds never reach NumPy, pycocotools or torch: a reader either flags
and clips them (coordinates) or refuses the file with the project's error naming the file
and the location (sizes, names, nesting). The bounds are generous for real data and small
enough that no single file can make the program allocate more than a few hundred MB.

* ``MAX_IMAGE_SIDE`` / ``MAX_IMAGE_PIXELS``: a declared image size (COCO ``width`` /
  ``height``, LabelMe ``imageWidth``, an RLE ``size``, a LabelMe mask PNG) is at most
  65,536 px a side and 2^30 pixels (a 32,768 x 32,768 image). pycocotools indexes pixels
  with 32-bit integers; past 2^32 pixels it overflows and writes out of bounds.
* ``coordinate_bounds``: a coordinate may lie outside its image by one image side (the
  margin); farther out it is clipped and flagged. Unknown image sizes use
  ``MAX_IMAGE_SIDE``.
* ``MAX_POLYGON_PERIMETER``: the summed edge length (max of |dx|, |dy|, in pixels) of one
  object's polygons; pycocotools rasterises 5x upsampled edges, ~40 bytes a pixel of edge.
* ``MAX_RLE_CHARS``: a compressed RLE string is at most 8 MB.
* ``MAX_NUMBER``: any number DetScope uses is finite with ``abs() <= 1e15``.
* ``MAX_NESTING``: values kept as they are (unknown fields) nest at most 64 deep.
* ``MAX_NAME_BYTES`` / ``MAX_PATH_BYTES``: a file name part is at most 255 UTF-8 bytes,
  a whole relative path 4,096 (the limits of every common file system).
"""

from __future__ import annotations

import math
from typing import Any

MAX_IMAGE_SIDE = 65_536
MAX_IMAGE_PIXELS = 2**30
MAX_POLYGON_PERIMETER = 4_000_000
MAX_RLE_CHARS = 8 * 2**20
MAX_NUMBER = 1e15
MAX_NESTING = 64
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 4096


def is_number(value: Any) -> bool:
    """True for an int or float (not bool) that is finite and within ``MAX_NUMBER``."""
    if type(value) is float:
        return -MAX_NUMBER <= value <= MAX_NUMBER  # False for nan and inf too
    if isinstance(value, int) and not isinstance(value, bool):
        return -MAX_NUMBER <= value <= MAX_NUMBER
    return isinstance(value, float) and math.isfinite(value) and abs(value) <= MAX_NUMBER


def valid_image_size(width: Any, height: Any) -> bool:
    """Both positive whole numbers, each side and the pixel count within the budget."""
    if not (is_number(width) and is_number(height)):
        return False
    if not (float(width).is_integer() and float(height).is_integer()):
        return False
    return (
        0 < width <= MAX_IMAGE_SIDE
        and 0 < height <= MAX_IMAGE_SIDE
        and width * height <= MAX_IMAGE_PIXELS
    )


def coordinate_bounds(width: int, height: int) -> tuple[float, float, float, float]:
    """(x_min, y_min, x_max, y_max) a coordinate of a ``width`` x ``height`` image may take.

    The image plus a margin of one image side on every edge; unknown sizes (0) use
    ``MAX_IMAGE_SIDE``.
    """
    w = float(width) if width > 0 else float(MAX_IMAGE_SIDE)
    h = float(height) if height > 0 else float(MAX_IMAGE_SIDE)
    return -w, -h, 2.0 * w, 2.0 * h


def nesting_depth_exceeds(value: Any, limit: int = MAX_NESTING) -> bool:
    """True when ``value`` (parsed JSON) nests lists/dicts deeper than ``limit``. Iterative."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def name_problem(name: str) -> str | None:
    """Why ``name`` (a ``/``-separated relative file name) cannot be a file, or None if fine."""
    if "\x00" in name:
        return "contains a NUL character"
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode"
    if len(encoded) > MAX_PATH_BYTES:
        return f"is {len(encoded)} bytes long (at most {MAX_PATH_BYTES})"
    for part in name.replace("\\", "/").split("/"):
        size = len(part.encode("utf-8"))
        if size > MAX_NAME_BYTES:
            return f"has a part of {size} bytes (file systems allow {MAX_NAME_BYTES})"
    return None
