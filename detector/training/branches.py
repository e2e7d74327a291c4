"""Switch a Mask R-CNN's mask branch off while it trains on a box-only dataset."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

MASKS_OFF_MESSAGE = (
    "the dataset has boxes only (some objects have no mask): training {arch} with the mask "
    "loss off (the mask head keeps its starting weights); for masks, annotate them, or "
    "train a box model (--model fasterrcnn_resnet50_fpn_v2)"
)


@contextmanager
def mask_branch_off(module: torch.nn.Module, off: bool = True) -> Iterator[None]:
    """Inside, ``module.roi_heads.has_mask()`` is False: no mask targets needed, no mask
    loss; the mask head's modules are put back (untouched) on exit."""
    heads = module.roi_heads
    saved = (heads.mask_roi_pool, heads.mask_head, heads.mask_predictor)
    if off:
        heads.mask_roi_pool = heads.mask_head = heads.mask_predictor = None
    try:
        yield
    finally:
        heads.mask_roi_pool, heads.mask_head, heads.mask_predictor = saved
