"""Instance masks kept small: the head's M x M probabilities over a box, pasted on demand.

torchvision's ``paste_masks_in_image`` turns every detection's 28 x 28 probabilities into a
float mask the size of the whole image, all N at once (100 detections on a 12 MP photo:
4.8 GB). Here a mask is pasted one at a time and only over its (expanded) box: the values
equal ``paste_masks_in_image(...)[i, 0]`` exactly inside the crop and are 0 outside it,
because the same torch operations (``expand_masks``, ``expand_boxes``, bilinear
``F.interpolate``) run on the same float32 inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MaskCrop:
    """One pasted mask restricted to its box: ``values`` (float32[h, w], 0-1) cover image
    rows ``y0 : y0 + h`` and columns ``x0 : x0 + w``; every other pixel is 0."""

    x0: int
    y0: int
    values: np.ndarray

    @property
    def binary(self) -> np.ndarray:
        """bool[h, w]: the crop above 0.5 (what COCO results and drawing use)."""
        return self.values > 0.5


def paste_mask_crop(prob: np.ndarray, box: np.ndarray, height: int, width: int) -> MaskCrop:
    """Paste ``prob`` (float32[M, M], over ``box``) into an image of ``height`` x ``width``.

    ``box`` (float32[4], xyxy, original-image pixels) is the detection's box as the model
    returned it. Same arithmetic as torchvision's ``paste_mask_in_image`` with padding 1.
    """
    import torch  # here, not at import: Detections cross into the window before torch loads
    import torch.nn.functional as F  # noqa: N812 - torch's own alias
    from torchvision.models.detection.roi_heads import expand_boxes, expand_masks

    mask = torch.from_numpy(np.ascontiguousarray(prob, dtype=np.float32))[None, None]
    padded, scale = expand_masks(mask, padding=1)
    box_t = torch.from_numpy(np.asarray(box, dtype=np.float32).reshape(1, 4).copy())
    bx0, by0, bx1, by1 = (int(v) for v in expand_boxes(box_t, scale).to(torch.int64)[0])
    w, h = max(bx1 - bx0 + 1, 1), max(by1 - by0 + 1, 1)
    x_0, x_1 = max(bx0, 0), min(bx1 + 1, width)
    y_0, y_1 = max(by0, 0), min(by1 + 1, height)
    if x_1 <= x_0 or y_1 <= y_0:
        return MaskCrop(0, 0, np.zeros((0, 0), np.float32))
    resized = F.interpolate(padded, size=(h, w), mode="bilinear", align_corners=False)[0, 0]
    crop = resized[y_0 - by0 : y_1 - by0, x_0 - bx0 : x_1 - bx0]
    return MaskCrop(x_0, y_0, crop.numpy())  # a view: no second box-sized copy


def full_mask(crop: MaskCrop, height: int, width: int, *, binary: bool = True) -> np.ndarray:
    """The crop placed in a zero image: bool[H, W] (above 0.5) or float32[H, W] values."""
    out = np.zeros((height, width), bool if binary else np.float32)
    h, w = crop.values.shape
    out[crop.y0 : crop.y0 + h, crop.x0 : crop.x0 + w] = crop.binary if binary else crop.values
    return out


def crop_rle(crop: MaskCrop, height: int, width: int) -> dict:
    """COCO compressed RLE (str ``counts``) of the crop above 0.5 in the H x W image.

    Only the crop is read (COCO RLE runs down columns; the zeros above and below it are
    counted, never materialised): equal to ``pycocotools.mask.encode`` of
    ``full_mask(crop, H, W)``, in about two bytes per crop pixel.
    """
    from pycocotools import mask as mask_utils

    h, w = crop.values.shape
    total = height * width
    lead = crop.x0 * height + crop.y0  # zeros before the crop's first pixel
    if h == 0 or w == 0:
        counts = [total]
    else:
        # One row per crop column: its h pixels, then (when the crop is shorter than the
        # image) one separator element standing for the H - h zeros below it and above
        # the next column; the last one stands for every zero after the crop.
        gap = 1 if height > h else 0
        values = np.zeros((w, h + gap), bool)
        values[:, :h] = crop.values.T > 0.5
        flat = values.ravel()
        edges = np.concatenate(([0], np.flatnonzero(flat[1:] != flat[:-1]) + 1, [flat.size]))
        a, b = edges[:-1], edges[1:]
        runs = b - a
        if gap:
            separators = (b - 1 - h) // (h + 1) - (a - 1 - h) // (h + 1)  # in [a, b)
            runs += separators * (height - h - 1)
        counts = runs.tolist()
        tail = total - lead - (w - 1) * height - h - gap * (height - h)
        if flat[-1]:
            counts.append(tail)
        else:
            counts[-1] += tail
        counts = [lead + counts[0], *counts[1:]] if not flat[0] else [lead, *counts]
        if counts[-1] == 0:
            counts.pop()
    rle = mask_utils.frPyObjects({"size": [height, width], "counts": counts}, height, width)
    rle["counts"] = rle["counts"].decode("ascii")
    return rle


def upscale_starts(first: int, count: int, scale: float, limit: int) -> np.ndarray:
    """Where small pixels ``first .. first + count`` begin in a frame ``scale`` times
    larger (``count + 1`` values, the last one the end), clipped to ``[0, limit]``.

    Nearest sampling at pixel centres: big pixel y shows small pixel floor((y + 0.5) / scale),
    so small pixel r covers big pixels ``ceil(r * scale - 0.5) ..`` up to the next one's start.
    """
    small = np.arange(first, first + count + 1, dtype=np.float64)
    return np.clip(np.ceil(small * scale - 0.5), 0, limit).astype(np.int64)


def upscale_crop(crop: MaskCrop, scale_x: float, scale_y: float, height: int, width: int):
    """The crop sampled (nearest) into a frame ``scale`` times larger, ``height`` x
    ``width``: a box-sized array of the big frame, so only for moderate sizes."""
    h, w = crop.values.shape
    rows = upscale_starts(crop.y0, h, scale_y, height)
    cols = upscale_starts(crop.x0, w, scale_x, width)
    values = np.repeat(np.repeat(crop.values, np.diff(rows), 0), np.diff(cols), 1)
    return MaskCrop(int(cols[0]), int(rows[0]), values)


def upscaled_area(crop: MaskCrop, scale_x: float, scale_y: float, height: int, width: int) -> int:
    """Pixels of ``upscale_crop(...)`` above 0.5, without making it."""
    h, w = crop.values.shape
    rows = np.diff(upscale_starts(crop.y0, h, scale_y, height))
    cols = np.diff(upscale_starts(crop.x0, w, scale_x, width))
    return int(rows @ crop.binary.astype(np.int64) @ cols)


def upscaled_rle(crop: MaskCrop, scale_x: float, scale_y: float, height: int, width: int) -> dict:
    """COCO compressed RLE of ``upscale_crop(...)`` above 0.5 in the ``height`` x ``width``
    image, computed from the small crop's runs: a mask over most of a 20000 x 20000 photo
    costs its run list, never a 400 MB array."""
    from pycocotools import mask as mask_utils

    binary = crop.binary
    h, w = binary.shape
    rows = upscale_starts(crop.y0, h, scale_y, height)
    cols = upscale_starts(crop.x0, w, scale_x, width)
    row_len, col_len = np.diff(rows), np.diff(cols)
    binary = binary[row_len > 0][:, col_len > 0]
    row_len, col_len = row_len[row_len > 0], col_len[col_len > 0]
    top, left, tall = int(rows[0]), int(cols[0]), int(row_len.sum())
    total = height * width
    if not binary.any():
        counts = [total]
    else:
        # segments of each small column (a start wherever the value changes down it), at
        # their big-frame row offsets; then one zero segment below the crop that runs on
        # into the next column (when the crop is shorter than the image)
        offsets = np.concatenate(([0], np.cumsum(row_len)[:-1]))
        change = np.ones(binary.shape, bool)
        change[1:] = binary[1:] != binary[:-1]
        seg_col, seg_row = np.nonzero(change.T)
        seg_pos, seg_val = offsets[seg_row], binary[seg_row, seg_col]
        if tall < height:
            columns = np.arange(binary.shape[1])
            seg_col = np.concatenate((seg_col, columns))
            seg_pos = np.concatenate((seg_pos, np.full(columns.size, tall)))
            seg_val = np.concatenate((seg_val, np.zeros(columns.size, bool)))
            order = np.lexsort((seg_pos, seg_col))
            seg_col, seg_pos, seg_val = seg_col[order], seg_pos[order], seg_val[order]
        per_column = np.bincount(seg_col, minlength=binary.shape[1])
        block = np.concatenate(([0], np.cumsum(per_column)[:-1]))
        # every big column repeats its small column's segments
        small_of = np.repeat(np.arange(binary.shape[1]), col_len)
        count = per_column[small_of]
        big_col = np.repeat(np.arange(small_of.size), count)
        within = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        source = block[small_of][big_col] + within
        starts = (left + big_col) * height + top + seg_pos[source]
        values = seg_val[source]
        starts = np.concatenate(([0], starts))  # the zeros before the crop (maybe none)
        values = np.concatenate(([False], values))
        keep = np.concatenate(([True], values[1:] != values[:-1]))
        starts, values = starts[keep], values[keep]
        counts = np.diff(np.concatenate((starts, [total]))).tolist()
        if counts and counts[-1] == 0:
            counts.pop()
    rle = mask_utils.frPyObjects({"size": [height, width], "counts": counts}, height, width)
    rle["counts"] = rle["counts"].decode("ascii")
    return rle
