"""The training-time view: which anchors and proposals are positive, neutral or negative,
which were sampled into the mini-batch, and the losses, equal to torchvision's.

``training_view(model, image, boxes_image, labels)`` runs the model's training forward
unrolled (transform, backbone, RPN, anchor matching with torchvision's ``Matcher`` at
0.7 / 0.3 with its low-quality matches, the seeded balanced sampler, RoI-head matching at
0.5 with the ground truth added to the proposals, the sampled RoIs) and computes the RPN
objectness and box losses, the classifier and box-regression losses and, for Mask R-CNN,
the mask loss, exactly as ``model.module(images, targets)`` does in training mode from the
same seed. The model is left untouched: no gradients, batch-norm layers stay frozen (as
torchvision's detection builders freeze them), and every training flag is restored.

``rcnn_labels`` (from :mod:`.labels`) is the lecture's R-CNN rule (positive > 0.5,
negative < 0.3, neutral in between) as an alternative labelling to display.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.detection.roi_heads import fastrcnn_loss, maskrcnn_loss
from torchvision.models.detection.rpn import concat_box_prediction_layers
from torchvision.ops import box_iou

from detector.errors import DetScopeError
from detector.inference.run import image_to_tensor
from detector.models import DetModel
from detector.trace.labels import rcnn_labels


class AssignError(DetScopeError):
    """Ground truth that cannot be assigned (bad shapes, degenerate boxes)."""


@dataclass(kw_only=True)
class RpnAssignment:
    """Anchor labels (A anchors, in the trace's flat anchor order; resized frame).

    labels (int8[A]): 1 positive, 0 negative, -1 neutral (torchvision's Matcher).
    matched_gt (int64[A]): GT index of each anchor's best match (valid for positives).
    max_iou (float32[A]): the best IoU of each anchor with any GT box.
    low_quality (bool[A]): positive only as the best anchor of some GT (IoU < fg threshold).
    sampled_positive, sampled_negative (int64[S]): the anchors in the seeded mini-batch.
    regression_targets (float32[A, 4]): (tx, ty, tw, th) from each anchor to its GT box.
    fg_iou_thresh, bg_iou_thresh: the thresholds (0.7 / 0.3 by default).
    """

    labels: np.ndarray
    matched_gt: np.ndarray
    max_iou: np.ndarray
    low_quality: np.ndarray
    sampled_positive: np.ndarray
    sampled_negative: np.ndarray
    regression_targets: np.ndarray
    fg_iou_thresh: float
    bg_iou_thresh: float


@dataclass(kw_only=True)
class RoiAssignment:
    """RoI-head labels for the training proposals (R = RPN proposals + the GT boxes).

    proposals_resized (float32[R, 4]): the RPN's training-mode proposals with the GT boxes
    appended (torchvision's ``add_gt_proposals``). labels (int64[R]): class of the matched GT,
    0 background (IoU < bg threshold), -1 ignored. matched_gt (int64[R]): matched GT index.
    max_iou (float32[R]). sampled (int64[S]): the mini-batch, in torchvision's order.
    regression_targets (float32[S, 4]): box-coder targets of the sampled RoIs (weighted).
    rcnn_labels (int8[R]): the lecture's rule (1 if IoU > 0.5, 0 if < 0.3, else -1).
    """

    proposals_resized: np.ndarray
    labels: np.ndarray
    matched_gt: np.ndarray
    max_iou: np.ndarray
    sampled: np.ndarray
    regression_targets: np.ndarray
    rcnn_labels: np.ndarray
    fg_iou_thresh: float
    bg_iou_thresh: float


@dataclass
class TrainingView:
    """Everything for one image and its ground truth, plus the losses (floats).

    gt_boxes_resized (float32[G, 4]): the GT in the model's resized frame. losses: keys
    ``loss_objectness``, ``loss_rpn_box_reg``, ``loss_classifier``, ``loss_box_reg`` and,
    for mask models with GT masks, ``loss_mask``.
    """

    gt_boxes_resized: np.ndarray
    rpn: RpnAssignment
    roi: RoiAssignment
    losses: dict[str, float]


@contextmanager
def _training_flags(module: nn.Module):
    """Training mode for the detector's logic, batch norm frozen; flags restored after."""
    saved = {m: m.training for m in module.modules()}
    module.train()
    for layer in module.modules():
        if isinstance(layer, nn.modules.batchnorm._BatchNorm):
            layer.eval()
    try:
        yield
    finally:
        for layer, flag in saved.items():
            layer.training = flag


def make_target(
    model: DetModel, boxes_image: np.ndarray, labels: np.ndarray, masks: np.ndarray | None = None
) -> dict:
    """The torchvision target dict (model device) for GT in original-image pixels."""
    boxes = np.asarray(boxes_image, dtype=np.float32).reshape(-1, 4)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if len(labels) != len(boxes):
        raise AssignError(f"{len(boxes)} boxes but {len(labels)} labels")
    if len(boxes) and ((boxes[:, 2:] <= boxes[:, :2]).any()):
        raise AssignError("every ground-truth box needs x2 > x1 and y2 > y1")
    if len(labels) and (labels.min() < 1 or labels.max() >= model.num_classes):
        raise AssignError(f"labels must be 1..{model.num_classes - 1} (0 is background)")
    target = {
        "boxes": torch.from_numpy(boxes).to(model.device),
        "labels": torch.from_numpy(labels).to(model.device),
    }
    if masks is not None:
        target["masks"] = torch.from_numpy(np.asarray(masks, dtype=np.uint8)).to(model.device)
    return target


def training_view(
    model: DetModel,
    image: np.ndarray,
    boxes_image: np.ndarray,
    labels: np.ndarray,
    masks: np.ndarray | None = None,
    seed: int = 0,
) -> TrainingView:
    """Labels, mini-batch and losses for ``image`` with GT ``boxes_image`` (float[G, 4],
    original pixels), ``labels`` (int[G]) and optional ``masks`` (uint8[G, H, W]).

    Equals ``model.module([image], [target])`` in training mode after
    ``torch.manual_seed(seed)`` (the global RNG is left as it was)."""
    module = model.module
    target = make_target(model, boxes_image, labels, masks)
    tensor = image_to_tensor(image, model.device)
    devices = [model.device] if model.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices), torch.no_grad(), _training_flags(module):
        torch.manual_seed(seed)
        images, targets = module.transform([tensor], [target])
        features = module.backbone(images.tensors)
        if isinstance(features, torch.Tensor):
            features = {"0": features}
        proposals, rpn, rpn_losses = _rpn(module.rpn, images, features, targets[0])
        roi, roi_losses = _roi(
            module.roi_heads, features, proposals, images.image_sizes, targets[0]
        )
    gt_resized = targets[0]["boxes"].cpu().numpy()
    losses = {name: float(value) for name, value in {**rpn_losses, **roi_losses}.items()}
    roi.rcnn_labels = rcnn_labels(roi.proposals_resized, gt_resized)
    return TrainingView(gt_resized, rpn, roi, losses)


def _match(
    matcher, gt_boxes: torch.Tensor, boxes: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    if gt_boxes.numel() == 0:
        count = boxes.shape[0]
        return (
            torch.full((count,), -1, dtype=torch.int64, device=boxes.device),
            torch.zeros(count, device=boxes.device),
        )
    quality = box_iou(gt_boxes, boxes)
    return matcher(quality), quality.max(dim=0).values


def _rpn(rpn, images, features: dict, target: dict):
    feature_list = list(features.values())
    objectness_maps, delta_maps = rpn.head(feature_list)
    anchors = rpn.anchor_generator(images, feature_list)
    per_level = [o[0].shape[0] * o[0].shape[1] * o[0].shape[2] for o in objectness_maps]
    objectness, deltas = concat_box_prediction_layers(objectness_maps, delta_maps)
    decoded = rpn.box_coder.decode(deltas.detach(), anchors).view(1, -1, 4)
    boxes, _ = rpn.filter_proposals(decoded, objectness, images.image_sizes, per_level)
    labels, matched_gt_boxes = rpn.assign_targets_to_anchors(anchors, [target])
    regression_targets = rpn.box_coder.encode(matched_gt_boxes, anchors)
    matched, max_iou = _match(rpn.proposal_matcher, target["boxes"], anchors[0])
    positive, negative = rpn.fg_bg_sampler(labels)
    pos = torch.where(torch.cat(positive, dim=0))[0]
    neg = torch.where(torch.cat(negative, dim=0))[0]
    sampled = torch.cat([pos, neg], dim=0)
    all_labels, all_targets = torch.cat(labels, dim=0), torch.cat(regression_targets, dim=0)
    box_loss = (
        F.smooth_l1_loss(deltas[pos], all_targets[pos], beta=1 / 9, reduction="sum")
        / sampled.numel()
    )
    objectness_loss = F.binary_cross_entropy_with_logits(
        objectness.flatten()[sampled], all_labels[sampled]
    )
    fg = rpn.proposal_matcher.high_threshold
    view = RpnAssignment(
        labels=all_labels.cpu().numpy().astype(np.int8),
        matched_gt=matched.cpu().numpy(),
        max_iou=max_iou.cpu().numpy(),
        low_quality=((all_labels == 1) & (max_iou < fg)).cpu().numpy(),
        sampled_positive=pos.cpu().numpy(),
        sampled_negative=neg.cpu().numpy(),
        regression_targets=all_targets.cpu().numpy(),
        fg_iou_thresh=float(fg),
        bg_iou_thresh=float(rpn.proposal_matcher.low_threshold),
    )
    return boxes, view, {"loss_objectness": objectness_loss, "loss_rpn_box_reg": box_loss}


def _roi(roi_heads, features: dict, proposals: list[torch.Tensor], image_sizes, target: dict):
    gt_boxes = target["boxes"].to(proposals[0].dtype)
    with_gt = roi_heads.add_gt_proposals(proposals, [gt_boxes])
    matched_idxs, labels = roi_heads.assign_targets_to_proposals(
        with_gt, [gt_boxes], [target["labels"]]
    )
    _, max_iou = _match(roi_heads.proposal_matcher, gt_boxes, with_gt[0])
    sampled = roi_heads.subsample(labels)[0]
    sampled_boxes = with_gt[0][sampled]
    sampled_labels, sampled_matched = labels[0][sampled], matched_idxs[0][sampled]
    gt_for_encode = gt_boxes if gt_boxes.numel() else torch.zeros((1, 4), device=gt_boxes.device)
    regression_targets = roi_heads.box_coder.encode(
        [gt_for_encode[sampled_matched]], [sampled_boxes]
    )
    box_features = roi_heads.box_roi_pool(features, [sampled_boxes], image_sizes)
    class_logits, box_regression = roi_heads.box_predictor(roi_heads.box_head(box_features))
    loss_classifier, loss_box_reg = fastrcnn_loss(
        class_logits, box_regression, [sampled_labels], regression_targets
    )
    losses = {"loss_classifier": loss_classifier, "loss_box_reg": loss_box_reg}
    if roi_heads.has_mask() and "masks" in target:
        positive = torch.where(sampled_labels > 0)[0]
        mask_boxes = [sampled_boxes[positive]]
        mask_features = roi_heads.mask_head(
            roi_heads.mask_roi_pool(features, mask_boxes, image_sizes)
        )
        mask_logits = roi_heads.mask_predictor(mask_features)
        losses["loss_mask"] = maskrcnn_loss(
            mask_logits,
            mask_boxes,
            [target["masks"]],
            [target["labels"]],
            [sampled_matched[positive]],
        )
    fg = roi_heads.proposal_matcher.high_threshold
    view = RoiAssignment(
        proposals_resized=with_gt[0].cpu().numpy(),
        labels=labels[0].cpu().numpy(),
        matched_gt=matched_idxs[0].cpu().numpy(),
        max_iou=max_iou.cpu().numpy(),
        sampled=sampled.cpu().numpy(),
        regression_targets=regression_targets[0].cpu().numpy(),
        rcnn_labels=np.zeros(0, dtype=np.int8),
        fg_iou_thresh=float(fg),
        bg_iou_thresh=float(roi_heads.proposal_matcher.low_threshold),
    )
    return view, losses
