"""Mask decoding in one place: full frame, tight crops, the RGBA layer, fitting to a box."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycocotools import mask as mask_utils

from detector.data.dataset import Annotation, ImageRecord
from detector.data.mask_layer import LAYER_MAX_PIXELS, MaskCache, compose, layer_step
from detector.data.masks import (
    bbox_from_mask,
    decode_mask,
    decode_mask_crop,
    encode_mask_rle,
    fit_mask_to_box,
)

TRIANGLE = [[20.0, 20.0, 100.0, 20.0, 20.0, 100.0]]  # lower-left half of a square


def test_decode_mask_reads_polygons_and_both_rle_forms():
    polygon = [[2.0, 2.0, 8.0, 2.0, 8.0, 6.0, 2.0, 6.0]]
    square = decode_mask(polygon, 10, 12)
    assert square.shape == (10, 12) and square[3:6, 3:8].all() and not square[0].any()
    compressed = mask_utils.encode(np.asfortranarray(square))
    as_str = {"size": compressed["size"], "counts": compressed["counts"].decode()}
    np.testing.assert_array_equal(decode_mask(as_str, 10, 12), square)
    uncompressed = {"size": [10, 12], "counts": _run_lengths(square)}
    np.testing.assert_array_equal(decode_mask(uncompressed, 10, 12), square)
    with pytest.raises(ValueError, match="image"):
        decode_mask(as_str, 20, 12)


def _run_lengths(mask: np.ndarray) -> list[int]:
    """COCO uncompressed RLE counts (column-major, starting with a run of zeros)."""
    flat = mask.flatten(order="F")
    edges = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], edges, [len(flat)]])
    counts = np.diff(bounds).tolist()
    return counts if flat[0] == 0 else [0, *counts]


def test_fit_mask_to_box_scales_polygons_and_rle():
    image = ImageRecord(id=1, file_name="a.png", width=160, height=120)
    moved = fit_mask_to_box(TRIANGLE, (20, 20, 100, 100), (0, 0, 40, 80), image)
    assert moved == [[0.0, 0.0, 40.0, 0.0, 0.0, 80.0]]
    square = np.zeros((120, 160), np.uint8, order="F")
    square[10:30, 10:50] = 1
    rle = mask_utils.encode(square)
    rle["counts"] = rle["counts"].decode("ascii")
    doubled = fit_mask_to_box(rle, (10, 10, 50, 30), (60, 40, 140, 80), image)
    assert bbox_from_mask(doubled, image) == (60.0, 40.0, 140.0, 80.0)
    compressed = {"size": doubled["size"], "counts": doubled["counts"].encode("ascii")}
    assert mask_utils.area(compressed) == 80 * 40
    assert fit_mask_to_box(None, (0, 0, 1, 1), (2, 2, 3, 3), image) is None


def _full(crop, height: int, width: int) -> np.ndarray:
    out = np.zeros((height, width), bool)
    if crop is not None:
        h, w = crop.mask.shape
        out[crop.y : crop.y + h, crop.x : crop.x + w] = crop.mask
    return out


@settings(max_examples=40, deadline=None)
@given(x0=st.integers(0, 30), y0=st.integers(0, 20), w=st.integers(0, 15), h=st.integers(0, 15))
def test_crop_equals_the_full_decode(x0, y0, w, h):
    mask = np.zeros((30, 40), bool)
    mask[y0 : y0 + h, x0 : x0 + w] = True
    mask[5, 7] = True
    rle = encode_mask_rle(mask)
    np.testing.assert_array_equal(_full(decode_mask_crop(rle, 30, 40), 30, 40), mask)
    polygon = [[x0, y0, x0 + w, y0, x0 + w, y0 + h, x0, y0 + h]]
    crop = decode_mask_crop(polygon, 30, 40)
    np.testing.assert_array_equal(_full(crop, 30, 40), decode_mask(polygon, 30, 40) > 0)


def test_malformed_rle_is_refused():
    with pytest.raises(ValueError, match="RLE"):
        decode_mask_crop({"size": [4, 4], "counts": [3, 2]}, 4, 4)


def test_layer_composes_later_masks_over_earlier_and_caches():
    first = encode_mask_rle(np.pad(np.ones((4, 4), bool), ((0, 6), (0, 6))))
    second = [[2.0, 2.0, 8.0, 2.0, 8.0, 8.0, 2.0, 8.0]]
    objects = [
        Annotation(id=1, image_id=1, category_id=1, box=(0, 0, 4, 4), mask=first),
        Annotation(id=2, image_id=1, category_id=1, box=(2, 2, 8, 8), mask=second),
        Annotation(id=3, image_id=1, category_id=1, box=(0, 0, 1, 1)),
    ]
    colors = [(255, 0, 0, 100), (0, 0, 255, 50), (0, 255, 0, 10)]
    cache = MaskCache()
    rgba = cache.layer(objects, colors, 10, 10).to_image(10, 10)
    assert tuple(rgba[0, 0]) == (255, 0, 0, 100)
    assert tuple(rgba[3, 3]) == (0, 0, 255, 50)  # painted over by the later mask
    assert tuple(rgba[9, 9]) == (0, 0, 0, 0)
    assert cache.layer(objects, colors, 10, 10) is False  # nothing changed
    assert cache.layer(objects[2:], colors[2:], 10, 10) is None  # no masks
    np.testing.assert_array_equal(
        compose([], [], 2, 2).to_image(2, 2), np.zeros((2, 2, 4), np.uint8)
    )


def test_layer_of_a_24_mp_photo_is_capped_cropped_and_exact_on_its_grid():
    """Masks on a 6000 x 4000 photo: the layer covers the masks' union only, at one layer
    pixel per 3 x 3 image pixels, and equals the full-resolution composition there."""
    height, width = 4000, 6000
    first = np.zeros((height, width), bool)
    first[1000:2501, 2000:3001] = True
    second = [[2500.0, 2000.0, 4000.0, 2000.0, 3300.0, 3100.0]]  # a triangle
    objects = [
        Annotation(
            id=1,
            image_id=1,
            category_id=1,
            box=(2000, 1000, 1001, 1501),
            mask=encode_mask_rle(first),
        ),
        Annotation(id=2, image_id=1, category_id=1, box=(2500, 2000, 1500, 1100), mask=second),
    ]
    colors = [(255, 0, 0, 100), (0, 0, 255, 50)]
    layer = MaskCache().layer(objects, colors, height, width)
    assert layer_step(height, width) == layer.step == 3
    assert layer.rgba.shape[0] * layer.rgba.shape[1] <= LAYER_MAX_PIXELS
    assert (layer.x * 3, layer.y * 3) == (2001, 1002)  # the first grid point inside a mask
    rows, cols = layer.rgba.shape[:2]  # the union (1000..3100 x 2000..4000), not 4000 x 6000
    assert rows <= (3101 - 1002) // 3 + 1 and cols <= (4001 - 2001) // 3 + 1
    full = np.zeros((height, width, 4), np.uint8)
    for annotation, color in zip(objects, colors, strict=True):
        crop = decode_mask_crop(annotation.mask, height, width)
        region = full[crop.y : crop.y + crop.mask.shape[0], crop.x : crop.x + crop.mask.shape[1]]
        region[crop.mask] = color
    np.testing.assert_array_equal(layer.to_image(height, width)[::3, ::3], full[::3, ::3])


@pytest.mark.parametrize("step", [2, 3, 7])
def test_crop_on_a_grid_samples_the_full_crop(step):
    """RLE and polygons decoded on a grid equal the full-resolution crop's grid pixels."""
    rng = np.random.default_rng(step)
    height, width = 90, 70
    full = np.zeros((height, width), bool)
    full[11:64, 5:52] = rng.random((53, 47)) > 0.4
    polygon = [[3.0, 70.0, 60.0, 20.0, 66.0, 85.0, 10.0, 88.0]]
    for mask in (encode_mask_rle(full), polygon):
        whole = decode_mask(mask, height, width).astype(bool)
        piece = decode_mask_crop(mask, height, width, step)
        image = np.zeros(((height - 1) // step + 1, (width - 1) // step + 1), bool)
        image[piece.y : piece.y + piece.mask.shape[0], piece.x : piece.x + piece.mask.shape[1]] = (
            piece.mask
        )
        np.testing.assert_array_equal(image, whole[::step, ::step])
        assert piece.mask[0].any() and piece.mask[:, 0].any()  # tight
