"""Box geometry in numpy: IoU, formats, frames and the lecture's (tx, ty, tw, th) transform.

The transform is the one the lecture writes and torchvision's ``BoxCoder`` implements::

    b_x = p_x + p_w * t_x        t_x = (b_x - p_x) / p_w
    b_y = p_y + p_h * t_y        t_y = (b_y - p_y) / p_h
    b_w = p_w * exp(t_w)         t_w = log(b_w / p_w)
    b_h = p_h * exp(t_h)         t_h = log(b_h / p_h)

with torchvision's two refinements: the network output is divided by ``weights``
(``(1, 1, 1, 1)`` in the RPN, ``(10, 10, 5, 5)`` in the box head) and ``t_w, t_h`` are
clamped to ``log(1000 / 16)`` before ``exp``. The arithmetic below follows ``BoxCoder``'s
order of operations in float32, so ``decode_boxes`` reproduces it bit for bit on CPU.

All boxes are float32[N, 4] ``[x1, y1, x2, y2]``; the frame (original-image pixels vs
resized-model pixels) is the caller's, and names say which.
"""

from __future__ import annotations

import math

import numpy as np

BBOX_XFORM_CLIP = math.log(1000.0 / 16)
RPN_WEIGHTS = (1.0, 1.0, 1.0, 1.0)
ROI_WEIGHTS = (10.0, 10.0, 5.0, 5.0)


def as_boxes(boxes: np.ndarray) -> np.ndarray:
    """Check and view ``boxes`` as float32[N, 4]."""
    array = np.asarray(boxes, dtype=np.float32)
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"boxes must have shape [N, 4], got {array.shape}")
    return array


