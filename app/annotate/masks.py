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

from detector.formats.masks import decode_rle_counts

OBJECT_ALPHA = 105  # ground truth (and accepted predictions): clearly visible
PREDICTION_ALPHA = 60  # unaccepted predictions: fainter, like their dashed outlines


@dataclass(frozen=True)
class MaskCrop:
    """A binary mask cut to its bounding box: ``mask`` (bool[h, w]) placed at (x, y)."""

    x: int
    y: int
    mask: np.ndarray


def decode_mask(mask: Any, height: int, width: int) -> np.ndarray:
    """Polygons or RLE (compressed or not) -> bool[height, width].

    Polygons are rasterised by pycocotools; run lengths are expanded with numpy (COCO RLE
    runs go down the columns, starting with background).
    """
    if isinstance(mask, list):
        from pycocotools import mask as mask_utils

        rle = mask_utils.merge(mask_utils.frPyObjects(mask, height, width))
        mask = {"size": rle["size"], "counts": rle["counts"].decode("ascii")}
    rows, cols = (int(v) for v in mask["size"])
    counts = mask["counts"]
    if isinstance(counts, str):
        counts = decode_rle_counts(counts)
    if counts is None or sum(counts) != rows * cols:
        raise ValueError("malformed RLE")
    values = np.arange(len(counts)) % 2 == 1
    return np.repeat(values, counts).reshape(cols, rows).T


def crop(mask: np.ndarray) -> MaskCrop | None:
    """The tight crop of a binary mask, None when it is empty."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not len(rows) or not len(cols):
        return None
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    return MaskCrop(int(x0), int(y0), np.ascontiguousarray(mask[y0:y1, x0:x1]))


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
            piece = crop(decode_mask(mask, height, width))
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
