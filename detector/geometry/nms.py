"""Greedy non-maximum suppression that records every step, identical to torchvision's.

The lecture's algorithm: (1) select the highest-scoring remaining box, (2) eliminate the
lower-scoring boxes with IoU > threshold, (3) repeat. ``nms_trace`` runs exactly the loop of
torchvision's CPU kernel (stable descending sort by score; strict ``IoU > threshold``; IoU as
``inter / (area_i + area_j - inter)`` in float32) and records, for every box, whether it was
kept, at which step, and which kept box suppressed it with what IoU.

``batched_nms_trace`` does the same per category, following whichever of torchvision's two
batched paths ``torchvision.ops.batched_nms`` takes for that input (the coordinate-offset
trick for small inputs, a per-category loop for large ones; the switch depends on the device
and the torchvision version), so the kept set and its order equal ``batched_nms``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from detector.geometry.boxes import as_boxes

NmsPath = Literal["single", "offset", "loop"]  # how batched NMS was recorded (see NmsTrace)


@dataclass
class NmsStep:
    """One iteration of greedy NMS: ``kept`` survives and suppresses ``suppressed``.

    kept (int): index of the kept box in the NMS input; suppressed (int64[S]): indices of the
    boxes it eliminated at this step (not already eliminated), in score order; ious
    (float32[S]): their IoU with the kept box, as the kernel computed it (each > threshold).
    """

    kept: int
    suppressed: np.ndarray
    ious: np.ndarray


@dataclass(kw_only=True)
class NmsTrace:
    """The full record of one (batched) NMS call over N input boxes.

    keep (int64[K]): kept input indices in output order (== torchvision's return value).
    suppressed_by (int64[N]): for each input box, the index of the kept box that eliminated it;
    -1 for kept boxes. suppress_iou (float32[N]): that IoU; NaN for kept boxes.
    groups (int64[N]): the category each box was suppressed within (0 for plain NMS).
    iou_threshold (float): the threshold (suppression is strict: IoU > threshold).
    path (str): "single", "offset" (coordinate trick) or "loop" (per category).
    matches_model (bool | None): set by the trace: whether ``keep`` equals the keep the model
    itself computed (always on CPU; on CUDA a last-bit IoU difference could break a tie).
    """

    keep: np.ndarray
    suppressed_by: np.ndarray
    suppress_iou: np.ndarray
    groups: np.ndarray
    iou_threshold: float
    path: NmsPath = "single"
    matches_model: bool | None = None

    @property
    def num_inputs(self) -> int:
        return int(self.suppressed_by.shape[0])

    @property
    def steps(self) -> list[NmsStep]:
        """The steps in output order: each kept box with the boxes it suppressed."""
        suppressors = self.suppressed_by
        order = np.argsort(suppressors, kind="stable")
        sorted_suppressors = suppressors[order]
        steps = []
        for kept in self.keep.tolist():
            lo, hi = np.searchsorted(sorted_suppressors, [kept, kept + 1])
            victims = order[lo:hi]
            steps.append(NmsStep(int(kept), victims, self.suppress_iou[victims]))
        return steps


def _greedy(
    boxes: np.ndarray, scores: torch.Tensor, iou_threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """torchvision's CPU NMS loop on float32 ``boxes``; returns keep, suppressed_by, iou."""
    count = boxes.shape[0]
    suppressed_by = np.full(count, -1, dtype=np.int64)
    suppress_iou = np.full(count, np.nan, dtype=np.float32)
    if count == 0:
        return np.zeros(0, dtype=np.int64), suppressed_by, suppress_iou
    order = torch.sort(scores.detach().cpu(), stable=True, descending=True)[1].numpy()
    ordered = boxes[order]
    x1, y1, x2, y2 = (np.ascontiguousarray(ordered[:, i]) for i in range(4))
    areas = (x2 - x1) * (y2 - y1)
    alive = np.ones(count, dtype=bool)
    kept_positions = []
    for i in range(count):
        if not alive[i]:
            continue
        kept_positions.append(i)
        rest = slice(i + 1, count)
        width = np.maximum(np.float32(0), np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
        height = np.maximum(
            np.float32(0), np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest])
        )
        inter = width * height
        with np.errstate(divide="ignore", invalid="ignore"):
            iou = inter / (areas[i] + areas[rest] - inter)
        # compared in double, as the C++ kernel promotes float IoU against a double threshold
        hit = np.flatnonzero((iou.astype(np.float64) > iou_threshold) & alive[rest])
        alive[i + 1 + hit] = False
        suppressed_by[order[i + 1 + hit]] = order[i]
        suppress_iou[order[i + 1 + hit]] = iou[hit]
    return order[np.asarray(kept_positions, dtype=np.int64)], suppressed_by, suppress_iou


