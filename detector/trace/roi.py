"""The RoI head, step by step: pooling level, class probabilities, per-class boxes, NMS.

``run_box_head`` runs ``box_roi_pool -> box_head -> box_predictor`` exactly as
``RoIHeads.forward`` does; ``postprocess`` is ``RoIHeads.postprocess_detections`` unrolled
(softmax, decode, clip, drop background, score threshold, small-box removal, batched NMS,
top detections) with every intermediate recorded. The thresholds are arguments, not read
from the module, so ``Trace.rerun`` can change them without touching the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.ops import boxes as box_ops

from detector.geometry.nms import NmsTrace, batched_nms_trace
from detector.trace.rpn import to_numpy


@dataclass(kw_only=True)
class BoxHeadOutput:
    """Private: what the box head produced for P proposals (model device), for reruns."""

    proposals: torch.Tensor
    class_logits: torch.Tensor
    box_regression: torch.Tensor
    pool_levels: torch.Tensor
    derived: dict = field(default_factory=dict)

    def scored(self, roi_heads, image_size) -> dict:
        """Softmax, per-class decode and clip (threshold-independent), computed once and
        shared by every rerun, with their numpy copies for the RoiStage."""
        if not self.derived:
            num_classes = self.class_logits.shape[-1]
            pred_boxes = roi_heads.box_coder.decode(self.box_regression, [self.proposals])
            pred_scores = F.softmax(self.class_logits, -1)
            boxes = box_ops.clip_boxes_to_image(pred_boxes, image_size)
            labels = torch.arange(num_classes, device=boxes.device).view(1, -1)
            labels = labels.expand_as(pred_scores)
            self.derived.update(
                flat_boxes=boxes[:, 1:].reshape(-1, 4),
                flat_scores=pred_scores[:, 1:].reshape(-1),
                flat_labels=labels[:, 1:].reshape(-1),
                numpy=dict(
                    proposals_resized=to_numpy(self.proposals),
                    proposal_pool_level=to_numpy(self.pool_levels),
                    class_logits=to_numpy(self.class_logits),
                    class_probs=to_numpy(pred_scores),
                    box_regression=to_numpy(self.box_regression).reshape(-1, num_classes, 4),
                    boxes_per_class_resized=to_numpy(boxes),
                ),
            )
        return self.derived


@dataclass(kw_only=True)
class RoiStage:
    """What the RoI head did (P proposals, C classes incl. background, M over the threshold).

    proposals_resized (float32[P, 4]): its input boxes. proposal_pool_level (int64[P]): the FPN
    level (index into ``pool_featmap_names``) each was RoIAligned from (torchvision's
    LevelMapper, ``floor(4 + log2(sqrt(area) / 224))`` clamped). pool_scales: spatial scale
    per level; pool_output_size (h, w); pool_sampling_ratio: RoIAlign's samples per bin side
    (aligned=False in torchvision's MultiScaleRoIAlign).
    class_logits (float32[P, C]); class_probs (float32[P, C]): softmax.
    box_regression (float32[P, C, 4]): the predicted (tx, ty, tw, th) per class, as the
    network outputs them (divide by ``box_coder_weights`` for the lecture's transform).
    boxes_per_class_resized (float32[P, C, 4]): each proposal decoded with each class's
    transform and clipped to the image.
    over_proposal, over_class (int64[M]), over_scores (float32[M]), over_boxes_resized
    (float32[M, 4]): the (proposal, class) pairs with probability > ``score_thresh``.
    removed_small (bool[M]): dropped as narrower/shorter than 0.01 px.
    nms_input (int64[N]): indices into the over-threshold arrays that entered the NMS.
    nms_keep (int64[K]): NMS output as indices into ``nms_input``, before the top-D cut.
    detection_over (int64[D]): each final detection as an index into the over arrays.
    ``nms`` (NmsTrace over the N inputs, groups = class) is computed on first access.
    """

    proposals_resized: np.ndarray
    proposal_pool_level: np.ndarray
    pool_featmap_names: list[str]
    pool_scales: list[float]
    pool_output_size: tuple[int, int]
    pool_sampling_ratio: int
    class_logits: np.ndarray
    class_probs: np.ndarray
    box_regression: np.ndarray
    box_coder_weights: tuple[float, float, float, float]
    boxes_per_class_resized: np.ndarray
    over_proposal: np.ndarray
    over_class: np.ndarray
    over_scores: np.ndarray
    over_boxes_resized: np.ndarray
    removed_small: np.ndarray
    nms_input: np.ndarray
    nms_keep: np.ndarray
    detection_over: np.ndarray
    score_thresh: float
    nms_thresh: float
    detections_per_img: int
    _nms_inputs: tuple = field(repr=False, default=())

    @cached_property
    def nms(self) -> NmsTrace:
        """Step-by-step record of the per-class NMS (indices into ``nms_input``)."""
        trace = batched_nms_trace(*self._nms_inputs, self.nms_thresh)
        trace.matches_model = bool(np.array_equal(trace.keep, self.nms_keep))
        return trace


def run_box_head(roi_heads, features: dict, proposals: torch.Tensor, image_sizes) -> BoxHeadOutput:
    """``box_roi_pool -> box_head -> box_predictor`` on one image's proposals."""
    box_features = roi_heads.box_roi_pool(features, [proposals], image_sizes)
    box_features = roi_heads.box_head(box_features)
    class_logits, box_regression = roi_heads.box_predictor(box_features)
    return BoxHeadOutput(
        proposals=proposals,
        class_logits=class_logits,
        box_regression=box_regression,
        pool_levels=pool_levels(roi_heads.box_roi_pool, proposals),
    )


def pool_levels(pooler, boxes: torch.Tensor) -> torch.Tensor:
    """The level index MultiScaleRoIAlign pools each box from (LevelMapper)."""
    mapper = getattr(pooler, "map_levels", None)
    if mapper is None or len(getattr(pooler, "featmap_names", [])) <= 1:
        return torch.zeros(boxes.shape[0], dtype=torch.int64, device=boxes.device)
    return mapper([boxes])


def postprocess(
    roi_heads,
    head: BoxHeadOutput,
    image_size,
    score_thresh: float,
    nms_thresh: float,
    detections_per_img: int,
) -> tuple[RoiStage, dict]:
    """``postprocess_detections`` for one image, recorded. Returns the stage and the result
    dict (boxes, scores, labels tensors) that ``RoIHeads.forward`` would build."""
    num_classes = head.class_logits.shape[-1]
    derived = head.scored(roi_heads, image_size)
    flat_boxes, flat_scores = derived["flat_boxes"], derived["flat_scores"]
    flat_labels = derived["flat_labels"]
    over = torch.where(flat_scores > score_thresh)[0]
    over_boxes, over_scores, over_labels = flat_boxes[over], flat_scores[over], flat_labels[over]
    keep_small = box_ops.remove_small_boxes(over_boxes, min_size=1e-2)
    nms_boxes, nms_scores = over_boxes[keep_small], over_scores[keep_small]
    nms_labels = over_labels[keep_small]
    keep = box_ops.batched_nms(nms_boxes, nms_scores, nms_labels, nms_thresh)
    final = keep[:detections_per_img]
    result = {"boxes": nms_boxes[final], "labels": nms_labels[final], "scores": nms_scores[final]}
    removed_small = np.ones(over.shape[0], dtype=bool)
    removed_small[to_numpy(keep_small)] = False
    over_np = to_numpy(over)
    pooler = roi_heads.box_roi_pool
    stage = RoiStage(
        **derived["numpy"],
        pool_featmap_names=list(getattr(pooler, "featmap_names", [])),
        pool_scales=[float(s) for s in (getattr(pooler, "scales", None) or [])],
        pool_output_size=tuple(int(s) for s in getattr(pooler, "output_size", (0, 0))),
        pool_sampling_ratio=int(getattr(pooler, "sampling_ratio", 0)),
        box_coder_weights=tuple(float(w) for w in roi_heads.box_coder.weights),
        over_proposal=over_np // (num_classes - 1),
        over_class=over_np % (num_classes - 1) + 1,
        over_scores=to_numpy(over_scores),
        over_boxes_resized=to_numpy(over_boxes),
        removed_small=removed_small,
        nms_input=to_numpy(keep_small),
        nms_keep=to_numpy(keep),
        detection_over=to_numpy(keep_small[final]),
        score_thresh=float(score_thresh),
        nms_thresh=float(nms_thresh),
        detections_per_img=int(detections_per_img),
        _nms_inputs=(nms_boxes, nms_scores, nms_labels),
    )
    return stage, result


@dataclass(kw_only=True)
class Provenance:
    """Where each of the D final detections came from, and the two transforms that made it.

    proposal (int64[D]): index into the RPN proposals / RoI-head input. anchor (int64[D]):
    the anchor that proposal was decoded from. label (int64[D]): the class.
    anchor_boxes_resized, proposal_boxes_resized, boxes_resized (float32[D, 4]): the three
    boxes of the chain. anchor_to_proposal (float32[D, 4]): the RPN's (tx, ty, tw, th) (weights
    1; the proposal is its decoded box clipped to the image). proposal_to_box (float32[D, 4]):
    the box head's transform for the class, divided by the BoxCoder weights (the lecture's
    t; decode then clip gives the box).
    """

    proposal: np.ndarray
    anchor: np.ndarray
    label: np.ndarray
    anchor_boxes_resized: np.ndarray
    proposal_boxes_resized: np.ndarray
    boxes_resized: np.ndarray
    anchor_to_proposal: np.ndarray
    proposal_to_box: np.ndarray


def provenance(
    roi: RoiStage, proposal_anchor: np.ndarray, anchors_resized: np.ndarray, rpn_deltas: np.ndarray
) -> Provenance:
    """Trace each final detection back through its proposal to its anchor."""
    proposal = roi.over_proposal[roi.detection_over]
    label = roi.over_class[roi.detection_over]
    anchor = proposal_anchor[proposal]
    weights = np.asarray(roi.box_coder_weights, dtype=np.float32)
    return Provenance(
        proposal=proposal,
        anchor=anchor,
        label=label,
        anchor_boxes_resized=anchors_resized[anchor],
        proposal_boxes_resized=roi.proposals_resized[proposal],
        boxes_resized=roi.over_boxes_resized[roi.detection_over],
        anchor_to_proposal=rpn_deltas[anchor],
        proposal_to_box=roi.box_regression[proposal, label] / weights,
    )
