"""Training data: a COCO folder on disk, or an endless stream of synthetic shapes.

Both hand the training loop ``(image uint8[H, W, 3], target)`` pairs, where ``target`` is
torchvision's training contract: ``boxes`` (FloatTensor[N, 4] in [x1, y1, x2, y2]),
``labels`` (Int64Tensor[N], 1..K) and, for mask models, ``masks`` (UInt8Tensor[N, H, W]).

A COCO folder is read by the data layer (:func:`detector.formats.coco.load_coco`), so
training accepts what the rest of the program accepts and fails with the same
:class:`~detector.errors.AnnotationError` messages. The file's categories, in ascending id
order, map to labels 1..K. Not trained on: crowd regions, boxes under 1 px wide or high,
and objects whose category id is not in the file's ``categories``. Images without objects
are kept (they are negatives).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from detector.data.dataset import Annotation, Category, Dataset
from detector.errors import AnnotationError, DetScopeError
from detector.training.synthetic import SHAPE_NAMES, SynthConfig, make_sample


class TrainDataError(DetScopeError):
    """Training data cannot be used as asked (e.g. too few images for a held-out split)."""


Target = dict[str, torch.Tensor]


class CocoFolder:
    """An annotated dataset folder, in any layout ``detector.formats.layouts`` knows
    (``annotations.json``, Roboflow, CVAT, COCO, Label Studio, YOLO, VOC; ``split`` picks one
    of several), and the images it names, in file order."""

    def __init__(self, folder: str | Path, split: str | None = None) -> None:
        from detector.formats.layouts import detect_layout, open_split

        self.folder = Path(folder)
        layout = detect_layout(self.folder)
        if layout.kind == "images":
            raise AnnotationError(
                "no annotations found: expected annotations.json or an exported dataset "
                "(Roboflow / CVAT / COCO / Label Studio COCO, YOLO data.yaml, Pascal VOC)",
                file=self.folder,
            )
        self.dataset: Dataset = open_split(layout.split(split))
        self.path = self.dataset.annotation_path
        self.categories = sorted(_file_categories(self.dataset), key=lambda c: c.id)
        self.category_names = [c.name for c in self.categories]
        self._label_of = {c.id: i + 1 for i, c in enumerate(self.categories)}
        self.image_ids = list(self.dataset.images)
        self.has_masks = all(
            o.mask is not None
            for o in self.dataset.objects.values()
            if not o.iscrowd and o.category_id in self._label_of
        )

    def __len__(self) -> int:
        return len(self.image_ids)

    def item(self, index: int, with_masks: bool) -> tuple[np.ndarray, Target]:
        from detector.io.images import read_image

        image_id = self.image_ids[index]
        image = read_image(self.dataset.image_path(image_id))
        height, width = image.shape[:2]
        boxes, labels, masks = [], [], []
        for obj in self.dataset.objects_in(image_id):
            label = self._label_of.get(obj.category_id)
            if obj.iscrowd or label is None or obj.width < 1 or obj.height < 1:
                continue
            boxes.append(list(obj.box))
            labels.append(label)
            if with_masks:
                masks.append(self._binary_mask(obj, height, width))
        return image, _target(boxes, labels, masks if with_masks else None, height, width)

    def _binary_mask(self, obj: Annotation, height: int, width: int) -> np.ndarray:
        from detector.data.masks import binary_mask

        where = f"object {obj.id} in {self.dataset.images[obj.image_id].file_name}"
        if obj.mask is None:
            raise AnnotationError(
                "a mask model needs a segmentation on every annotation; this one has none "
                "(or one that is neither polygons nor RLE)",
                file=self.path,
                location=where,
            )
        binary = binary_mask(obj.mask, height, width)
        if binary.shape != (height, width):
            raise AnnotationError(
                f"the mask is {binary.shape[1]}x{binary.shape[0]} px, the image {width}x{height}",
                file=self.path,
                location=where,
            )
        return binary

    def coco_ground_truth(self, indices: list[int] | None = None) -> dict[str, Any]:
        """The images at ``indices`` (default all) as a COCO dict for COCOeval.

        Categories are the file's; every object of those images whose category is one of
        them is included (crowd regions as ``iscrowd`` 1, which COCOeval ignores). ``area``
        follows the data layer (the mask's pixels, else the box); each image carries its
        ``path``.
        """
        from detector.data.masks import image_areas

        picked = self.image_ids if indices is None else [self.image_ids[i] for i in indices]
        images, annotations = [], []
        for image_id in picked:
            record = self.dataset.images[image_id]
            images.append(
                {
                    "id": image_id,
                    "file_name": record.file_name,
                    "width": record.width,
                    "height": record.height,
                    "path": str(self.dataset.image_path(image_id)),
                }
            )
            objects = [
                o for o in self.dataset.objects_in(image_id) if o.category_id in self._label_of
            ]
            areas = image_areas(objects, record) if objects else []
            annotations += [_coco_annotation(o, a) for o, a in zip(objects, areas, strict=True)]
        categories = [{"id": c.id, "name": c.name} for c in self.categories]
        return {"images": images, "categories": categories, "annotations": annotations}


def _file_categories(dataset: Dataset) -> list[Category]:
    """The categories listed in the file, without those the loader invented.

    ``load_coco`` reads ``categories`` first, then adds an ``unknown-ID`` category (and one
    ``unknown_category`` issue without an object id) for each unlisted id an annotation
    uses; those come last and are not classes to train.
    """
    invented = sum(
        1 for i in dataset.issues if i.kind == "unknown_category" and i.object_id is None
    )
    listed = list(dataset.categories.values())
    return listed[: len(listed) - invented]


def _coco_annotation(obj: Annotation, area: float) -> dict[str, Any]:
    x1, y1, x2, y2 = obj.box
    return {
        "id": obj.id,
        "image_id": obj.image_id,
        "category_id": obj.category_id,
        "bbox": [x1, y1, x2 - x1, y2 - y1],
        "area": area,
        "iscrowd": int(obj.iscrowd),
        "segmentation": [] if obj.mask is None else obj.mask,
    }


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