def _to_tensor(values: np.ndarray | torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    if isinstance(values, torch.Tensor):
        return values.detach()
    return torch.as_tensor(np.asarray(values), dtype=dtype)


def nms_trace(
    boxes: np.ndarray | torch.Tensor, scores: np.ndarray | torch.Tensor, iou_threshold: float
) -> NmsTrace:
    """Greedy NMS with its record; ``keep`` equals ``torchvision.ops.nms(boxes, scores, t)``.

    boxes (float32[N, 4] xyxy) and scores (float32[N]) as numpy arrays or tensors (any device).
    """
    boxes_t = _to_tensor(boxes, torch.float32)
    scores_t = _to_tensor(scores, torch.float32)
    _check_inputs(boxes_t, scores_t)
    keep, suppressed_by, ious = _greedy(_numpy_boxes(boxes_t), scores_t, iou_threshold)
    groups = np.zeros(len(suppressed_by), dtype=np.int64)
    return NmsTrace(
        keep=keep,
        suppressed_by=suppressed_by,
        suppress_iou=ious,
        groups=groups,
        iou_threshold=float(iou_threshold),
        path="single",
    )


def uses_loop_path(boxes: torch.Tensor) -> bool:
    """Whether ``torchvision.ops.batched_nms`` takes its per-category loop for ``boxes``.

    torchvision >= 0.22 (pull request 8925): more than 4,000 numbers on CPU or 100,000 on
    CUDA; before that the CUDA limit was 20,000.
    """
    import torchvision

    if boxes.device.type == "cpu":
        limit = 4000
    else:
        major, minor = (int(part) for part in torchvision.__version__.split(".")[:2])
        limit = 100_000 if (major, minor) >= (0, 22) else 20_000
    return boxes.numel() > limit


def batched_nms_trace(
    boxes: np.ndarray | torch.Tensor,
    scores: np.ndarray | torch.Tensor,
    idxs: np.ndarray | torch.Tensor,
    iou_threshold: float,
) -> NmsTrace:
    """NMS within each category ``idxs`` with its record; ``keep`` (set and order) equals
    ``torchvision.ops.batched_nms(boxes, scores, idxs, iou_threshold)`` on the same device."""
    boxes_t = _to_tensor(boxes, torch.float32)
    scores_t = _to_tensor(scores, torch.float32)
    idxs_t = _to_tensor(idxs, torch.int64).to(boxes_t.device)
    _check_inputs(boxes_t, scores_t)
    groups = idxs_t.cpu().numpy().astype(np.int64)
    if boxes_t.numel() == 0:
        return NmsTrace(
            keep=np.zeros(0, dtype=np.int64),
            suppressed_by=np.zeros(0, dtype=np.int64),
            suppress_iou=np.zeros(0, dtype=np.float32),
            groups=groups,
            iou_threshold=float(iou_threshold),
            path="offset",
        )
    if uses_loop_path(boxes_t):
        return _loop_path(boxes_t, scores_t, idxs_t, groups, iou_threshold)
    # the coordinate trick, with torchvision's own tensor ops so the offsets round the same
    max_coordinate = boxes_t.max()
    offsets = idxs_t.to(boxes_t) * (max_coordinate + torch.tensor(1).to(boxes_t))
    shifted = boxes_t + offsets[:, None]
    keep, suppressed_by, ious = _greedy(_numpy_boxes(shifted), scores_t, iou_threshold)
    return NmsTrace(
        keep=keep,
        suppressed_by=suppressed_by,
        suppress_iou=ious,
        groups=groups,
        iou_threshold=float(iou_threshold),
        path="offset",
    )


def _loop_path(
    boxes_t: torch.Tensor,
    scores_t: torch.Tensor,
    idxs_t: torch.Tensor,
    groups: np.ndarray,
    iou_threshold: float,
) -> NmsTrace:
    count = boxes_t.shape[0]
    suppressed_by = np.full(count, -1, dtype=np.int64)
    suppress_iou = np.full(count, np.nan, dtype=np.float32)
    boxes_np = _numpy_boxes(boxes_t)
    scores_cpu = scores_t.detach().cpu()
    keep_mask = np.zeros(count, dtype=bool)
    for class_id in np.unique(groups):
        members = np.flatnonzero(groups == class_id)
        keep, by, ious = _greedy(boxes_np[members], scores_cpu[members], iou_threshold)
        keep_mask[members[keep]] = True
        hit = by >= 0
        suppressed_by[members[hit]] = members[by[hit]]
        suppress_iou[members[hit]] = ious[hit]
    # the final ordering with the same torch op (on the same device) torchvision uses
    keep_indices = torch.where(torch.as_tensor(keep_mask, device=boxes_t.device))[0]
    keep_indices = keep_indices[scores_t[keep_indices].sort(descending=True)[1]]
    return NmsTrace(
        keep=keep_indices.cpu().numpy().astype(np.int64),
        suppressed_by=suppressed_by,
        suppress_iou=suppress_iou,
        groups=groups,
        iou_threshold=float(iou_threshold),
        path="loop",
    )


def _numpy_boxes(boxes: torch.Tensor) -> np.ndarray:
    return as_boxes(boxes.detach().cpu().float().numpy())


def _check_inputs(boxes: torch.Tensor, scores: torch.Tensor) -> None:
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes must have shape [N, 4], got {tuple(boxes.shape)}")
    if scores.shape != (boxes.shape[0],):
        raise ValueError(f"scores must have shape [{boxes.shape[0]}], got {tuple(scores.shape)}")
