"""Instance masks of a shown image: decoded once per mask, composed into one RGBA layer.

A mask is COCO polygons or RLE (``Annotation.mask``). Decoding
(``detector.data.masks.decode_mask_crop``) happens once per mask object (masks are immutable
values: an edit swaps in a new one), and only the tight crop around the mask is kept, so a
redraw after an edit costs a few array copies. The composed layer is rebuilt only when the
set of drawn masks or their colours changes. The canvas draws the layer it returns.

Memory: a layer never costs more than ``LAYER_MAX_PIXELS`` RGBA pixels (16 MB). It covers
only the union of the masks, and on images above that size one layer pixel stands for
``step`` x ``step`` image pixels (``layer_step``: 3 on a 24 MP photo). Cached crops are kept
on that coarser grid too, so 100 predicted masks on a 24 MP photo hold a few MB, not 24 MP
each (nearest sampling: a mask edge is drawn to within ``step`` pixels).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from detector.data.masks import MaskCrop, decode_mask_crop

LAYER_MAX_PIXELS = 4_000_000


@dataclass(frozen=True)
class MaskLayer:
    """RGBA (uint8[h, w, 4], not premultiplied) over part of an image: layer pixel (i, j)
    covers image pixels ``[(x + j) * step, (x + j + 1) * step)`` by the same in y."""

    rgba: np.ndarray
    x: int = 0
    y: int = 0
    step: int = 1

    def to_image(self, height: int, width: int) -> np.ndarray:
        """The layer as a full-size RGBA image of the original (nearest sampling)."""
        rows = np.arange(height) // self.step - self.y
        cols = np.arange(width) // self.step - self.x
        h, w = self.rgba.shape[:2]
        rows_in, cols_in = (rows >= 0) & (rows < h), (cols >= 0) & (cols < w)
        out = np.zeros((height, width, 4), np.uint8)
        out[np.ix_(rows_in, cols_in)] = self.rgba[np.ix_(rows[rows_in], cols[cols_in])]
        return out


def layer_step(height: int, width: int) -> int:
    """Image pixels per layer pixel (each way): 1 up to ``LAYER_MAX_PIXELS``."""
    step = 1
    while -(-height // step) * -(-width // step) > LAYER_MAX_PIXELS:
        step += 1
    return step


def on_grid(piece: MaskCrop, step: int) -> MaskCrop | None:
    """``piece`` sampled on the layer grid (layer pixel (i, j) = image pixel (i, j) * step)."""
    if step == 1:
        return piece
    skip_y, skip_x = -piece.y % step, -piece.x % step
    small = piece.mask[skip_y::step, skip_x::step]
    if not small.any():
        return None
    return MaskCrop((piece.x + skip_x) // step, (piece.y + skip_y) // step, small.copy())


def compose(
    crops: list[MaskCrop],
    colors: list[tuple[int, int, int, int]],
    height: int,
    width: int,
    step: int = 1,
) -> MaskLayer:
    """One layer over the union of ``crops`` (on the grid of ``step``); later masks paint
    over earlier ones. ``height`` / ``width``: the image's size in image pixels."""
    grid_h, grid_w = -(-height // step), -(-width // step)
    inside = [
        (piece, color)
        for piece, color in zip(crops, colors, strict=True)
        if piece.y < grid_h and piece.x < grid_w and piece.mask.size
    ]
    if not inside:
        return MaskLayer(np.zeros((0, 0, 4), np.uint8), 0, 0, step)
    x0 = max(min(p.x for p, _ in inside), 0)
    y0 = max(min(p.y for p, _ in inside), 0)
    x1 = min(max(p.x + p.mask.shape[1] for p, _ in inside), grid_w)
    y1 = min(max(p.y + p.mask.shape[0] for p, _ in inside), grid_h)
    rgba = np.zeros((max(y1 - y0, 0), max(x1 - x0, 0), 4), np.uint8)
    for piece, color in inside:
        h, w = piece.mask.shape
        top, left = max(piece.y, y0), max(piece.x, x0)
        bottom, right = min(piece.y + h, y1), min(piece.x + w, x1)
        if bottom <= top or right <= left:
            continue
        region = rgba[top - y0 : bottom - y0, left - x0 : right - x0]
        region[piece.mask[top - piece.y : bottom - piece.y, left - piece.x : right - piece.x]] = (
            color
        )
    return MaskLayer(rgba, x0, y0, step)


class MaskCache:
    """Decoded crops of the masks seen on the current image (``reset`` on a new image)."""

    def __init__(self) -> None:
        self._crops: dict[int, tuple[Any, MaskCrop | None]] = {}  # id(mask) -> (mask, crop)
        self._composed_key: tuple | None = None

    def reset(self) -> None:
        self._crops.clear()
        self._composed_key = None

    def crop_of(self, mask: Any, height: int, width: int) -> MaskCrop | None:
        """The mask's crop on the layer grid of a ``height`` x ``width`` image."""
        hit = self._crops.get(id(mask))
        if hit is not None and hit[0] is mask:
            return hit[1]
        try:  # on the layer's grid straight from the runs: never a full-resolution crop
            piece = decode_mask_crop(mask, height, width, layer_step(height, width))
        except (TypeError, ValueError, KeyError, AttributeError):
            piece = None  # a malformed mask is not drawn (the data layer reports it)
        self._crops[id(mask)] = (mask, piece)
        return piece

    def layer(self, annotations, colors, height: int, width: int) -> MaskLayer | None | bool:
        """The annotations' masks; None when none has one; False when unchanged.

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
        return compose(
            [p for p, _ in pieces], [c for _, c in pieces], height, width, layer_step(height, width)
        )

    def _prune(self, keep: set[int]) -> None:
        if len(self._crops) > 2 * len(keep) + 64:
            self._crops = {k: v for k, v in self._crops.items() if k in keep}
