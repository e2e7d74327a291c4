"""Seeded random COCO ground truth + results for evaluation tests and the benchmark."""

from __future__ import annotations

import numpy as np


def random_coco(
    seed: int,
    num_images: int = 20,
    num_classes: int = 5,
    gt_per_image: float = 4,
    dt_per_image: float = 12,
    crowd_rate: float = 0.1,
    empty_rate: float = 0.1,
    tie_rate: float = 0.2,
    image_size: int = 300,
    extra_dt: int = 0,
) -> tuple[dict, list[dict]]:
    """A COCO dataset dict and results list with crowds, empty images, ties, duplicates.

    Detections are jittered copies of ground truths (sometimes the wrong class, sometimes
    duplicated) plus background boxes; ``extra_dt`` adds that many to the first image
    (to pass maxDets=100). The last category never has ground truth.
    """
    rng = np.random.default_rng(seed)
    categories = [{"id": c + 1, "name": f"class{c + 1}"} for c in range(num_classes)]
    images, annotations, results = [], [], []
    for image_id in range(1, num_images + 1):
        images.append(
            {
                "id": image_id * 3,
                "file_name": f"img{image_id}.png",
                "width": image_size,
                "height": image_size,
            }
        )
        gts = (
            [] if rng.random() < empty_rate else _boxes(rng, rng.poisson(gt_per_image), image_size)
        )
        for box in gts:
            crowd = int(rng.random() < crowd_rate)
            label = int(rng.integers(1, max(num_classes, 2)))
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id * 3,
                    "category_id": label,
                    "bbox": box,
                    "iscrowd": crowd,
                    "area": float(box[2] * box[3] * rng.uniform(0.6, 1.0)),
                }
            )
            for _ in range(rng.poisson(1.5)):
                wrong = rng.random() < 0.15
                results.append(
                    _det(
                        rng,
                        image_id * 3,
                        _jitter(rng, box),
                        int(rng.integers(1, num_classes + 1)) if wrong else label,
                    )
                )
        count = rng.poisson(dt_per_image) + (extra_dt if image_id == 1 else 0)
        for box in _boxes(rng, count, image_size):
            results.append(_det(rng, image_id * 3, box, int(rng.integers(1, num_classes + 1))))
    _add_ties(rng, results, tie_rate)
    rng.shuffle(results)
    return {"images": images, "annotations": annotations, "categories": categories}, results


def _boxes(rng, count: int, size: int) -> list[list[float]]:
    xy = rng.uniform(0, size * 0.8, (count, 2))
    wh = rng.uniform(4, size * 0.5, (count, 2)) * rng.choice([0.2, 1.0], (count, 1))
    return np.round(np.concatenate([xy, wh], 1), 2).tolist()


def _jitter(rng, box: list[float]) -> list[float]:
    x, y, w, h = box
    dx, dy, dw, dh = rng.normal(0, 0.12, 4)
    return [
        round(x + dx * w, 2),
        round(y + dy * h, 2),
        round(w * (1 + dw), 2),
        round(h * (1 + dh), 2),
    ]


def _det(rng, image_id: int, box: list[float], label: int) -> dict:
    return {"image_id": image_id, "category_id": label, "bbox": box, "score": float(rng.random())}


def _add_ties(rng, results: list[dict], rate: float) -> None:
    quantized = rng.random(len(results)) < rate
    for det, q in zip(results, quantized, strict=True):
        if q:
            det["score"] = round(det["score"], 1)
    for det in results[: len(results) // 20]:  # exact duplicates
        results.append(dict(det))
