"""Procedural 'shapes' images with exact instance masks: the bundled model's training data.

Every image is a pure function of ``(seed, index)``: image ``i`` of seed ``s`` comes from its
own ``numpy`` generator seeded with ``SeedSequence([s, i])``, so a training stream, a COCO
folder written by ``main.py synth`` and a test all see the same pixels for the same pair.

An image holds 5 classes of shapes (circle, square, triangle, star, hexagon) with random
colours, rotations and a wide range of sizes (small objects included), on a textured, noisy
background. Shapes may overlap, occlude each other and be cut by the image border; a shape is
kept only while at least ``min_visible`` of it stays visible, so every instance remains
recognisable. Masks are the visible pixels, exactly the pixels painted with that shape's
colour; boxes are the masks' extents (``x2 = last column + 1``, COCO's convention).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from detector.data.dataset import Annotation, Category, ImageRecord
from detector.data.masks import encode_mask_rle
from detector.data.palette import palette_color
from detector.formats.coco_write import (
    annotation_dict,
    category_dict,
    coco_document,
    image_dict,
    write_coco,
)

SHAPE_NAMES = ("circle", "square", "triangle", "star", "hexagon")
_SUBPIXEL_BITS = 4  # cv2.fillPoly fixed-point precision


@dataclass(frozen=True, kw_only=True)
class SynthConfig:
    """The knobs of the generator. Sizes are in pixels, independent of the image size."""

    height: int = 512
    width: int = 512
    min_radius: float = 7.0  # circumradius: 7 px is a ~12 px object
    max_radius: float = 80.0
    objects_per_512: tuple[int, int] = (4, 14)  # per 512x512 of area
    min_visible: float = 0.55  # fraction of a shape's in-image area left visible
    max_truncation: float = 0.4  # fraction of a shape allowed outside the image
    noise_sigma: tuple[float, float] = (2.0, 14.0)
    min_contrast: float = 70.0  # RGB distance between a shape and its background
    cluster_probability: float = 0.35  # chance a shape is placed against an earlier one


@dataclass
class SyntheticSample:
    """One generated image and its ground truth.

    image (uint8[H, W, 3]) RGB; masks (bool[N, H, W]) visible pixels; boxes (float32[N, 4])
    in [x1, y1, x2, y2] image pixels; labels (int64[N]) in 1..5 (index into
    ``("__background__",) + SHAPE_NAMES``).
    """

    image: np.ndarray
    masks: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray

    @property
    def areas(self) -> np.ndarray:
        return self.masks.reshape(len(self.masks), -1).sum(axis=1).astype(np.float64)


def make_sample(seed: int, index: int, config: SynthConfig | None = None) -> SyntheticSample:
    """Image ``index`` of the stream ``seed`` (deterministic: same arguments, same bytes)."""
    config = config or SynthConfig()
    rng = np.random.default_rng(np.random.SeedSequence([seed, index]))
    background = _background(rng, config.height, config.width)
    shapes = _place_shapes(rng, config)
    image = background.copy()
    for shape in shapes:
        image[shape.full] = _shaded_fill(rng, shape, background, config.min_contrast)
    image += rng.normal(0.0, rng.uniform(*config.noise_sigma), image.shape).astype(np.float32)
    if rng.random() < 0.3:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.5, 1.0))
    image_u8 = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return _finish(image_u8, shapes, config)


@dataclass
class _Shape:
    label: int
    polygon: np.ndarray  # float[K, 2] vertices (x, y)
    full: np.ndarray  # bool[H, W] in-image pixels of the whole shape
    visible: np.ndarray  # bool[H, W] pixels not covered by later shapes


def _unit_polygon(label: int, rng: np.random.Generator) -> np.ndarray:
    """Vertices with circumradius 1 around the origin."""
    name = SHAPE_NAMES[label - 1]
    if name == "star":
        outer = np.linspace(0, 2 * np.pi, 5, endpoint=False)
        angles = np.stack([outer, outer + np.pi / 5], axis=1).ravel()
        radii = np.tile([1.0, rng.uniform(0.38, 0.5)], 5)
        return np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1)
    corners = {"circle": 48, "square": 4, "triangle": 3, "hexagon": 6}[name]
    angles = np.linspace(0, 2 * np.pi, corners, endpoint=False)
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _random_polygon(
    rng: np.random.Generator, config: SynthConfig, near: list[_Shape]
) -> tuple[int, np.ndarray]:
    """A random shape; with ``near`` shapes, often placed against one of them (occlusion)."""
    label = int(rng.integers(1, len(SHAPE_NAMES) + 1))
    radius = float(np.exp(rng.uniform(np.log(config.min_radius), np.log(config.max_radius))))
    stretch = rng.uniform(0.85, 1.15)
    angle = rng.uniform(0, 2 * np.pi)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    unit = _unit_polygon(label, rng) * np.array([stretch, 1.0 / stretch])
    center = rng.uniform([0, 0], [config.width, config.height])
    if near and rng.random() < config.cluster_probability:
        other = near[int(rng.integers(len(near)))].polygon
        reach = np.linalg.norm(other - other.mean(axis=0), axis=1).max() + radius
        center = other.mean(axis=0) + rng.uniform(-reach, reach, 2) * 0.8
    return label, unit @ rotation.T * radius + center


def _rasterize(polygon: np.ndarray, height: int, width: int) -> np.ndarray:
    canvas = np.zeros((height, width), np.uint8)
    # pixel (x, y) covers [x, x+1): its centre is x + 0.5, so shift by half a pixel
    points = np.rint((polygon - 0.5) * (1 << _SUBPIXEL_BITS)).astype(np.int32)
    cv2.fillPoly(canvas, [points], 1, lineType=cv2.LINE_8, shift=_SUBPIXEL_BITS)
    return canvas.astype(bool)


def _place_shapes(rng: np.random.Generator, config: SynthConfig) -> list[_Shape]:
    scale = config.height * config.width / 512**2
    low, high = config.objects_per_512
    wanted = int(rng.integers(max(1, round(low * scale)), max(1, round(high * scale)) + 1))
    shapes: list[_Shape] = []
    for _ in range(wanted * 6):
        if len(shapes) == wanted:
            break
        label, polygon = _random_polygon(rng, config, shapes)
        full = _rasterize(polygon, config.height, config.width)
        polygon_area = abs(cv2.contourArea(polygon.astype(np.float32)))
        if full.sum() < max(20.0, (1 - config.max_truncation) * polygon_area):
            continue
        if all(_still_visible(old, full, config) for old in shapes):
            for old in shapes:
                old.visible &= ~full
            shapes.append(_Shape(label, polygon, full, full.copy()))
    return shapes


def _still_visible(shape: _Shape, cover: np.ndarray, config: SynthConfig) -> bool:
    left = np.count_nonzero(shape.visible & ~cover)
    return left >= max(20, config.min_visible * np.count_nonzero(shape.full))


def _background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    base = rng.uniform(0, 255, 3)
    grid = rng.integers(2, 9)
    blobs = rng.normal(0, 1, (grid, grid, 3)).astype(np.float32)
    smooth = cv2.resize(blobs, (width, height), interpolation=cv2.INTER_CUBIC)
    image = base + smooth * rng.uniform(15, 60)
    if rng.random() < 0.5:
        image += _texture(rng, height, width)[..., None] * rng.uniform(-1, 1, 3) * 40
    return image.astype(np.float32)


def _texture(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Stripes, a checkerboard or fine grain, in -1..1."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    period = rng.uniform(6, 40)
    u = (x * np.cos(angle) + y * np.sin(angle)) * 2 * np.pi / period
    kind = rng.integers(3)
    if kind == 0:
        return np.sin(u)
    if kind == 1:
        v = (-x * np.sin(angle) + y * np.cos(angle)) * 2 * np.pi / period
        return np.sign(np.sin(u) * np.sin(v))
    grain = rng.normal(0, 1, (height // 4 + 1, width // 4 + 1)).astype(np.float32)
    return np.clip(cv2.resize(grain, (width, height), interpolation=cv2.INTER_LINEAR), -1, 1)


def _shaded_fill(
    rng: np.random.Generator, shape: _Shape, background: np.ndarray, min_contrast: float
) -> np.ndarray:
    """A random colour far from the background under the shape, with a soft linear shading."""
    under = background[shape.full].mean(axis=0)
    colour = rng.uniform(0, 255, 3)
    for _ in range(30):
        if np.linalg.norm(colour - under) >= min_contrast:
            break
        colour = rng.uniform(0, 255, 3)
    ys, xs = np.nonzero(shape.full)
    direction = rng.normal(0, 1, 2)
    ramp = (xs * direction[0] + ys * direction[1]).astype(np.float32)
    ramp = (ramp - ramp.mean()) / (np.ptp(ramp) + 1e-6)
    return colour[None, :] + ramp[:, None] * rng.uniform(0, 40)


def _finish(image: np.ndarray, shapes: list[_Shape], config: SynthConfig) -> SyntheticSample:
    height, width = config.height, config.width
    masks = np.stack([s.visible for s in shapes]) if shapes else np.zeros((0, height, width), bool)
    labels = np.array([s.label for s in shapes], np.int64)
    return SyntheticSample(image, masks, boxes_from_masks(masks), labels)


def boxes_from_masks(masks: np.ndarray) -> np.ndarray:
    """float32[N, 4] [x1, y1, x2, y2] extents of bool[N, H, W] masks (x2 = last column + 1)."""
    boxes = np.zeros((len(masks), 4), np.float32)
    for i, mask in enumerate(masks):
        ys = np.flatnonzero(mask.any(axis=1))
        xs = np.flatnonzero(mask.any(axis=0))
        if len(xs):
            boxes[i] = (xs[0], ys[0], xs[-1] + 1, ys[-1] + 1)
    return boxes


def to_coco(samples: list[SyntheticSample], file_names: list[str]) -> dict:
    """A COCO dict (images, categories 1..5, annotations with compressed RLE masks)."""
    images, annotations = [], []
    for image_id, (sample, name) in enumerate(zip(samples, file_names, strict=True), start=1):
        images.append(image_entry(sample, image_id, name))
        annotations.extend(sample_annotations(sample, image_id, len(annotations) + 1))
    return coco_dict(images, annotations)


def coco_dict(images: list[dict], annotations: list[dict]) -> dict:
    categories = [
        category_dict(Category(i + 1, name, palette_color(i), {"supercategory": "shape"}))
        for i, name in enumerate(SHAPE_NAMES)
    ]
    return coco_document(
        images, categories, annotations, info={"description": "DetScope synthetic shapes"}
    )


def image_entry(sample: SyntheticSample, image_id: int, file_name: str) -> dict:
    height, width = sample.image.shape[:2]
    return image_dict(ImageRecord(id=image_id, file_name=file_name, width=width, height=height))


def sample_annotations(sample: SyntheticSample, image_id: int, first_id: int) -> list[dict]:
    """COCO annotations of one sample: RLE of the visible mask, its extent box and area."""
    rows = []
    for mask, box, label in zip(sample.masks, sample.boxes, sample.labels, strict=True):
        obj = Annotation(
            id=first_id + len(rows),
            image_id=image_id,
            category_id=int(label),
            box=tuple(float(v) for v in box),
            mask=encode_mask_rle(mask),
        )
        rows.append(annotation_dict(obj, float(mask.sum())))
    return rows


def write_dataset(
    folder: Path,
    count: int,
    seed: int,
    config: SynthConfig | None = None,
    image_format: str = "png",
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write images ``0..count-1`` of stream ``seed`` and their ``annotations.json``."""
    from detector.io.files import atomic_write_bytes

    config = config or SynthConfig()
    folder.mkdir(parents=True, exist_ok=True)
    images: list[dict] = []
    annotations: list[dict] = []
    params = [cv2.IMWRITE_JPEG_QUALITY, 92] if image_format == "jpg" else []
    for index in range(count):
        sample = make_sample(seed, index, config)
        name = f"shapes_{seed}_{index:05d}.{image_format}"
        ok, encoded = cv2.imencode(f".{image_format}", sample.image[..., ::-1], params)
        if not ok:
            raise OSError(f"could not encode {name}")
        atomic_write_bytes(folder / name, encoded.tobytes())
        images.append(image_entry(sample, index + 1, name))
        annotations.extend(sample_annotations(sample, index + 1, len(annotations) + 1))
        if progress is not None:
            progress(index + 1, count)
    return write_coco(folder / "annotations.json", coco_dict(images, annotations))
