"""Trace a whole dataset once, keep the traces, and answer the funnel and TIDE from them.

items = items_from_dataset(dataset)                    # or items_from_coco(gt_dict, root)
cache = TraceCache()
diagnosis = diagnose_dataset(model, items, categories, cache=cache)
diagnosis.funnel.counts(), diagnosis.tide().main
again = diagnose_dataset(model, items, categories, cache=cache, settings={"score_thresh": .5})
# ^ no backbone pass: every trace is re-run from the cached head outputs (Trace.rerun)

``diagnose_job`` is the same as a generator that yields (done, total, message) for
app/workers.py (progress and Cancel); ``diagnose_dataset`` drains it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from detector.diagnosis.anchors import AnchorReport, anchor_report, anchor_shapes, proposal_best_iou
from detector.diagnosis.funnel import FunnelResult, lost_stages
from detector.diagnosis.tide import TideResult, tide
from detector.errors import DetScopeError
from detector.evaluation.inputs import EvaluationInput, ImageInstances

SETTING_NAMES = (
    "score_thresh",
    "nms_thresh",
    "detections_per_img",
    "rpn_nms_thresh",
    "rpn_post_nms_top_n",
)


@dataclass(kw_only=True)
class DiagnosisItem:
    """One image to diagnose: boxes (float64[G, 4]) xyxy image pixels, categories (int64[G])
    dataset category ids, iscrowd (bool[G]), object_ids (int64[G]) annotation ids."""

    image_id: int
    path: Path
    boxes: np.ndarray
    categories: np.ndarray
    iscrowd: np.ndarray
    object_ids: np.ndarray

    def ground_truth(self) -> ImageInstances:
        return ImageInstances.from_xyxy(
            self.boxes, self.categories, iscrowd=self.iscrowd, ids=self.object_ids
        )


def items_from_dataset(dataset, image_ids: list[int] | None = None) -> list[DiagnosisItem]:
    """Every image of a ``detector.data.Dataset`` (or ``image_ids``) with its objects."""
    items = []
    for image_id in image_ids if image_ids is not None else sorted(dataset.images):
        objects = dataset.objects_in(image_id)
        items.append(
            DiagnosisItem(
                image_id=image_id,
                path=dataset.image_path(image_id),
                boxes=np.array([o.box for o in objects], np.float64).reshape(-1, 4),
                categories=np.array([o.category_id for o in objects], np.int64),
                iscrowd=np.array([o.iscrowd for o in objects], bool),
                object_ids=np.array([o.id for o in objects], np.int64),
            )
        )
    return items


def category_mapping(model_categories: list[str], categories: dict[int, str]) -> np.ndarray:
    """int64[L]: dataset category id of each model label (-1: none; label 0 is background).

    By name; when no name matches but the counts do (an untrained ``class_1`` ... model),
    by position in ascending id order."""
    by_name = {name: category_id for category_id, name in categories.items()}
    mapping = np.array([by_name.get(name, -1) for name in model_categories], np.int64)
    if len(mapping):
        mapping[0] = -1
    if not (mapping >= 0).any() and len(model_categories) - 1 == len(categories):
        mapping[1:] = sorted(categories)
    return mapping


def model_key(model) -> str:
    settings = ",".join(f"{k}={v!r}" for k, v in sorted(model.settings.items()))
    return f"{model.architecture}|{model.source}|{model.trained}|{settings}|{id(model.module)}"


def _signature(path: Path) -> tuple[str, int, int]:
    try:
        stat = os.stat(path)
    except OSError:
        return (str(path), -1, -1)
    return (str(path), stat.st_mtime_ns, stat.st_size)


class TraceCache:
    """Traces keyed by (image file signature, model, settings).

    The first trace of an image runs the model; a request with other settings re-runs the
    cached trace (``Trace.rerun``: no backbone pass). ``keep_features=False`` frees the
    backbone features (RPN settings then need a new trace)."""

    def __init__(self, keep_features: bool = True) -> None:
        self.keep_features = keep_features
        self._base: dict[tuple, object] = {}
        self._variants: dict[tuple, object] = {}
        self.backbone_passes = 0

    def __len__(self) -> int:
        return len(self._base)

    def clear(self) -> None:
        self._base.clear()
        self._variants.clear()

    def trace(self, model, item: DiagnosisItem, settings: dict | None = None):
        from detector.io.images import read_image
        from detector.trace.pipeline import trace_image

        key = (_signature(item.path), model_key(model))
        base = self._base.get(key)
        if base is None:
            base = trace_image(model, read_image(item.path))
            self.backbone_passes += 1
            if not self.keep_features and base.masks is None:
                base.drop_features()
            self._base[key] = base
        wanted = {k: v for k, v in (settings or {}).items() if v is not None}
        if not wanted or all(getattr(base.settings, k) == v for k, v in wanted.items()):
            return base
        variant_key = (*key, tuple(sorted(wanted.items())))
        variant = self._variants.get(variant_key)
        if variant is None:
            variant = self._rerun(model, item, base, wanted)
            self._variants = {k: v for k, v in self._variants.items() if k[:2] != key}
            self._variants[variant_key] = variant
        return variant

    def _rerun(self, model, item: DiagnosisItem, base, wanted: dict):
        """base.rerun(**wanted); RPN settings on a trace whose features were dropped need
        them back: one new backbone pass, the features dropped again afterwards."""
        from detector.io.images import read_image
        from detector.trace.pipeline import TraceError, trace_image

        try:
            return base.rerun(**wanted)
        except TraceError:
            if base.features_kept:
                raise
        fresh = trace_image(model, read_image(item.path))
        self.backbone_passes += 1
        variant = fresh.rerun(**wanted)
        if variant.masks is None:
            variant.drop_features()
        return variant


@dataclass(kw_only=True)
class DatasetDiagnosis:
    """funnel: per-object stages; data: ground truth + the traced detections (dataset
    category ids) for TIDE / COCO analyze; detections: image id -> (boxes xyxy, labels,
    scores) as the model gave them; failures: image id -> message; settings: the
    thresholds the traces used; anchor_shapes: the model's anchor (w, h)."""

    funnel: FunnelResult
    data: EvaluationInput
    detections: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]
    failures: dict[int, str] = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    anchor_shapes: np.ndarray | None = None  # float64[S, 2] the model's anchor (w, h)

    def tide(self) -> TideResult:
        return tide(self.data)

    def anchors(self, k: int | None = None) -> AnchorReport:
        """Anchor coverage of the diagnosed objects and a k-means suggestion."""
        shapes = np.zeros((0, 2)) if self.anchor_shapes is None else self.anchor_shapes
        return anchor_report(self.funnel.wh_resized, self.funnel.best_anchor_iou, shapes, k)


