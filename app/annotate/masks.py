"""Instance masks of the shown image: decoded once per mask, composed into one RGBA layer.

A mask is COCO polygons or RLE (``Annotation.mask``). Decoding (pycocotools) happens once per
mask object (masks are immutable values: an edit swaps in a new one), and only the tight
crop around the mask is kept, so a redraw after an edit costs a few array copies. The
composed layer is rebuilt only when the set of drawn masks or their colours changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from detector.data.masks import decode_rle_counts

OBJECT_ALPHA = 105  # ground truth (and accepted predictions): clearly visible
PREDICTION_ALPHA = 60  # unaccepted predictions: fainter, like their dashed outlines


@dataclass(frozen=True)
class MaskCrop:
    """A binary mask cut to its bounding box: ``mask`` (bool[h, w]) placed at (x, y)."""

    x: int
    y: int
    mask: np.ndarray


def decode_mask(mask: Any, height: int, width: int) -> MaskCrop | None:
    """Polygons or RLE (compressed or not) -> the tight crop of the mask, None when empty.

    Only the mask's own region is rasterised: polygons are shifted into their bounding box
    before pycocotools draws them; RLE runs are expanded (numpy) for the columns they
    cover. A 12 MP image's mask costs its own size, not 12 MP.
    """
    if isinstance(mask, list):
        return _polygons_crop(mask, height, width)
    rows, cols = (int(v) for v in mask["size"])
    counts = mask["counts"]
    if isinstance(counts, str):
        counts = decode_rle_counts(counts)
    if counts is None or sum(counts) != rows * cols:
        raise ValueError("malformed RLE")
    return _runs_crop(np.asarray(counts, np.int64), rows, 0, 0)


def _polygons_crop(polygons: list, height: int, width: int) -> MaskCrop | None:
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
    return _runs_crop(np.asarray(counts, np.int64), y1 - y0, x0, y0)


def _runs_crop(counts: np.ndarray, rows: int, x0: int, y0: int) -> MaskCrop | None:
    """Expand column-major runs (background first) over the columns holding foreground."""
    ends = np.cumsum(counts)
    starts = ends - counts
    foreground = (np.arange(len(counts)) % 2 == 1) & (counts > 0)
    if not foreground.any():
        return None
    first_col = int(starts[foreground][0]) // rows
    last_col = (int(ends[foreground][-1]) - 1) // rows + 1
    low, high = first_col * rows, last_col * rows
    lengths = np.clip(ends, low, high) - np.clip(starts, low, high)
    block = np.repeat(np.arange(len(counts)) % 2 == 1, lengths).reshape(-1, rows).T
    filled = np.flatnonzero(block.any(axis=1))
    top, bottom = int(filled[0]), int(filled[-1]) + 1
    return MaskCrop(x0 + first_col, y0 + top, np.ascontiguousarray(block[top:bottom]))


def compose(
    crops: list[MaskCrop], colors: list[tuple[int, int, int, int]], height: int, width: int
) -> np.ndarray:
    """One RGBA image (uint8[height, width, 4], not premultiplied); later masks paint over."""
    rgba = np.zeros((height, width, 4), np.uint8)
    for piece, color in zip(crops, colors, strict=True):
        h, w = piece.mask.shape
        y1, x1 = min(piece.y + h, height), min(piece.x + w, width)
        if y1 <= piece.y or x1 <= piece.x:
            continue
        region = rgba[piece.y : y1, piece.x : x1]
        region[piece.mask[: y1 - piece.y, : x1 - piece.x]] = color
    return rgba


class MaskCache:
    """Decoded crops of the masks seen on the current image (``reset`` on a new image)."""

    def __init__(self) -> None:
        self._crops: dict[int, tuple[Any, MaskCrop | None]] = {}  # id(mask) -> (mask, crop)
        self._composed_key: tuple | None = None

    def reset(self) -> None:
        self._crops.clear()
        self._composed_key = None

    def crop_of(self, mask: Any, height: int, width: int) -> MaskCrop | None:
        hit = self._crops.get(id(mask))
        if hit is not None and hit[0] is mask:
            return hit[1]
        try:
            piece = decode_mask(mask, height, width)
        except (TypeError, ValueError, KeyError, AttributeError):
            piece = None  # a malformed mask is not drawn (the data layer reports it)
        self._crops[id(mask)] = (mask, piece)
        return piece

    def layer(self, annotations, colors, height: int, width: int) -> np.ndarray | None | bool:
        """RGBA of the annotations' masks; None when none has one; False when unchanged.

        ``colors``: one (r, g, b, a) per annotation.
        """
        drawn = [(a.mask, c) for a, c in zip(annotations, colors, strict=True) if a.mask]
        key = (height, width, tuple((id(mask), color) for mask, color in drawn))
        if key == self._composed_key:
            return False
        self._composed_key = key
        self._prune({id(mask) for mask, _ in drawn})
        pieces = [(self.crop_of(mask, height, width), color) for mask, color in drawn]
        pieces = [(piece, color) for piece, color in pieces if piece is not None]
        if not pieces:
            return None
        return compose([p for p, _ in pieces], [c for _, c in pieces], height, width)

    def _prune(self, keep: set[int]) -> None:
        if len(self._crops) > 2 * len(keep) + 64:
            self._crops = {k: v for k, v in self._crops.items() if k in keep}
