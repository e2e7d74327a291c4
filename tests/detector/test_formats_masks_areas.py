"""Mask areas for images with many masks (pycocotools' area() overflows past 255 per call)."""

from __future__ import annotations

from pycocotools import mask as mask_utils

from detector.data.dataset import Annotation, ImageRecord
from detector.data.masks import image_areas, rle_areas
from detector.evaluation.coco_input import _mask_areas


def _square(x: int, y: int, side: int = 4) -> list[float]:
    return [x, y, x + side, y, x + side, y + side, x, y + side]


def test_rle_areas_handles_more_than_255_masks():
    rles = mask_utils.frPyObjects([_square(i % 50 * 6, i // 50 * 6) for i in range(600)], 400, 400)
    areas = rle_areas(rles)
    assert len(areas) == 600
    assert areas == [float(mask_utils.area(rle)) for rle in rles]


def test_image_areas_with_300_polygon_objects():
    image = ImageRecord(id=1, file_name="a.png", width=400, height=400)
    objects = [
        Annotation(
            id=i + 1,
            image_id=1,
            category_id=1,
            box=(i % 50 * 6.0, i // 50 * 6.0, i % 50 * 6.0 + 4, i // 50 * 6.0 + 4),
            mask=[_square(i % 50 * 6, i // 50 * 6)],
        )
        for i in range(300)
    ]
    areas = image_areas(objects, image, {})
    expected = mask_utils.area(mask_utils.frPyObjects([_square(0, 0)], 400, 400))[0]
    assert len(areas) == 300 and all(a == expected for a in areas)


def test_evaluation_mask_areas_with_300_masks():
    rles = mask_utils.frPyObjects([_square(i % 50 * 6, i // 50 * 6) for i in range(300)], 400, 400)
    masks = [{"size": r["size"], "counts": r["counts"].decode("ascii")} for r in rles]
    assert _mask_areas(masks).tolist() == rle_areas(rles)
