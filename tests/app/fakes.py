"""Stand-ins shared by the GUI tests: a model that is never run and its precomputed output."""

from __future__ import annotations

import numpy as np

from app.evaluate.inputs import CachedDetections

SHAPE_NAMES = ["__background__", "circle", "square", "triangle", "star", "hexagon"]


class FakeModel:
    """Enough of a DetModel for the cache key and the label mapping (never run here)."""

    architecture = "fake"
    source = "precomputed"
    trained = True
    settings = {"box_score_thresh": 0.05}
    categories = SHAPE_NAMES
    device = "cpu"

    def module(self, _images):  # pragma: no cover - the test fails if it is ever called
        raise AssertionError("the model ran although every image was cached")


def fake_detections(dataset, seed: int = 0) -> dict[int, CachedDetections]:
    """Per image: its ground truth jittered, some dropped, some mislabelled, some invented."""
    rng = np.random.default_rng(seed)
    out = {}
    for image_id in sorted(dataset.images):
        boxes, labels, scores = [], [], []
        for obj in dataset.objects_in(image_id):
            if rng.random() < 0.15:
                continue  # a miss
            box = np.array(obj.box) + rng.normal(0, 2.0, 4)
            label = obj.category_id if rng.random() > 0.1 else rng.integers(1, 6)
            boxes.append(box)
            labels.append(label)
            scores.append(rng.uniform(0.3, 1.0))
        for _ in range(rng.integers(0, 3)):  # invented objects
            x, y = rng.uniform(0, 200, 2)
            boxes.append([x, y, x + 30, y + 30])
            labels.append(rng.integers(1, 6))
            scores.append(rng.uniform(0.05, 0.9))
        order = np.argsort(-np.array(scores))
        out[image_id] = CachedDetections(
            np.array(boxes, np.float32).reshape(-1, 4)[order],
            np.array(labels, np.int64)[order],
            np.array(scores, np.float32)[order],
        )
    return out