def diagnose_job(
    model,
    items: list[DiagnosisItem],
    categories: dict[int, str],
    *,
    cache: TraceCache | None = None,
    settings: dict | None = None,
) -> Iterator[tuple[int, int, str]]:
    """Generator: yields (done, total, message) per image, returns a DatasetDiagnosis."""
    cache = TraceCache() if cache is None else cache
    mapping = category_mapping(list(model.categories), categories)
    label_of = {int(c): label for label, c in enumerate(mapping) if c >= 0}
    parts, gt, dt, raw, failures, used = [], {}, {}, {}, {}, dict(settings or {})
    total = len(items)
    yield 0, total, "Tracing…"
    for done, item in enumerate(items, start=1):
        gt[item.image_id] = item.ground_truth()
        try:
            trace = cache.trace(model, item, settings)
        except (DetScopeError, OSError) as exc:
            failures[item.image_id] = str(exc)
            yield done, total, f"skipped {item.path.name}"
            continue
        used = asdict(trace.settings)
        parts.append(_funnel_part(trace, item, label_of))
        det = trace.detections
        boxes, labels = np.asarray(det.boxes), np.asarray(det.labels, np.int64)
        scores = np.asarray(det.scores)
        raw[item.image_id] = (boxes, labels, scores)
        dt[item.image_id] = detections_to_instances(boxes, labels, scores, mapping)
        yield done, total, item.path.name
    return DatasetDiagnosis(
        funnel=FunnelResult.concatenate(parts, categories),
        data=EvaluationInput(gt, dt, dict(categories)),
        detections=raw,
        failures=failures,
        settings=used,
        anchor_shapes=_shapes_of(model),
    )


def diagnose_dataset(
    model,
    items: list[DiagnosisItem],
    categories: dict[int, str],
    *,
    cache: TraceCache | None = None,
    settings: dict | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> DatasetDiagnosis:
    job = diagnose_job(model, items, categories, cache=cache, settings=settings)
    while True:
        try:
            update = next(job)
        except StopIteration as stop:
            return stop.value
        if progress is not None:
            progress(*update)


def _shapes_of(model) -> np.ndarray | None:
    try:
        return anchor_shapes(model.module)
    except AttributeError:  # not a torchvision R-CNN (a test stand-in)
        return None


def _funnel_part(trace, item: DiagnosisItem, label_of: dict[int, int]) -> FunnelResult:
    labels = np.array([label_of.get(int(c), -1) for c in item.categories], np.int64)
    keep = ~item.iscrowd & (labels >= 0)
    stages, best_anchor = lost_stages(trace, item.boxes[keep], labels[keep])
    boxes = item.boxes[keep]
    resized = trace.input.boxes_to_resized(boxes.astype(np.float32))
    return FunnelResult(
        image_ids=np.full(int(keep.sum()), item.image_id, np.int64),
        object_ids=item.object_ids[keep],
        categories=item.categories[keep],
        areas=(boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]),
        stages=stages,
        best_anchor_iou=best_anchor,
        category_names={},
        proposal_iou=proposal_best_iou(trace, resized),
        wh_resized=resized[:, 2:] - resized[:, :2],
    )


def detections_to_instances(boxes, labels, scores, mapping: np.ndarray) -> ImageInstances:
    """Model-label detections (xyxy) as evaluation instances with dataset category ids
    (labels without a category dropped; ids: the index in the model output)."""
    inside = (labels >= 0) & (labels < len(mapping))
    category = np.full(len(labels), -1, np.int64)
    category[inside] = mapping[labels[inside]]
    keep = np.flatnonzero(category >= 0)
    return ImageInstances.from_xyxy(
        np.asarray(boxes, np.float64)[keep],
        category[keep],
        scores=np.asarray(scores, np.float64)[keep],
        ids=keep,
    )
