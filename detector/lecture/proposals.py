"""Region proposals: OpenCV's Selective Search next to the model's RPN, on one image.

Selective Search (Uijlings et al.; ``cv2.ximgproc.segmentation``, opencv-contrib) groups
superpixels bottom-up by colour, texture, size and fill and outputs the bounding box of
every group: a few thousand "blob-like" regions, no learning. The RPN learns them. Both are
judged the same way: the recall of the ground truth (a GT box counts as found when some
proposal overlaps it with IoU >= t) among the top N proposals, and how many proposals
each needs to reach a recall.

Boxes are float32[N, 4] xyxy original-image pixels, in the method's rank order.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from detector.geometry.boxes import box_iou
from detector.lecture.windows import LectureError

TOP_NS = (100, 300, 1000, 2000)
IOUS = (0.5, 0.7)
MODES = ("fast", "quality")
SEARCH_MAX_SIDE = 500  # the usual practice: run Selective Search on a ~500 px image


@dataclass
class ProposalSet:
    """One method's proposals on one image: boxes_image (float32[N, 4]) in rank order,
    seconds of wall time, and what produced them (``method``, e.g. "selective search fast")."""

    method: str
    boxes_image: np.ndarray
    seconds: float
    note: str = ""

    @property
    def count(self) -> int:
        return int(self.boxes_image.shape[0])


def _segmentation_module():
    module = getattr(getattr(cv2, "ximgproc", None), "segmentation", None)
    if module is None:
        raise LectureError(
            "Selective Search needs OpenCV's contrib modules: "
            "pip install opencv-contrib-python-headless"
        )
    return module


def selective_search(
    image: np.ndarray, mode: str = "fast", max_side: int = SEARCH_MAX_SIDE, threads: int = 1
) -> ProposalSet:
    """OpenCV's Selective Search on ``image`` (uint8 H x W x 3 RGB), ``mode`` "fast" or
    "quality". The image is shrunk so its longer side is at most ``max_side`` (boxes are
    scaled back to original pixels); the time includes that resize."""
    if mode not in MODES:
        raise LectureError(f"Selective Search mode must be one of {MODES}, got {mode!r}")
    if image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 2:
        raise LectureError(f"expected an H x W x 3 image, got shape {image.shape}")
    segmentation = _segmentation_module()
    cv2.setNumThreads(threads)
    height, width = image.shape[:2]
    factor = min(1.0, max_side / max(height, width))
    started = time.perf_counter()
    small = (
        image
        if factor == 1.0
        else cv2.resize(
            image,
            (max(round(width * factor), 2), max(round(height * factor), 2)),
            interpolation=cv2.INTER_AREA,
        )
    )
    search = segmentation.createSelectiveSearchSegmentation()
    search.setBaseImage(cv2.cvtColor(small, cv2.COLOR_RGB2BGR))
    if mode == "fast":
        search.switchToSelectiveSearchFast()
    else:
        search.switchToSelectiveSearchQuality()
    rects = np.asarray(search.process(), np.float32).reshape(-1, 4)  # x, y, w, h
    seconds = time.perf_counter() - started
    boxes = np.concatenate([rects[:, :2], rects[:, :2] + rects[:, 2:]], axis=1)
    scale = np.array([width / small.shape[1], height / small.shape[0]] * 2, np.float32)
    note = f"run at {small.shape[1]} x {small.shape[0]} px" if factor < 1.0 else ""
    return ProposalSet(f"Selective Search ({mode})", boxes * scale, seconds, note)


def rpn_proposals(trace, top_n: int = max(TOP_NS), seconds: float = float("nan")) -> ProposalSet:
    """The RPN's proposals of a traced image in objectness order, up to ``top_n`` (the RPN
    NMS redone with a larger top-N from the trace's candidates; no network run). ``seconds``:
    the caller's measured time of the backbone + RPN."""
    rpn = trace.rpn
    if top_n > len(rpn.proposals_resized):
        rpn = rpn.with_nms(rpn.nms_thresh, top_n)
    boxes = trace.input.boxes_to_image(rpn.proposals_resized[:top_n])
    return ProposalSet("RPN (the model's)", boxes, seconds)


def first_hit_ranks(boxes_image: np.ndarray, gt_image: np.ndarray, iou: float) -> np.ndarray:
    """int64[G]: for each GT box, the 1-based rank of the first proposal with IoU >= ``iou``
    (0 when no proposal reaches it). Recall@N is then ``mean(0 < rank <= N)``."""
    gt = np.asarray(gt_image, np.float32).reshape(-1, 4)
    boxes = np.asarray(boxes_image, np.float32).reshape(-1, 4)
    if len(gt) == 0 or len(boxes) == 0:
        return np.zeros(len(gt), np.int64)
    hits = box_iou(gt, boxes) >= iou  # [G, N]
    found = hits.any(axis=1)
    return np.where(found, hits.argmax(axis=1) + 1, 0).astype(np.int64)


def recall_at(ranks: np.ndarray, top_n: int) -> float:
    """Fraction of GT boxes found among the first ``top_n`` proposals (nan without GT)."""
    if len(ranks) == 0:
        return float("nan")
    return float(np.mean((ranks > 0) & (ranks <= top_n)))


def needed_for(ranks: np.ndarray, recall: float) -> int | None:
    """Fewest top proposals that reach ``recall`` (None when the method never does)."""
    if len(ranks) == 0:
        return None
    want = int(np.ceil(recall * len(ranks) - 1e-9))
    if want == 0:
        return 0
    found = np.sort(ranks[ranks > 0])
    return int(found[want - 1]) if len(found) >= want else None


@dataclass
class RecallTable:
    """Recall of one ProposalSet: recall[(iou, top_n)] and ranks[iou] (see first_hit_ranks)."""

    proposals: ProposalSet
    recall: dict[tuple[float, int], float] = field(default_factory=dict)
    ranks: dict[float, np.ndarray] = field(default_factory=dict)

    def needed(self, iou: float, recall: float) -> int | None:
        return needed_for(self.ranks[iou], recall)


def recall_table(
    proposals: ProposalSet, gt_image: np.ndarray, ious=IOUS, top_ns=TOP_NS
) -> RecallTable:
    """Recall at every (IoU, top N) of ``proposals`` against ``gt_image`` (float32[G, 4])."""
    table = RecallTable(proposals)
    for iou in ious:
        ranks = first_hit_ranks(proposals.boxes_image, gt_image, iou)
        table.ranks[iou] = ranks
        for top_n in top_ns:
            table.recall[(iou, top_n)] = recall_at(ranks, top_n)
    return table
