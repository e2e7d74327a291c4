"""Held-out evaluation for the training command: pycocotools' COCOeval, bbox and segm.

Kept apart from ``detector.evaluation`` (the program's own, incremental evaluator) so the
training loop reports the reference numbers from the reference implementation.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable

import numpy as np

from detector.inference.detections import Detections
from detector.models import DetModel

STAT_NAMES = (
    "AP",
    "AP50",
    "AP75",
    "APs",
    "APm",
    "APl",
    "AR1",
    "AR10",
    "AR100",
    "ARs",
    "ARm",
    "ARl",
)


def evaluate_coco(
    model: DetModel,
    ground_truth: dict,
    load_image: Callable[[dict], np.ndarray],
    *,
    batch_size: int = 4,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, float]:
    """Run ``model`` over the images of a COCO dict and score it with COCOeval.

    Model label ``k`` is the ``k``-th category of ``ground_truth`` by ascending id. Returns
    ``{"bbox_AP": ..., "bbox_AP50": ..., "segm_AP": ...}`` (segm for mask models only).
    """
    from detector.inference.run import detect

    category_ids = sorted(c["id"] for c in ground_truth["categories"])
    images = ground_truth["images"]
    results: list[dict] = []
    was_training = model.module.training
    model.module.eval()
    try:
        for start in range(0, len(images), batch_size):
            chunk = images[start : start + batch_size]
            outputs = detect(model, [load_image(info) for info in chunk])
            for info, found in zip(chunk, outputs, strict=True):
                results.extend(_to_results(info["id"], found, category_ids))
            if progress is not None:
                progress(min(start + batch_size, len(images)), len(images))
    finally:
        model.module.train(was_training)
    with_masks = all(a.get("segmentation") for a in ground_truth["annotations"])
    kinds = ["bbox", "segm"] if model.kind == "mask" and with_masks else ["bbox"]
    return {
        f"{kind}_{name}": value
        for kind in kinds
        for name, value in _cocoeval(ground_truth, results, kind).items()
    }


def _to_results(image_id: int, found: Detections, category_ids: list[int]) -> list[dict]:
    rows = []
    for i in range(len(found)):
        label = int(found.labels[i])
        if not 1 <= label <= len(category_ids):
            continue
        x1, y1, x2, y2 = (float(v) for v in found.boxes[i])
        row = {
            "image_id": image_id,
            "category_id": category_ids[label - 1],
            "bbox": [x1, y1, x2 - x1, y2 - y1],
            "score": float(found.scores[i]),
        }
        if found.has_masks:
            row["segmentation"] = found.mask_rle(i)
        rows.append(row)
    return rows


def _cocoeval(ground_truth: dict, results: list[dict], kind: str) -> dict[str, float]:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = _with_defaults(ground_truth)
        gt.createIndex()
        if not results:
            return dict.fromkeys(STAT_NAMES, 0.0)
        dt = gt.loadRes([dict(r) for r in results])
        evaluator = COCOeval(gt, dt, kind)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return {name: float(v) for name, v in zip(STAT_NAMES, evaluator.stats, strict=True)}


def _with_defaults(ground_truth: dict) -> dict:
    annotations = []
    for ann in ground_truth.get("annotations", []):
        ann = dict(ann)
        ann.setdefault("iscrowd", 0)
        ann.setdefault("area", float(ann["bbox"][2] * ann["bbox"][3]))
        annotations.append(ann)
    return {**ground_truth, "annotations": annotations}


def format_metrics(metrics: dict[str, float]) -> str:
    """One line: ``bbox AP 0.712 AP50 0.934 ... | segm AP ...``."""
    parts = []
    for kind in ("bbox", "segm"):
        names = [n for n in ("AP", "AP50", "AP75", "APs", "APm", "APl") if f"{kind}_{n}" in metrics]
        if names:
            parts.append(f"{kind} " + " ".join(f"{n} {metrics[f'{kind}_{n}']:.3f}" for n in names))
    return " | ".join(parts)