def box_area(boxes: np.ndarray) -> np.ndarray:
    """float32[N]: (x2 - x1) * (y2 - y1), as torchvision's ``box_area``."""
    boxes = as_boxes(boxes)
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def box_iou(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """float32[N, M] intersection over union (the lecture's IoU), as ``ops.box_iou``."""
    boxes_a, boxes_b = as_boxes(boxes_a), as_boxes(boxes_b)
    area_a, area_b = box_area(boxes_a), box_area(boxes_b)
    top_left = np.maximum(boxes_a[:, None, :2], boxes_b[None, :, :2])
    bottom_right = np.minimum(boxes_a[:, None, 2:], boxes_b[None, :, 2:])
    wh = np.clip(bottom_right - top_left, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return inter / union


def xyxy_to_cxcywh(boxes: np.ndarray) -> np.ndarray:
    """[x1, y1, x2, y2] -> [center x, center y, width, height] (BoxCoder's arithmetic)."""
    boxes = as_boxes(boxes)
    widths = boxes[:, 2] - boxes[:, 0]
    heights = boxes[:, 3] - boxes[:, 1]
    ctr_x = boxes[:, 0] + np.float32(0.5) * widths
    ctr_y = boxes[:, 1] + np.float32(0.5) * heights
    return np.stack([ctr_x, ctr_y, widths, heights], axis=1)


def cxcywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    """[center x, center y, width, height] -> [x1, y1, x2, y2]."""
    boxes = as_boxes(boxes)
    half_w = np.float32(0.5) * boxes[:, 2]
    half_h = np.float32(0.5) * boxes[:, 3]
    return np.stack(
        [boxes[:, 0] - half_w, boxes[:, 1] - half_h, boxes[:, 0] + half_w, boxes[:, 1] + half_h],
        axis=1,
    )


def encode_boxes(
    reference_boxes: np.ndarray,
    proposals: np.ndarray,
    weights: tuple[float, float, float, float] = RPN_WEIGHTS,
) -> np.ndarray:
    """float32[N, 4] transform (tx, ty, tw, th), scaled by ``weights``, taking each
    ``proposals`` box (the lecture's p) to its ``reference_boxes`` box (the target b).

    Equals ``BoxCoder(weights).encode_single(reference_boxes, proposals)``.
    """
    reference_boxes, proposals = as_boxes(reference_boxes), as_boxes(proposals)
    wx, wy, ww, wh = (np.float32(w) for w in weights)
    p_w = proposals[:, 2] - proposals[:, 0]
    p_h = proposals[:, 3] - proposals[:, 1]
    p_x = proposals[:, 0] + np.float32(0.5) * p_w
    p_y = proposals[:, 1] + np.float32(0.5) * p_h
    b_w = reference_boxes[:, 2] - reference_boxes[:, 0]
    b_h = reference_boxes[:, 3] - reference_boxes[:, 1]
    b_x = reference_boxes[:, 0] + np.float32(0.5) * b_w
    b_y = reference_boxes[:, 1] + np.float32(0.5) * b_h
    with np.errstate(divide="ignore", invalid="ignore"):
        t_x = wx * (b_x - p_x) / p_w
        t_y = wy * (b_y - p_y) / p_h
        t_w = ww * np.log(b_w / p_w)
        t_h = wh * np.log(b_h / p_h)
    return np.stack([t_x, t_y, t_w, t_h], axis=1).astype(np.float32)


def decode_boxes(
    deltas: np.ndarray,
    boxes: np.ndarray,
    weights: tuple[float, float, float, float] = RPN_WEIGHTS,
    clip: float = BBOX_XFORM_CLIP,
) -> np.ndarray:
    """Apply transform ``deltas`` (float32[N, 4] or [N, 4 * C]) to ``boxes`` (float32[N, 4]).

    Returns float32[N, 4] (or [N, C, 4]): ``BoxCoder(weights).decode_single`` in numpy,
    t_w and t_h clamped to ``clip`` before ``exp``.
    """
    boxes = as_boxes(boxes)
    deltas = np.asarray(deltas, dtype=np.float32)
    per_class = deltas.reshape(deltas.shape[0], -1, 4)
    wx, wy, ww, wh = (np.float32(w) for w in weights)
    widths = (boxes[:, 2] - boxes[:, 0])[:, None]
    heights = (boxes[:, 3] - boxes[:, 1])[:, None]
    ctr_x = boxes[:, 0][:, None] + np.float32(0.5) * widths
    ctr_y = boxes[:, 1][:, None] + np.float32(0.5) * heights
    dx = per_class[..., 0] / wx
    dy = per_class[..., 1] / wy
    dw = np.minimum(per_class[..., 2] / ww, np.float32(clip))
    dh = np.minimum(per_class[..., 3] / wh, np.float32(clip))
    pred_ctr_x = dx * widths + ctr_x
    pred_ctr_y = dy * heights + ctr_y
    half_w = np.float32(0.5) * (np.exp(dw) * widths)
    half_h = np.float32(0.5) * (np.exp(dh) * heights)
    decoded = np.stack(
        [pred_ctr_x - half_w, pred_ctr_y - half_h, pred_ctr_x + half_w, pred_ctr_y + half_h],
        axis=-1,
    ).astype(np.float32)
    return decoded[:, 0] if deltas.shape[-1] == 4 and deltas.ndim == 2 else decoded


def clip_boxes(boxes: np.ndarray, height: int, width: int) -> np.ndarray:
    """Clamp x to [0, width] and y to [0, height] (``ops.clip_boxes_to_image``)."""
    boxes = as_boxes(boxes).copy()
    boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, width)
    boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, height)
    return boxes


def scale_boxes(boxes: np.ndarray, scale_x: float, scale_y: float) -> np.ndarray:
    """Multiply x by ``scale_x`` and y by ``scale_y`` (move boxes between frames)."""
    boxes = as_boxes(boxes)
    factors = np.array([scale_x, scale_y, scale_x, scale_y], dtype=np.float32)
    return boxes * factors


BOX_DECIMALS = 2  # a hundredth of a pixel, as COCO's own files use


def round_box(box, decimals: int = BOX_DECIMALS) -> tuple[float, float, float, float]:
    """A box drawn or moved by hand, to ``decimals`` (a mouse gives 15 meaningless digits)."""
    return tuple(round(float(v), decimals) for v in box)
