"""The current image's identity and ground truth, read from the main window's dataset."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class GroundTruth:
    """boxes_image (float32[G, 4], xyxy original pixels), labels (int64[G]: model class
    indices), names (category names as annotated)."""

    boxes_image: np.ndarray
    labels: np.ndarray
    names: list[str]

    def __len__(self) -> int:
        return len(self.labels)


EMPTY = GroundTruth(np.zeros((0, 4), np.float32), np.zeros(0, np.int64), [])


class GroundTruthSource:
    def __init__(self, window) -> None:
        self._window = window

    def image_key(self) -> str | None:
        """Identifies the shown image for the trace cache (its file)."""
        path = self._window.current_path()
        return None if path is None else str(path)

    def current(self, categories: list[str]) -> GroundTruth:
        """Ground truth of the shown image, labels mapped to the model's ``categories``
        (by name, else by category id)."""
        dataset = self._window.dataset
        image_id = self._window.current_image_id
        if dataset is None or image_id is None:
            return EMPTY
        objects = [o for o in dataset.objects_in(image_id) if not o.iscrowd]
        names = [dataset.categories[o.category_id].name for o in objects]
        labels = [
            _model_label(name, o.category_id, categories)
            for name, o in zip(names, objects, strict=True)
        ]
        boxes = np.array([o.box for o in objects], np.float32).reshape(-1, 4)
        return GroundTruth(boxes, np.array(labels, np.int64), names)


def _model_label(name: str, category_id: int, categories: list[str]) -> int:
    if name in categories:
        return categories.index(name)
    return category_id if 0 < category_id < len(categories) else 0
