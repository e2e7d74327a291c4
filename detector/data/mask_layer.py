"""Instance masks of a shown image: decoded once per mask, composed into one RGBA layer.

A mask is COCO polygons or RLE (``Annotation.mask``). Decoding
(``detector.data.masks.decode_mask_crop``) happens once per mask object (masks are immutable
values: an edit swaps in a new one), and only the tight crop around the mask is kept, so a
redraw after an edit costs a few array copies. The composed layer is rebuilt only when the
set of drawn masks or their colours changes. The canvas draws the RGBA array it returns.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from detector.data.masks import MaskCrop, decode_mask_crop


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
            piece = decode_mask_crop(mask, height, width)
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
