"""Training data: a COCO folder on disk, or an endless stream of synthetic shapes.

Both hand the training loop ``(image uint8[H, W, 3], target)`` pairs, where ``target`` is
torchvision's training contract: ``boxes`` (FloatTensor[N, 4] in [x1, y1, x2, y2]),
``labels`` (Int64Tensor[N], 1..K) and, for mask models, ``masks`` (UInt8Tensor[N, H, W]).

The COCO reader uses ``json`` and ``pycocotools`` directly (it needs no annotation model):
category ids, in ascending order, map to labels 1..K; crowd regions are skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from detector.errors import DetScopeError
from detector.synthetic import SHAPE_NAMES, SynthConfig, make_sample


class TrainDataError(DetScopeError):
    """A training data set could not be read (missing folder, bad annotations.json)."""


Target = dict[str, torch.Tensor]


@dataclass
class CocoRecord:
    path: Path
    height: int
    width: int
    annotations: list[dict]


class CocoFolder:
    """A folder with ``annotations.json`` (COCO) and the images it names."""

    def __init__(self, folder: str | Path, annotation_file: str = "annotations.json") -> None:
        self.folder = Path(folder)
        path = self.folder / annotation_file
        if not path.is_file():
            raise TrainDataError(f"{self.folder}: no {annotation_file} (a COCO data set folder?)")
        try:
            coco = json.loads(path.read_text(encoding="utf-8"))
            categories = sorted(coco["categories"], key=lambda c: c["id"])
            images = coco["images"]
        except (ValueError, KeyError, TypeError) as exc:
            raise TrainDataError(f"{path}: not a COCO annotation file ({exc})") from None
        self.category_names = [str(c["name"]) for c in categories]
        self._label_of = {c["id"]: i + 1 for i, c in enumerate(categories)}
        by_image: dict[Any, list[dict]] = {}
        for ann in coco.get("annotations", []):
            by_image.setdefault(ann.get("image_id"), []).append(ann)
        self.records = [
            CocoRecord(
                self.folder / im["file_name"],
                int(im["height"]),
                int(im["width"]),
                by_image.get(im["id"], []),
            )
            for im in images
        ]
        if not self.records:
            raise TrainDataError(f"{path}: holds no images")

    def __len__(self) -> int:
        return len(self.records)

    def item(self, index: int, with_masks: bool) -> tuple[np.ndarray, Target]:
        from detector.imageio import read_image

        record = self.records[index]
        image = read_image(record.path)
        height, width = image.shape[:2]
        boxes, labels, masks = [], [], []
        for ann in record.annotations:
            if ann.get("iscrowd", 0) or ann.get("category_id") not in self._label_of:
                continue
            x, y, w, h = (float(v) for v in ann["bbox"])
            if w < 1 or h < 1:
                continue
            boxes.append([x, y, x + w, y + h])
            labels.append(self._label_of[ann["category_id"]])
            if with_masks:
                masks.append(_decode_segmentation(ann.get("segmentation"), height, width))
        return image, _target(boxes, labels, masks if with_masks else None, height, width)


def _decode_segmentation(segmentation: Any, height: int, width: int) -> np.ndarray:
    from pycocotools import mask as mask_utils

    if not segmentation:
        raise TrainDataError("a mask model needs a segmentation on every annotation")
    if isinstance(segmentation, list):  # polygons
        rle = mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width))
    elif isinstance(segmentation.get("counts"), list):  # uncompressed RLE
        rle = mask_utils.frPyObjects(segmentation, height, width)
    else:
        rle = dict(segmentation)
        if isinstance(rle["counts"], str):
            rle["counts"] = rle["counts"].encode("ascii")
    return mask_utils.decode(rle).astype(np.uint8)


def _target(boxes: list, labels: list, masks: list | None, height: int, width: int) -> Target:
    target = {
        "boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
        "labels": torch.tensor(labels, dtype=torch.int64),
    }
    if masks is not None:
        stacked = np.stack(masks) if masks else np.zeros((0, height, width), np.uint8)
        target["masks"] = torch.from_numpy(stacked.astype(np.uint8))
    return target


class SyntheticStream:
    """Image ``i`` of the stream is ``make_sample(seed, i, config)``: endless, reproducible."""

    category_names = list(SHAPE_NAMES)

    def __init__(self, seed: int, config: SynthConfig) -> None:
        self.seed = seed
        self.config = config

    def item(self, index: int, with_masks: bool) -> tuple[np.ndarray, Target]:
        sample = make_sample(self.seed, index, self.config)
        masks = list(sample.masks.astype(np.uint8)) if with_masks else None
        return sample.image, _target(
            sample.boxes.tolist(),
            sample.labels.tolist(),
            masks,
            self.config.height,
            self.config.width,
        )


def split_indices(count: int, val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """A seeded (train, held-out) split of ``range(count)``; at least one image each."""
    if count < 2:
        raise TrainDataError("a held-out split needs at least 2 images (or give --val DIR)")
    order = np.random.default_rng(seed).permutation(count)
    held = min(count - 1, max(1, round(count * val_fraction)))
    return sorted(order[held:].tolist()), sorted(order[:held].tolist())
