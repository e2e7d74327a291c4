"""The inspection trace: every step of a Faster / Mask / Keypoint R-CNN, identical to torchvision.

``trace_image(model, image)`` runs ``GeneralizedRCNN.forward`` (eval mode, one image) unrolled:
``model.transform`` -> ``model.backbone`` -> RPN head, anchors, decode, filters, NMS -> box
RoI pooling, head, softmax, per-class decode, threshold, NMS -> mask / keypoint branches ->
``transform.postprocess``. Every step calls torchvision's own module or function on the same
tensors in the same order, so ``trace.detections`` equals ``model.module([tensor])`` exactly,
and every intermediate is recorded as numpy for the GUI to draw.

``trace.rerun(score_thresh=..., nms_thresh=..., detections_per_img=...)`` redoes only the
box post-processing (and the mask / keypoint branches) from the cached head outputs;
``rpn_nms_thresh`` / ``rpn_post_nms_top_n`` redo the RPN NMS and the RoI head from the cached
features. Neither runs the backbone.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from detector.errors import DetScopeError, ModelError
from detector.geometry.roi import RoiAlignGeometry, roi_align_geometry
from detector.inference.detections import Detections
from detector.inference.run import prepare
from detector.models import DetModel
from detector.trace.heads import KeypointStage, MaskStage, finish
from detector.trace.records import (
    AnchorStage,
    FeatureLevel,
    InputStage,
    TraceSettings,
    anchor_stage,
)
from detector.trace.roi import (
    BoxHeadOutput,
    Provenance,
    RoiStage,
    postprocess,
    provenance,
    run_box_head,
)
from detector.trace.rpn import RpnStage, run_rpn, to_numpy


class TraceError(DetScopeError):
    """A trace cannot be made or rerun (bad image, features dropped, bad threshold)."""


@dataclass
class _Cache:
    """Private tensors (model device) that let ``rerun`` skip the backbone."""

    module: torch.nn.Module
    features: OrderedDict | None
    image_sizes: list[tuple[int, int]]
    box_head: BoxHeadOutput


@dataclass
class Trace:
    """Everything the detector computed for one image (see each stage's docstring).

    detections: the final output in original-image pixels, equal to ``model.module([image])``.
    settings: the thresholds used. input: sizes and scale factors through the transform.
    features: one ``FeatureLevel`` per backbone output (tensors kept privately).
    anchors: every anchor and its (level, y, x, k). rpn: objectness, deltas, proposals and
    the filters / NMS between them. roi: the box head's pooling, probabilities, per-class
    boxes, candidates and NMS. provenance: each detection's proposal, anchor and transforms.
    masks / keypoints: the Mask / Keypoint R-CNN branches (None for other models).
    categories: class names (index = label).
    """

    detections: Detections
    settings: TraceSettings
    input: InputStage
    features: list[FeatureLevel]
    anchors: AnchorStage
    rpn: RpnStage
    roi: RoiStage
    provenance: Provenance
    masks: MaskStage | None
    keypoints: KeypointStage | None
    categories: list[str]
    _cache: _Cache = field(repr=False)

    @property
    def features_kept(self) -> bool:
        return self._cache.features is not None

    def drop_features(self) -> None:
        """Free the backbone features (most of a Trace's memory). Afterwards reruns that
        change only score / NMS / detection count still work; RPN reruns and
        ``feature_map`` raise TraceError."""
        self._cache.features = None

    def feature_map(self, name: str) -> np.ndarray:
        """float32[C, H, W]: the backbone output ``name`` (one of ``features``' names)."""
        if self._cache.features is None:
            raise TraceError("features were dropped from this trace; trace the image again")
        if name not in self._cache.features:
            raise TraceError(f"no feature level {name!r}; levels: {list(self._cache.features)}")
        return to_numpy(self._cache.features[name][0])

    def roi_align_geometry(self, proposal: int) -> RoiAlignGeometry:
        """How the box head's RoIAlign sampled proposal ``proposal`` (bins, sample points,
        bilinear weights) on the FPN level LevelMapper chose for it."""
        roi = self.roi
        level = int(roi.proposal_pool_level[proposal])
        name = roi.pool_featmap_names[level]
        shape = next(f.shape for f in self.features if f.name == name)
        return roi_align_geometry(
            roi.proposals_resized[proposal],
            roi.pool_scales[level],
            roi.pool_output_size,
            roi.pool_sampling_ratio,
            False,
            shape[1],
            shape[2],
        )

    def nbytes(self) -> int:
        """Approximate memory held: numpy arrays of every stage plus the cached tensors."""
        return _nbytes(self, set())

    def rerun(
        self,
        *,
        score_thresh: float | None = None,
        nms_thresh: float | None = None,
        detections_per_img: int | None = None,
        rpn_nms_thresh: float | None = None,
        rpn_post_nms_top_n: int | None = None,
    ) -> Trace:
        """A new Trace with other post-processing thresholds, without a backbone pass.

        Box-head settings reuse the cached head outputs; RPN settings redo the RPN NMS and
        the RoI head from the cached features. Equals tracing a model built with them.
        """
        settings = replace(
            self.settings,
            **{
                k: v
                for k, v in dict(
                    score_thresh=score_thresh,
                    nms_thresh=nms_thresh,
                    detections_per_img=detections_per_img,
                    rpn_nms_thresh=rpn_nms_thresh,
                    rpn_post_nms_top_n=rpn_post_nms_top_n,
                ).items()
                if v is not None
            },
        )
        _check_settings(settings)
        cache, rpn = self._cache, self.rpn
        rpn_changed = (settings.rpn_nms_thresh, settings.rpn_post_nms_top_n) != (
            self.settings.rpn_nms_thresh,
            self.settings.rpn_post_nms_top_n,
        )
        needs_features = rpn_changed or self.masks is not None or self.keypoints is not None
        if needs_features and cache.features is None:
            raise TraceError("features were dropped from this trace; trace the image again")
        with torch.inference_mode():
            box_head = cache.box_head
            if rpn_changed:
                rpn = rpn.with_nms(settings.rpn_nms_thresh, settings.rpn_post_nms_top_n)
                box_head = run_box_head(
                    cache.module.roi_heads, cache.features, rpn.proposals_tensor, cache.image_sizes
                )
            new_cache = _Cache(cache.module, cache.features, cache.image_sizes, box_head)
            return _assemble(
                new_cache, settings, self.input, self.features, self.anchors, rpn, self.categories
            )


def _nbytes(value, seen: set) -> int:
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, torch.Tensor):
        return value.element_size() * value.nelement()
    if isinstance(value, dict):
        return sum(_nbytes(v, seen) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_nbytes(v, seen) for v in value)
    if hasattr(value, "__dict__") and not isinstance(value, torch.nn.Module):
        return sum(_nbytes(v, seen) for v in vars(value).values())
    return 0


def _check_settings(settings: TraceSettings) -> None:
    for name in ("score_thresh", "nms_thresh", "rpn_nms_thresh"):
        value = getattr(settings, name)
        if not 0.0 <= value <= 1.0:
            raise TraceError(f"{name} must be between 0 and 1, got {value}")
    for name in ("detections_per_img", "rpn_post_nms_top_n"):
        if getattr(settings, name) < 0:
            raise TraceError(f"{name} must be >= 0, got {getattr(settings, name)}")


def trace_image(model: DetModel, image: np.ndarray) -> Trace:
    """Run ``model`` on ``image`` (H x W x 3 uint8 RGB) recording every step.

    ``trace.detections`` equals ``model.module([image_to_tensor(image, model.device)])``.
    """
    _check_image(image)
    module = model.module
    if module.training:
        raise ModelError("the model is in training mode; trace needs module.eval()")
    with torch.inference_mode():
        images, originals = prepare(module.transform, [image], model.device)
        original_size = originals[0]
        features = module.backbone(images.tensors)
        if isinstance(features, torch.Tensor):
            features = OrderedDict([("0", features)])
        feature_list = list(features.values())
        anchors = module.rpn.anchor_generator(images, feature_list)[0]
        settings = TraceSettings.from_module(module)
        rpn = run_rpn(
            module.rpn,
            images,
            feature_list,
            anchors,
            settings.rpn_nms_thresh,
            settings.rpn_post_nms_top_n,
        )
        box_head = run_box_head(
            module.roi_heads, features, rpn.proposals_tensor, images.image_sizes
        )
        cache = _Cache(module, features, list(images.image_sizes), box_head)
        input_stage = _input_stage(module.transform, original_size, images)
        levels, anchor_info = _feature_stages(
            module.rpn.anchor_generator, features, input_stage.padded_size, anchors
        )
        return _assemble(
            cache, settings, input_stage, levels, anchor_info, rpn, list(model.categories)
        )


def _check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", None)
        raise TraceError(f"expected an H x W x 3 RGB image array, got shape {shape}")
    if image.dtype != np.uint8:
        raise TraceError(f"expected a uint8 image, got {image.dtype}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise TraceError(f"the image is empty ({image.shape[1]} x {image.shape[0]})")


def _assemble(
    cache: _Cache,
    settings: TraceSettings,
    input_stage: InputStage,
    levels: list[FeatureLevel],
    anchors: AnchorStage,
    rpn: RpnStage,
    categories: list[str],
) -> Trace:
    """Box post-processing, mask / keypoint branches and the final postprocess."""
    module = cache.module
    roi, result = postprocess(
        module.roi_heads,
        cache.box_head,
        cache.image_sizes[0],
        settings.score_thresh,
        settings.nms_thresh,
        settings.detections_per_img,
    )
    output, masks, keypoints = finish(
        module, cache.features, result, cache.image_sizes, input_stage.original_size
    )
    chain = provenance(roi, rpn.proposal_anchor, anchors.anchors_resized, rpn.deltas)
    return Trace(
        Detections.from_torch(output, input_stage.original_size),
        settings,
        input_stage,
        levels,
        anchors,
        rpn,
        roi,
        chain,
        masks,
        keypoints,
        categories,
        cache,
    )


def _input_stage(transform, original_size: tuple[int, int], images) -> InputStage:
    resized = (int(images.image_sizes[0][0]), int(images.image_sizes[0][1]))
    padded = (int(images.tensors.shape[-2]), int(images.tensors.shape[-1]))
    min_size = float(transform.min_size[-1])
    max_size = float(transform.max_size)
    scale = min(min_size / min(original_size), max_size / max(original_size))
    return InputStage(
        original_size,
        resized,
        padded,
        scale,
        resized[1] / original_size[1],
        resized[0] / original_size[0],
        tuple(float(v) for v in transform.image_mean),
        tuple(float(v) for v in transform.image_std),
    )


def _feature_stages(
    anchor_generator, features: OrderedDict, padded_size: tuple[int, int], anchors: torch.Tensor
) -> tuple[list[FeatureLevel], AnchorStage]:
    levels, grids, strides = [], [], []
    for name, feature in features.items():
        grid = (int(feature.shape[-2]), int(feature.shape[-1]))
        stride = (padded_size[0] // grid[0], padded_size[1] // grid[1])
        levels.append(FeatureLevel(name, tuple(int(s) for s in feature.shape[1:]), stride))
        grids.append(grid)
        strides.append(stride)
    stage = anchor_stage(anchor_generator, to_numpy(anchors), grids, strides, list(features))
    return levels, stage
