"""The box head's post-processing redone in numpy from a Trace, for instant slider feedback.

``postprocess_preview`` is ``RoIHeads.postprocess_detections`` on the Trace's recorded class
probabilities and per-class boxes (softmax, decode and clip are already done there): score
threshold, small-box removal, per-class NMS (``detector.geometry.nms.batched_nms_trace``, identical to
torchvision's), top detections. It gives the same boxes, labels and scores as
``trace.rerun(score_thresh=..., nms_thresh=...)`` without running the mask branch, so a
slider can redraw in milliseconds while the exact rerun (with masks) runs in a worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from detector.geometry.nms import NmsTrace, batched_nms_trace

if TYPE_CHECKING:
    from detector.trace.pipeline import Trace
    from detector.trace.roi import RoiStage

MIN_BOX_SIZE = np.float32(1e-2)  # RoIHeads removes boxes narrower / shorter than this


@dataclass(kw_only=True)
class BoxPostprocess:
    """The (proposal, class) pairs over the threshold, their NMS and the detections.

    over_proposal, over_class (int64[M]), over_scores (float32[M]), over_boxes_resized
    (float32[M, 4]): pairs with probability > score_thresh. nms_input (int64[N]): indices
    into the over arrays that entered NMS. nms (NmsTrace over those N). detection_over
    (int64[D]): each detection as an index into the over arrays, in output order.
    """

    over_proposal: np.ndarray
    over_class: np.ndarray
    over_scores: np.ndarray
    over_boxes_resized: np.ndarray
    nms_input: np.ndarray
    nms: NmsTrace
    detection_over: np.ndarray
    score_thresh: float
    nms_thresh: float

    @cached_property
    def steps(self) -> list:
        """``nms.steps``, computed once (NmsTrace rebuilds the list on every access)."""
        return self.nms.steps

    @property
    def boxes_resized(self) -> np.ndarray:
        return self.over_boxes_resized[self.detection_over]

    @property
    def labels(self) -> np.ndarray:
        return self.over_class[self.detection_over]

    @property
    def scores(self) -> np.ndarray:
        return self.over_scores[self.detection_over]


def postprocess_preview(
    roi: RoiStage, score_thresh: float, nms_thresh: float, detections_per_img: int
) -> BoxPostprocess:
    """Redo score threshold + NMS on ``roi`` (a ``RoiStage``) at new settings."""
    num_classes = roi.class_probs.shape[1]
    flat_scores = roi.class_probs[:, 1:].reshape(-1)
    flat_boxes = roi.boxes_per_class_resized[:, 1:].reshape(-1, 4)
    over = np.nonzero(flat_scores > np.float32(score_thresh))[0]
    over_boxes = flat_boxes[over]
    widths = over_boxes[:, 2] - over_boxes[:, 0]
    heights = over_boxes[:, 3] - over_boxes[:, 1]
    nms_input = np.nonzero((widths >= MIN_BOX_SIZE) & (heights >= MIN_BOX_SIZE))[0]
    over_class = over % (num_classes - 1) + 1
    over_scores = flat_scores[over]
    nms = batched_nms_trace(
        over_boxes[nms_input], over_scores[nms_input], over_class[nms_input], nms_thresh
    )
    detection_over = nms_input[nms.keep[:detections_per_img]]
    return BoxPostprocess(
        over_proposal=over // (num_classes - 1),
        over_class=over_class,
        over_scores=over_scores,
        over_boxes_resized=over_boxes,
        nms_input=nms_input,
        nms=nms,
        detection_over=detection_over,
        score_thresh=float(score_thresh),
        nms_thresh=float(nms_thresh),
    )


def from_trace(trace: Trace) -> BoxPostprocess:
    """The Trace's own post-processing in the same shape (no recomputation)."""
    roi = trace.roi
    return BoxPostprocess(
        over_proposal=roi.over_proposal,
        over_class=roi.over_class,
        over_scores=roi.over_scores,
        over_boxes_resized=roi.over_boxes_resized,
        nms_input=roi.nms_input,
        nms=roi.nms,
        detection_over=roi.detection_over,
        score_thresh=roi.score_thresh,
        nms_thresh=roi.nms_thresh,
    )
