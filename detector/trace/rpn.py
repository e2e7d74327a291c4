"""The Region Proposal Network, step by step, with torchvision's own modules and ops.

``run_rpn`` is ``RegionProposalNetwork.forward`` (eval mode, one image) unrolled so every
intermediate is recorded: the head's objectness logits and deltas per anchor, the decoded
boxes, the per-level top-k, clipping, small-box and score filters, the per-level NMS and the
kept top-N proposals. Each call is the very op the module makes, in the same order on the
same tensors, so the proposals are bit-identical to ``model.rpn``'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import torch
from torchvision.models.detection.rpn import concat_box_prediction_layers
from torchvision.ops import boxes as box_ops

from detector.geometry.nms import NmsTrace, batched_nms_trace


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy()


@dataclass
class RpnCandidates:
    """Private: the tensors (model device) that enter the RPN NMS, for reruns."""

    boxes: torch.Tensor
    scores: torch.Tensor
    levels: torch.Tensor
    topk_index: torch.Tensor  # index of each candidate into the top-k arrays


@dataclass(kw_only=True)
class RpnStage:
    """What the RPN did (A anchors, T pre-NMS top-k entries, M NMS inputs, P proposals).

    objectness_logits (float32[A]): the head's score per anchor, flat anchor order.
    deltas (float32[A, 4]): the head's (tx, ty, tw, th) per anchor (BoxCoder weights 1).
    decoded_resized (float32[A, 4]): each anchor moved by its deltas, before clipping.
    topk_anchor (int64[T]): the per-level top-k by objectness, as anchor indices.
    topk_level (int64[T]): their level. topk_scores (float32[T]): sigmoid(objectness).
    topk_boxes_resized (float32[T, 4]): their decoded boxes after clipping to the image.
    clipped (bool[T]): the box changed when clipped to the image.
    removed_small (bool[T]): dropped as smaller than ``min_size`` (after clipping).
    removed_score (bool[T]): dropped with objectness < ``score_thresh``.
    nms_input (int64[M]): top-k indices of the boxes that entered NMS (score order not implied).
    nms_keep (int64[K]): NMS output as indices into ``nms_input``, before the top-N cut.
    proposal_topk (int64[P]): top-k index of each kept proposal (the first N of NMS's output).
    proposals_resized (float32[P, 4]), proposal_scores (float32[P]): the proposals the RoI
    head receives and their objectness. proposal_anchor (int64[P]), proposal_level (int64[P]):
    where each came from. pre_nms_top_n, post_nms_top_n, nms_thresh, score_thresh, min_size:
    the settings used. ``nms`` (NmsTrace over the M inputs, groups = level) is computed on
    first access.
    """

    objectness_logits: np.ndarray
    deltas: np.ndarray
    decoded_resized: np.ndarray
    topk_anchor: np.ndarray
    topk_level: np.ndarray
    topk_scores: np.ndarray
    topk_boxes_resized: np.ndarray
    clipped: np.ndarray
    removed_small: np.ndarray
    removed_score: np.ndarray
    nms_input: np.ndarray
    nms_keep: np.ndarray
    proposal_topk: np.ndarray
    proposals_resized: np.ndarray
    proposal_scores: np.ndarray
    proposal_anchor: np.ndarray
    proposal_level: np.ndarray
    pre_nms_top_n: int
    post_nms_top_n: int
    nms_thresh: float
    score_thresh: float
    min_size: float
    _candidates: RpnCandidates = field(repr=False)

    @cached_property
    def nms(self) -> NmsTrace:
        """Step-by-step record of the per-level NMS (indices into ``nms_input``)."""
        c = self._candidates
        trace = batched_nms_trace(c.boxes, c.scores, c.levels, self.nms_thresh)
        trace.matches_model = bool(np.array_equal(trace.keep, self.nms_keep))
        return trace

    @property
    def proposals_tensor(self) -> torch.Tensor:
        """Private use: the proposals (model device) for the RoI head."""
        return self._proposals

    def with_nms(self, nms_thresh: float, post_nms_top_n: int) -> RpnStage:
        """This stage with the NMS and top-N redone at new settings (no head, no decode)."""
        return _finish_stage(self._partial, self._candidates, nms_thresh, post_nms_top_n)


def run_rpn(
    rpn,
    images,
    features: list[torch.Tensor],
    anchors: torch.Tensor,
    nms_thresh: float,
    post_nms_top_n: int,
) -> RpnStage:
    """``rpn.forward(images, features)`` for one image in eval mode, recorded."""
    objectness_maps, delta_maps = rpn.head(features)
    num_anchors_per_level = [o[0].shape[0] * o[0].shape[1] * o[0].shape[2] for o in objectness_maps]
    objectness, deltas = concat_box_prediction_layers(objectness_maps, delta_maps)
    decoded = rpn.box_coder.decode(deltas.detach(), [anchors]).view(1, -1, 4)
    partial, candidates = _filter(
        rpn, decoded, objectness, images.image_sizes[0], num_anchors_per_level
    )
    partial.update(
        objectness_logits=to_numpy(objectness.reshape(-1)),
        deltas=to_numpy(deltas),
        decoded_resized=to_numpy(decoded[0]),
    )
    return _finish_stage(partial, candidates, nms_thresh, post_nms_top_n)


def _filter(
    rpn,
    proposals: torch.Tensor,
    objectness: torch.Tensor,
    image_size,
    num_anchors_per_level: list[int],
) -> tuple[dict, RpnCandidates]:
    """``filter_proposals`` up to the NMS, recording what each filter removed."""
    device = proposals.device
    objectness = objectness.detach().reshape(1, -1)
    levels = torch.cat(
        [
            torch.full((n,), idx, dtype=torch.int64, device=device)
            for idx, n in enumerate(num_anchors_per_level)
        ],
        0,
    )
    levels = levels.reshape(1, -1).expand_as(objectness)
    top_n_idx = rpn._get_top_n_idx(objectness, num_anchors_per_level)
    batch_idx = torch.arange(1, device=device)[:, None]
    objectness = objectness[batch_idx, top_n_idx]
    levels = levels[batch_idx, top_n_idx]
    proposals = proposals[batch_idx, top_n_idx]
    scores = torch.sigmoid(objectness)[0]
    unclipped, lvl = proposals[0], levels[0]
    boxes = box_ops.clip_boxes_to_image(unclipped, image_size)
    count = boxes.shape[0]
    keep_small = box_ops.remove_small_boxes(boxes, rpn.min_size)
    boxes_s, scores_s, lvl_s = boxes[keep_small], scores[keep_small], lvl[keep_small]
    keep_score = torch.where(scores_s >= rpn.score_thresh)[0]
    candidates = RpnCandidates(
        boxes_s[keep_score], scores_s[keep_score], lvl_s[keep_score], keep_small[keep_score]
    )
    removed_small = np.ones(count, dtype=bool)
    removed_small[to_numpy(keep_small)] = False
    removed_score = ~removed_small
    removed_score[to_numpy(candidates.topk_index)] = False
    partial = dict(
        topk_anchor=to_numpy(top_n_idx[0]).astype(np.int64),
        topk_level=to_numpy(lvl),
        topk_scores=to_numpy(scores),
        topk_boxes_resized=to_numpy(boxes),
        clipped=to_numpy((boxes != unclipped).any(dim=1)),
        removed_small=removed_small,
        removed_score=removed_score,
        nms_input=to_numpy(candidates.topk_index),
        pre_nms_top_n=int(rpn.pre_nms_top_n()),
        score_thresh=float(rpn.score_thresh),
        min_size=float(rpn.min_size),
    )
    return partial, candidates


def _finish_stage(
    partial: dict, candidates: RpnCandidates, nms_thresh: float, post_nms_top_n: int
) -> RpnStage:
    keep = box_ops.batched_nms(candidates.boxes, candidates.scores, candidates.levels, nms_thresh)
    kept = keep[:post_nms_top_n]
    proposals = candidates.boxes[kept]
    proposal_topk = to_numpy(candidates.topk_index[kept])
    stage = RpnStage(
        **partial,
        nms_keep=to_numpy(keep),
        proposal_topk=proposal_topk,
        proposals_resized=to_numpy(proposals),
        proposal_scores=to_numpy(candidates.scores[kept]),
        proposal_anchor=partial["topk_anchor"][proposal_topk],
        proposal_level=partial["topk_level"][proposal_topk],
        post_nms_top_n=int(post_nms_top_n),
        nms_thresh=float(nms_thresh),
        _candidates=candidates,
    )
    stage._proposals = proposals
    stage._partial = partial
    return stage
