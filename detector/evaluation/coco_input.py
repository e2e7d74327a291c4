"""Build EvaluationInput from COCO JSON structures exactly as pycocotools reads them."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from detector.data.masks import _valid_rle, mask_to_rle, polygons_fit, rle_areas
from detector.evaluation.inputs import EvaluationInput, ImageInstances
from detector.evaluation.params import EvaluationError, IouType
from detector.io.limits import is_number, valid_image_size


def from_coco(gt: dict, dt: list[dict] | dict, iou_type: IouType = "bbox") -> EvaluationInput:
    """Ground truth from a COCO dataset dict; detections from a COCO results list.

    ``dt`` may also be a COCO dataset dict whose annotations carry ``score``: its images
    are matched to the ground truth by ``file_name`` and categories by name (else id).
    Like COCOeval: a ground truth is ignored when ``iscrowd``; also, like the VOC devkit,
    when it carries VOC's ``difficult: 1`` (a field pycocotools does not know: files without
    it evaluate exactly as COCOeval). Detections of categories or images outside the ground
    truth are refused (images) or dropped (categories).
    """
    _check_iou_type(iou_type)
    images, categories, gt_anns = _dataset_parts(gt, "ground truth")
    if isinstance(dt, dict):
        dt = _results_from_dataset(dt, images, categories)
    if not isinstance(dt, list) or not all(isinstance(a, dict) for a in dt):
        raise EvaluationError("detections must be a list of COCO result objects")
    sizes = {img_id: (img.get("height"), img.get("width")) for img_id, img in images.items()}
    gt_by_image = _group(gt_anns, images, "ground truth")
    dt_by_image = _group(dt, images, "detections", is_dt=True)
    gt_out = {i: _instances(gt_by_image.get(i, []), i, sizes, iou_type, None) for i in images}
    results_mode = _results_mode(dt)
    dt_out = {i: _instances(a, i, sizes, iou_type, results_mode) for i, a in dt_by_image.items()}
    names = {i: str(img.get("file_name", i)) for i, img in images.items()}
    return EvaluationInput(gt_out, dt_out, categories, names)


def _check_iou_type(iou_type: str) -> None:
    if iou_type not in ("bbox", "segm"):
        raise EvaluationError(f"iou_type must be 'bbox' or 'segm', not {iou_type!r}")


def _dataset_parts(data: dict, what: str) -> tuple[dict[int, dict], dict[int, str], list[dict]]:
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise EvaluationError(f"{what}: not a COCO dataset (no 'images' list)")
    if not isinstance(data.get("categories", []), list):
        raise EvaluationError(f"{what}: 'categories' must be a list")
    images, categories = {}, {}
    for index, img in enumerate(data["images"]):
        images[
            _id(img.get("id") if isinstance(img, dict) else None, f"{what}: images[{index}]")
        ] = img
    for index, cat in enumerate(data.get("categories", [])):
        where = f"{what}: categories[{index}]"
        categories[_id(cat.get("id") if isinstance(cat, dict) else None, where)] = _name(cat)
    annotations = data.get("annotations", [])
    if not isinstance(annotations, list):
        raise EvaluationError(f"{what}: 'annotations' must be a list")
    return images, categories, annotations


def _results_from_dataset(data: dict, images: dict, categories: dict[int, str]) -> list[dict]:
    """A DetScope dataset file with scores -> a results list on the ground truth's ids."""
    dt_images, dt_categories, annotations = _dataset_parts(data, "detections")
    by_name = {str(img.get("file_name")): img_id for img_id, img in images.items()}
    name_to_gt_cat = {name: cid for cid, name in categories.items()}
    use_names = bool(dt_categories) and all(n in name_to_gt_cat for n in dt_categories.values())
    results = []
    for ann in annotations:
        image = dt_images.get(ann.get("image_id"))
        gt_image = by_name.get(str(image.get("file_name"))) if image else None
        if gt_image is None:
            raise EvaluationError(
                f"detection on image {ann.get('image_id')!r}: no ground-truth "
                "image with that file_name"
            )
        if "score" not in ann:
            raise EvaluationError("detections dataset: every annotation needs a 'score'")
        cat = ann.get("category_id")
        if use_names and cat in dt_categories:
            cat = name_to_gt_cat[dt_categories[cat]]
        results.append({**ann, "image_id": gt_image, "category_id": cat})
    return results


def _id(value, where: str) -> int:
    """An id as pycocotools keeps it: an int (not bool, str or float) that fits int64."""
    if type(value) is not int or not -(2**63) <= value < 2**63:
        shown = "a number too large for 64 bits" if type(value) is int else _shown(value)
        raise EvaluationError(f"{where}: 'id' must be a 64-bit integer, got {shown}")
    return value


def _name(category: dict) -> str:
    name = category.get("name", category["id"])
    return name if isinstance(name, str) else _shown(name)


def _shown(value, limit: int = 40) -> str:
    """A short description of a bad value (never str() of a 5,000-digit int)."""
    if type(value) is int:
        return "a number too large for 64 bits"
    if isinstance(value, (dict, list)):
        return f"a {type(value).__name__}"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_fields(ann: dict, index: int, what: str, is_dt: bool) -> None:
    """Types pycocotools relies on, refused with a clear message where it would crash."""
    where = f"{what}: annotation {index}"
    for key in ("image_id", "category_id"):
        value = ann[key]
        if type(value) is not int or not -(2**63) <= value < 2**63:
            raise EvaluationError(f"{where}: '{key}' must be a 64-bit integer, got {_shown(value)}")
    if is_dt and not is_number(ann.get("score")):
        raise EvaluationError(
            f"{where}: 'score' must be a finite number, got {_shown(ann.get('score'))}"
        )
    bbox = ann.get("bbox")
    if (
        bbox is not None
        and bbox != []
        and not (isinstance(bbox, list) and len(bbox) == 4 and all(map(is_number, bbox)))
    ):
        raise EvaluationError(f"{where}: 'bbox' must be 4 finite numbers, got {_shown(bbox)}")
    segm = ann.get("segmentation")
    if isinstance(segm, dict) and not _valid_rle(segm):
        raise EvaluationError(f"{where}: 'segmentation' is not a valid RLE within the pixel budget")
    if "area" in ann and not is_number(ann["area"]):
        raise EvaluationError(f"{where}: 'area' must be a finite number, got {_shown(ann['area'])}")


