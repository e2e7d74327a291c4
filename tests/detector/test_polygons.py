"""Mask -> polygons (OpenCV contours, simplified) judged by pycocotools' rasterisation."""

from __future__ import annotations

import cv2
import numpy as np
from pycocotools import mask as mask_utils

from detector.geometry.polygons import mask_to_polygons, polygons_extent


def _shapes_mask() -> np.ndarray:
    mask = np.zeros((200, 300), np.uint8)
    cv2.circle(mask, (100, 100), 40, 1, -1)
    cv2.rectangle(mask, (180, 20), (260, 150), 1, -1)
    cv2.ellipse(mask, (60, 170), (30, 12), 20, 0, 360, 1, -1)
    return mask.astype(bool)


def _iou(polygons, mask) -> float:
    rle = mask_utils.merge(mask_utils.frPyObjects(polygons, *mask.shape))
    truth = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return float(mask_utils.iou([rle], [truth], [0])[0][0])


def test_disjoint_parts_become_one_polygon_each_and_keep_the_mask():
    mask = _shapes_mask()
    polygons = mask_to_polygons(mask, tolerance=1.0)
    assert len(polygons) == 3
    assert all(len(p) >= 6 and len(p) % 2 == 0 for p in polygons)
    assert _iou(polygons, mask) >= 0.99
    # largest part (the rectangle) first
    assert polygons_extent(polygons[:1]) == (180.0, 20.0, 261.0, 151.0)  # pixel outline


def test_tolerance_trades_vertices_for_fidelity():
    mask = _shapes_mask()
    fine = mask_to_polygons(mask, tolerance=0.5)
    coarse = mask_to_polygons(mask, tolerance=4.0)
    assert sum(map(len, coarse)) < sum(map(len, fine))
    assert _iou(fine, mask) > _iou(coarse, mask) >= 0.85


def test_tiny_specks_are_dropped_and_empty_masks_give_nothing():
    mask = np.zeros((50, 50), bool)
    assert mask_to_polygons(mask) == []
    mask[10, 10] = True
    assert mask_to_polygons(mask, min_area=4.0) == []
    assert len(mask_to_polygons(mask, min_area=0.0)) == 1
    assert polygons_extent([]) is None


def test_vertex_edits_return_new_polygons():
    from detector.geometry.polygons import (
        insert_vertex,
        move_vertex,
        nearest_edge,
        nearest_vertex,
        remove_vertex,
    )

    square = [[0.0, 0.0, 10.0, 0.0, 10.0, 10.0, 0.0, 10.0]]
    assert nearest_vertex(square, 9.0, 1.0, 2.0) == (0, 1)
    assert nearest_vertex(square, 5.0, 5.0, 2.0) is None
    assert nearest_edge(square, 5.0, 10.5, 1.0) == (0, 2, 5.0, 10.0)
    moved = move_vertex(square, 0, 2, 12.0, 13.0)
    assert moved[0][4:6] == [12.0, 13.0] and square[0][4:6] == [10.0, 10.0]
    inserted = insert_vertex(square, 0, 3, 0.0, 5.0)
    assert inserted[0][-2:] == [0.0, 5.0] and len(inserted[0]) == 10
    assert inserted[0][:8] == square[0]
    triangle = remove_vertex(square, 0, 0)
    assert triangle == [[10.0, 0.0, 10.0, 10.0, 0.0, 10.0]]
    assert remove_vertex(triangle, 0, 0) == []
