# Temporary copy of detector/trace/why.py from branch i16-engine (app/inspect/why.py moved
# into the engine). Once that branch is in main, import detector.trace.why instead.
"""Why? Trace a detection back through the pipeline, or find where a missed object was lost.

Everything is in the model's resized frame (convert ground truth with
``trace.input.boxes_to_resized`` first). A ground-truth box counts as found when a final
detection of its class overlaps it with IoU >= ``MATCH_IOU``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from detector.geometry.boxes import box_iou

MATCH_IOU = 0.5


@dataclass
class DetectionWhy:
    """detection: index in the final detections. proposal / anchor: indices into the RPN
    proposals and the flat anchors; anchor_location: (level, y, x, k). step: the NMS step
    (0-based, in its class) that kept it; suppressed / suppressed_iou: what that step removed
    (indices into the over-threshold arrays) and their IoU."""

    detection: int
    label: int
    score: float
    proposal: int
    anchor: int
    anchor_location: tuple[int, int, int, int]
    step: int
    suppressed: np.ndarray
    suppressed_iou: np.ndarray


@dataclass
class MissWhy:
    """Where a ground-truth box was lost. stage: "found", "anchors", "rpn_score", "rpn_nms",
    "rpn_top_n", "low_score", "wrong_class", "box_nms" or "detections_per_img". reason: one
    sentence for the user. numbers: the figures behind it (name -> value)."""

    stage: str
    reason: str
    numbers: dict[str, float] = field(default_factory=dict)
    proposal: int = -1  # the best proposal, when one exists
    suppressor_over: int = -1  # the box that suppressed it in the box NMS


def explain_detection(trace, detection: int) -> DetectionWhy:
    chain, roi = trace.provenance, trace.roi
    over = int(roi.detection_over[detection])
    position = int(np.nonzero(roi.nms_input == over)[0][0])
    nms = roi.nms
    label = int(chain.label[detection])
    keep_classes = roi.over_class[roi.nms_input[nms.keep]]
    order = int(np.nonzero(nms.keep == position)[0][0])
    step = int((keep_classes[:order] == label).sum())
    victims = np.nonzero(nms.suppressed_by == position)[0]
    anchor = int(chain.anchor[detection])
    return DetectionWhy(
        detection,
        label,
        float(roi.over_scores[over]),
        int(chain.proposal[detection]),
        anchor,
        tuple(int(v) for v in trace.anchors.locations[anchor]),
        step,
        roi.nms_input[victims],
        nms.suppress_iou[victims],
    )


def explain_missed(trace, gt_box_resized: np.ndarray, gt_label: int) -> MissWhy:
    """Walk the pipeline in order and report the first stage where ``gt_box`` was lost."""
    gt = np.asarray(gt_box_resized, np.float32).reshape(1, 4)
    rpn = trace.rpn
    anchor_iou = box_iou(gt, trace.anchors.anchors_resized)[0]
    numbers = {"best anchor IoU": float(anchor_iou.max(initial=0.0))}
    if numbers["best anchor IoU"] < 0.3:
        return MissWhy(
            "anchors",
            "No anchor overlaps it enough (best IoU < 0.3): the anchor "
            "sizes / ratios do not fit this object.",
            numbers,
        )
    topk_iou = box_iou(gt, rpn.topk_boxes_resized)[0]
    numbers["best pre-NMS candidate IoU"] = float(topk_iou.max(initial=0.0))
    candidates = np.nonzero(topk_iou >= MATCH_IOU)[0]
    if len(candidates) == 0:
        return MissWhy(
            "rpn_score",
            "The RPN never proposed it: no anchor near it scored high "
            "enough objectness to reach the per-level top-k.",
            numbers,
        )
    proposal_iou = box_iou(gt, rpn.proposals_resized)[0]
    numbers["best proposal IoU"] = float(proposal_iou.max(initial=0.0))
    if numbers["best proposal IoU"] < MATCH_IOU:
        return _lost_in_rpn(trace, candidates, topk_iou, numbers)
    return _lost_in_head(trace, gt, gt_label, proposal_iou, numbers)


def _lost_in_rpn(trace, candidates: np.ndarray, topk_iou: np.ndarray, numbers) -> MissWhy:
    rpn = trace.rpn
    best = int(candidates[np.argmax(topk_iou[candidates])])
    position = np.nonzero(rpn.nms_input == best)[0]
    if len(position) == 0:
        return MissWhy(
            "rpn_score",
            "Its candidates were removed before the RPN NMS (too "
            "small or under the RPN score threshold).",
            numbers,
        )
    suppressor = int(rpn.nms.suppressed_by[position[0]])
    if suppressor >= 0:
        numbers["IoU with suppressor"] = float(rpn.nms.suppress_iou[position[0]])
        numbers["suppressor objectness"] = float(rpn.topk_scores[rpn.nms_input[suppressor]])
        return MissWhy(
            "rpn_nms",
            "Its best candidate was suppressed by the RPN NMS (a "
            "higher-objectness box overlapped it more than the RPN NMS IoU).",
            numbers,
        )
    rank = int(np.nonzero(rpn.nms_keep == position[0])[0][0])
    numbers["rank after RPN NMS"] = float(rank)
    numbers["RPN top-N"] = float(rpn.post_nms_top_n)
    return MissWhy(
        "rpn_top_n",
        f"It survived the RPN NMS at rank {rank} but only the top "
        f"{rpn.post_nms_top_n} proposals go on to the box head.",
        numbers,
    )


def _lost_in_head(
    trace, gt: np.ndarray, gt_label: int, proposal_iou: np.ndarray, numbers
) -> MissWhy:
    roi = trace.roi
    near = np.nonzero(proposal_iou >= MATCH_IOU)[0]
    probs = roi.class_probs[near]
    best_local = int(np.argmax(probs[:, gt_label])) if gt_label < probs.shape[1] else 0
    proposal = int(near[best_local])
    numbers["best class probability"] = float(roi.class_probs[proposal, gt_label])
    numbers["score threshold"] = float(roi.score_thresh)
    over = np.nonzero((roi.over_proposal == proposal) & (roi.over_class == gt_label))[0]
    if len(over) == 0:
        top = int(np.argmax(roi.class_probs[proposal]))
        numbers["top class probability"] = float(roi.class_probs[proposal, top])
        if top not in (gt_label, 0):
            return MissWhy(
                "wrong_class",
                f"The box head called its best proposal class {top} instead.",
                numbers,
                proposal,
            )
        return MissWhy(
            "low_score",
            "Its proposals reached the box head but the class "
            "probability stayed under the score threshold.",
            numbers,
            proposal,
        )
    return _lost_in_nms(trace, gt, int(over[0]), numbers, proposal)


def _lost_in_nms(trace, gt: np.ndarray, over: int, numbers, proposal: int) -> MissWhy:
    roi = trace.roi
    numbers["refined box IoU"] = float(box_iou(gt, roi.over_boxes_resized[over : over + 1])[0, 0])
    position = np.nonzero(roi.nms_input == over)[0]
    if len(position) == 0:
        return MissWhy(
            "low_score", "Its refined box was degenerate and removed.", numbers, proposal
        )
    suppressor = int(roi.nms.suppressed_by[position[0]])
    if suppressor >= 0:
        suppressor_over = int(roi.nms_input[suppressor])
        numbers["IoU with suppressor"] = float(roi.nms.suppress_iou[position[0]])
        numbers["suppressor score"] = float(roi.over_scores[suppressor_over])
        return MissWhy(
            "box_nms",
            "Suppressed by NMS: a higher-scoring box of the same class "
            "overlapped it more than the NMS IoU.",
            numbers,
            proposal,
            suppressor_over,
        )
    if over not in set(roi.detection_over.tolist()):
        return MissWhy(
            "detections_per_img",
            "Kept by NMS but cut by the detections-per-image limit.",
            numbers,
            proposal,
        )
    return MissWhy(
        "found", "Detected, but its refined box is off (IoU below 0.5).", numbers, proposal
    )


def missed_ground_truth(trace, gt_boxes_resized: np.ndarray, gt_labels: np.ndarray) -> np.ndarray:
    """bool[G]: ground-truth boxes with no final detection of their class at IoU >= 0.5."""
    boxes = trace.provenance.boxes_resized
    if len(gt_boxes_resized) == 0:
        return np.zeros(0, bool)
    if len(boxes) == 0:
        return np.ones(len(gt_boxes_resized), bool)
    iou = box_iou(np.asarray(gt_boxes_resized, np.float32), boxes)
    same_class = np.asarray(gt_labels)[:, None] == trace.provenance.label[None, :]
    return ~((iou >= MATCH_IOU) & same_class).any(axis=1)
