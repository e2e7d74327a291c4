"""Per-object flags: ``iscrowd`` (COCO) and ``difficult`` / ``truncated`` / ``occluded`` (VOC).

``iscrowd`` is :attr:`Annotation.iscrowd`; the VOC flags live in ``annotation.extra`` as
0/1 ints (how the VOC reader keeps them, and how COCO writes them back as extra fields).
Evaluation treats crowd and difficult objects as ignored regions (pycocotools, VOC devkit).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from detector.data.dataset import Annotation

VOC_FLAGS = ("difficult", "truncated", "occluded")
FLAGS = ("iscrowd", *VOC_FLAGS)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def object_flags(annotation: Annotation) -> dict[str, bool]:
    """Every flag of ``annotation`` (False when absent)."""
    extra = annotation.extra or {}
    flags = {"iscrowd": bool(annotation.iscrowd)}
    flags.update({name: _truthy(extra.get(name, 0)) for name in VOC_FLAGS})
    return flags


def with_flags(annotation: Annotation, **flags: bool) -> Annotation:
    """A copy of ``annotation`` with the given flags set (unknown names raise ValueError).

    A VOC flag set to False is removed from ``extra`` unless it was there already (then 0),
    so objects that never had VOC flags stay as they were.
    """
    unknown = set(flags) - set(FLAGS)
    if unknown:
        raise ValueError(f"unknown flags {sorted(unknown)}; known: {FLAGS}")
    extra = dict(annotation.extra or {})
    for name in VOC_FLAGS:
        if name not in flags:
            continue
        if flags[name]:
            extra[name] = 1
        elif name in extra:
            extra[name] = 0
    iscrowd = bool(flags.get("iscrowd", annotation.iscrowd))
    return replace(annotation, iscrowd=iscrowd, extra=extra or None)


def is_ignored(annotation: Annotation) -> bool:
    """True for objects evaluation ignores: crowd (COCO) or difficult (VOC)."""
    return bool(annotation.iscrowd) or _truthy((annotation.extra or {}).get("difficult", 0))


def lift_flags(annotation: Annotation) -> Annotation:
    """Move known flags out of a LabelMe-style ``extra["flags"]`` dict onto the object.

    ``{"flags": {"iscrowd": true, "difficult": false, "mine": true}}`` sets ``iscrowd`` and
    keeps ``mine`` in ``extra["flags"]``; a flags dict left empty is dropped.
    """
    extra = dict(annotation.extra or {})
    flags = extra.get("flags")
    if not isinstance(flags, dict) or not set(flags) & set(FLAGS):
        return annotation
    known = {name: _truthy(flags[name]) for name in FLAGS if name in flags}
    rest = {k: v for k, v in flags.items() if k not in FLAGS}
    if rest:
        extra["flags"] = rest
    else:
        extra.pop("flags")
    return with_flags(replace(annotation, extra=extra or None), **known)