def _group(
    anns: list[dict], images: dict, what: str, is_dt: bool = False
) -> dict[int, list[tuple[int, dict]]]:
    grouped: dict[int, list[tuple[int, dict]]] = defaultdict(list)
    for index, ann in enumerate(anns):
        if not isinstance(ann, dict) or "image_id" not in ann or "category_id" not in ann:
            raise EvaluationError(f"{what}: annotation {index} lacks image_id / category_id")
        _check_fields(ann, index, what, is_dt)
        if ann["image_id"] not in images:
            raise EvaluationError(
                f"{what}: annotation {index} is on unknown image {ann['image_id']!r}"
            )
        grouped[ann["image_id"]].append((index, ann))
    return grouped


def _results_mode(dt: list[dict]) -> str:
    """pycocotools' loadRes looks at the first result only: bbox wins if it is present."""
    if dt and "bbox" in dt[0] and dt[0]["bbox"] != []:
        return "bbox"
    return "segm"


def _instances(indexed, image_id, sizes, iou_type, results_mode) -> ImageInstances:
    is_dt = results_mode is not None
    anns = [ann for _, ann in indexed]
    try:
        masks = (
            [_rle(a, sizes[image_id], results_mode) for a in anns] if iou_type == "segm" else None
        )
        boxes = np.array(
            [_box(a, masks[i] if masks else None) for i, a in enumerate(anns)], dtype=np.float64
        ).reshape(-1, 4)
        if is_dt and results_mode == "bbox":
            areas = boxes[:, 2] * boxes[:, 3]
        elif is_dt:
            areas = _mask_areas(masks if masks is not None else [a["segmentation"] for a in anns])
        else:
            areas = [a["area"] if "area" in a else _fallback_area(a) for a in anns]
        return ImageInstances(
            boxes=boxes,
            labels=[a["category_id"] for a in anns],
            scores=[a["score"] for a in anns] if is_dt else None,
            areas=areas,
            iscrowd=None if is_dt else [bool(a.get("iscrowd", 0)) for a in anns],
            ignore=None if is_dt else [_difficult(a) for a in anns],
            ids=[i + 1 for i, _ in indexed] if is_dt else [a.get("id", 0) for a in anns],
            masks=masks,
        )
    except EvaluationError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as exc:
        what = "detection" if is_dt else "ground truth"
        raise EvaluationError(
            f"{what} on image {image_id}: malformed annotation ({exc!r})"
        ) from None


def _box(ann: dict, mask: dict | None) -> list[float]:
    if "bbox" in ann and len(ann["bbox"]) == 4:
        return [float(v) for v in ann["bbox"]]
    segm = ann.get("segmentation")
    if mask is None and isinstance(segm, dict):
        mask = mask_to_rle(segm, 0, 0)  # an RLE keeps its own size
    if mask is not None:
        from pycocotools import mask as mask_utils

        return [float(v) for v in mask_utils.toBbox(mask)]
    raise EvaluationError(f"annotation without a 4-number 'bbox': {ann.get('bbox')!r}")


def _rle(ann: dict, size: tuple, results_mode: str | None) -> dict:
    """COCO.annToRLE, including loadRes' box polygon for bbox results without a mask."""
    segm = ann.get("segmentation")
    if segm is None and results_mode == "bbox":
        x, y, w, h = ann["bbox"]
        segm = [[x, y, x, y + h, x + w, y + h, x + w, y]]
    if segm is None:
        raise EvaluationError("segm evaluation: an annotation has no 'segmentation'")
    height, width = size
    if isinstance(segm, list):
        if not valid_image_size(width, height):
            raise EvaluationError(
                "segm evaluation: polygon masks need a valid image height and width, "
                f"got {_shown(height)} x {_shown(width)}"
            )
        if not polygons_fit(segm, width, height):
            raise EvaluationError(
                "segm evaluation: a polygon is malformed or far outside its image"
            )
        return mask_to_rle(segm, height, width)
    if not isinstance(segm, dict) or not _valid_rle(segm):
        raise EvaluationError(
            "segm evaluation: a segmentation is not polygons or a valid RLE within the pixel budget"
        )
    return mask_to_rle(segm, height, width)


def _difficult(ann: dict) -> bool:
    value = ann.get("difficult", 0)
    return value.strip() in ("1", "true") if isinstance(value, str) else bool(value)


def _mask_areas(masks: list[dict]) -> np.ndarray:
    if not masks:
        return np.zeros(0)
    rles = [mask_to_rle(m, 0, 0) for m in masks]  # RLE dicts: each keeps its own size
    return np.asarray(rle_areas(rles), dtype=np.float64)


def _fallback_area(ann: dict) -> float:
    if "bbox" in ann and len(ann["bbox"]) == 4:
        return float(ann["bbox"][2]) * float(ann["bbox"][3])
    raise EvaluationError("ground truth without 'area' or 'bbox'")
