"""The pipeline funnel: for every ground-truth object, the first stage where it was lost.

Stages follow Inspect's Why? (``explain_missed``): ``anchors`` (best anchor IoU < 0.3),
``rpn_score``, ``rpn_top_n``, ``rpn_nms``, ``low_score``, ``wrong_class``, ``box_nms``,
``detections_per_img``; ``localization`` is Why?'s "detected, but its refined box is off"
(kept to the end with IoU < 0.5); ``found``: a final detection of its class at IoU >= 0.5.
Crowd objects are left out, as are objects whose category the model does not know.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.diagnosis._why import explain_missed, missed_ground_truth
from detector.geometry.boxes import box_iou

STAGES = (
    "anchors",
    "rpn_score",
    "rpn_top_n",
    "rpn_nms",
    "low_score",
    "wrong_class",
    "box_nms",
    "detections_per_img",
    "localization",
    "found",
)
STAGE_INDEX = {name: i for i, name in enumerate(STAGES)}
SIZE_RANGES = {"small": (0.0, 32.0**2), "medium": (32.0**2, 96.0**2), "large": (96.0**2, np.inf)}


def lost_stages(
    trace, gt_boxes_image: np.ndarray, gt_labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(stage int8[G] index into STAGES, best anchor IoU float32[G]) for one traced image.

    gt_boxes_image (float[G, 4]) xyxy original-image pixels; gt_labels (int[G]) model labels.
    """
    boxes = trace.input.boxes_to_resized(np.asarray(gt_boxes_image, np.float32).reshape(-1, 4))
    labels = np.asarray(gt_labels, np.int64).reshape(-1)
    stages = np.full(len(labels), STAGE_INDEX["found"], np.int8)
    if len(labels) == 0:
        return stages, np.zeros(0, np.float32)
    anchors = np.asarray(trace.anchors.anchors_resized, np.float32)
    best_anchor = box_iou(boxes, anchors).max(axis=1) if len(anchors) else np.zeros(len(labels))
    missed = missed_ground_truth(trace, boxes, labels)
    for i in np.flatnonzero(missed):
        stage = explain_missed(trace, boxes[i], int(labels[i])).stage
        stages[i] = STAGE_INDEX["localization" if stage == "found" else stage]
    return stages, best_anchor.astype(np.float32)


@dataclass(kw_only=True)
class FunnelResult:
    """One row per diagnosed ground-truth object.

    image_ids, object_ids (int64[G]): where it is (object id: the annotation id);
    categories (int64[G]) dataset category ids; areas (float64[G]) box area in image pixels;
    stages (int8[G]) index into STAGES; best_anchor_iou (float32[G]); category_names;
    proposal_iou (float32[G, 3]) best IoU with the top 100 / 300 / 1000 RPN proposals;
    wh_resized (float32[G, 2]) width and height in the model's input frame.
    """

    image_ids: np.ndarray
    object_ids: np.ndarray
    categories: np.ndarray
    areas: np.ndarray
    stages: np.ndarray
    best_anchor_iou: np.ndarray
    category_names: dict[int, str]
    proposal_iou: np.ndarray | None = None
    wh_resized: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = self.stages.size
        if self.proposal_iou is None:
            self.proposal_iou = np.zeros((n, 3), np.float32)
        if self.wh_resized is None:
            self.wh_resized = np.zeros((n, 2), np.float32)

    @classmethod
    def concatenate(cls, parts: list[FunnelResult], names: dict[int, str]) -> FunnelResult:
        def cat(name, dtype, width=None):
            arrays = [getattr(p, name) for p in parts]
            if arrays:
                return np.concatenate(arrays).astype(dtype)
            return np.zeros(0 if width is None else (0, width), dtype)

        return cls(
            image_ids=cat("image_ids", np.int64),
            object_ids=cat("object_ids", np.int64),
            categories=cat("categories", np.int64),
            areas=cat("areas", np.float64),
            stages=cat("stages", np.int8),
            best_anchor_iou=cat("best_anchor_iou", np.float32),
            category_names=dict(names),
            proposal_iou=cat("proposal_iou", np.float32, 3),
            wh_resized=cat("wh_resized", np.float32, 2),
        )

    def __len__(self) -> int:
        return int(self.stages.size)

    def mask(self, category: int | None = None, size: str | None = None) -> np.ndarray:
        keep = np.ones(len(self), bool)
        if category is not None:
            keep &= self.categories == category
        if size is not None:
            lo, hi = SIZE_RANGES[size]
            keep &= (self.areas >= lo) & (self.areas < hi)
        return keep

    def counts(self, category: int | None = None, size: str | None = None) -> dict[str, int]:
        """stage -> how many objects were lost there (``found``: not lost), in STAGES order."""
        values = np.bincount(self.stages[self.mask(category, size)], minlength=len(STAGES))
        return {name: int(values[i]) for i, name in enumerate(STAGES)}

    def objects(
        self, stage: str, category: int | None = None, size: str | None = None
    ) -> list[tuple[int, int]]:
        """(image id, object id) of every object lost at ``stage``."""
        keep = self.mask(category, size) & (self.stages == STAGE_INDEX[stage])
        return list(zip(self.image_ids[keep].tolist(), self.object_ids[keep].tolist(), strict=True))

    def recall(self) -> float:
        return float((self.stages == STAGE_INDEX["found"]).mean()) if len(self) else 0.0

    def proposal_recall(self, category: int | None = None, size: str | None = None) -> dict:
        from detector.diagnosis.anchors import recall_table

        return recall_table(self.proposal_iou[self.mask(category, size)])

    def to_json(self) -> dict:
        classes = sorted(set(self.categories.tolist()))
        return {
            "stages": list(STAGES),
            "total": self.counts(),
            "per_class": {
                self.category_names.get(c, str(c)): self.counts(category=c) for c in classes
            },
            "per_size": {size: self.counts(size=size) for size in SIZE_RANGES},
            "proposal_recall": {
                "total": self.proposal_recall(),
                "per_class": {
                    self.category_names.get(c, str(c)): self.proposal_recall(category=c)["at"]
                    for c in classes
                },
                "per_size": {size: self.proposal_recall(size=size)["at"] for size in SIZE_RANGES},
            },
            "best_anchor_iou_below": {
                "0.7": int((self.best_anchor_iou < 0.7).sum()),
                "0.3": int((self.best_anchor_iou < 0.3).sum()),
            },
        }
