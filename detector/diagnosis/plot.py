"""Diagnosis charts drawn with OpenCV (matplotlib is not a dependency): BGR uint8 images.

render_bars: labelled horizontal bars (TIDE dAP, funnel counts). render_stacked: COCO
analyze's stacked PR curves. render_lines: a sweep (x -> one or more y series).
"""

from __future__ import annotations

import colorsys
from pathlib import Path

import numpy as np

from detector.errors import DetScopeError

FONT_SCALE = 0.45
STACK_COLORS = (  # C75 .. FN, BGR, as the COCO analyze figures (light to dark)
    (255, 255, 255),
    (190, 130, 80),
    (60, 170, 230),
    (100, 200, 100),
    (80, 80, 200),
    (200, 120, 180),
    (120, 120, 120),
)


def _color(index: int, count: int) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(index / max(count, 1), 0.75, 0.85)
    return int(b * 255), int(g * 255), int(r * 255)


def _text(cv2, image, text, origin, color=(0, 0, 0), scale=FONT_SCALE) -> None:
    cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, color, 1, cv2.LINE_AA)


def render_bars(
    title: str, values: dict[str, float], unit: str = "", width: int = 560
) -> np.ndarray:
    """One horizontal bar per (label, value), scaled to the largest value."""
    import cv2

    row, left, top = 26, 150, 34
    image = np.full((top + row * max(len(values), 1) + 16, width, 3), 255, np.uint8)
    _text(cv2, image, title, (10, 20), scale=0.55)
    biggest = max([abs(v) for v in values.values()] + [1e-9])
    span = width - left - 90
    for i, (label, value) in enumerate(values.items()):
        y = top + i * row
        length = int(round(span * abs(value) / biggest))
        cv2.rectangle(
            image, (left, y + 4), (left + length, y + row - 6), _color(i, len(values)), -1
        )
        _text(cv2, image, label[:20], (10, y + row - 9))
        _text(cv2, image, f"{value:.2f}{unit}", (left + length + 6, y + row - 9))
    return image


def render_stacked(
    title: str, curves: np.ndarray, labels: list[str], areas: list[float]
) -> np.ndarray:
    """curves (float[7, R]) increasing precision over recall 0..1, filled between layers."""
    import cv2

    width, height, left, top, plot = 520, 420, 50, 30, 320
    image = np.full((height, width, 3), 255, np.uint8)
    _text(cv2, image, f"{title[:50]} (precision vs recall)", (10, 20), scale=0.5)
    recall = np.linspace(0, 1, curves.shape[1])
    xs = left + recall * plot
    previous = np.zeros_like(recall)
    for t in range(curves.shape[0] - 1, -1, -1):  # darkest (FN) first, lighter on top
        ys = top + (1 - np.clip(curves[t], 0, 1)) * plot
        polygon = np.concatenate(
            [np.stack([xs, ys], 1), [[left + plot, top + plot], [left, top + plot]]]
        )
        cv2.fillPoly(image, [polygon.round().astype(np.int32)], STACK_COLORS[t % 7])
        cv2.polylines(image, [np.stack([xs, ys], 1).round().astype(np.int32)], False, (0, 0, 0), 1)
        previous = curves[t]
    del previous
    cv2.rectangle(image, (left, top), (left + plot, top + plot), (0, 0, 0), 1)
    for i, (label, area) in enumerate(zip(labels, areas, strict=True)):
        y = top + 16 + i * 22
        cv2.rectangle(
            image, (left + plot + 14, y - 11), (left + plot + 28, y + 2), STACK_COLORS[i % 7], -1
        )
        cv2.rectangle(image, (left + plot + 14, y - 11), (left + plot + 28, y + 2), (0, 0, 0), 1)
        _text(cv2, image, f"[{area:.3f}] {label}", (left + plot + 34, y))
    _text(cv2, image, "recall", (left + plot // 2 - 20, top + plot + 30))
    return image


def render_lines(
    title: str, xs: np.ndarray, series: dict[str, np.ndarray], x_label: str
) -> np.ndarray:
    """Line chart of each series (values in 0..1 or any range, scaled to its max)."""
    import cv2

    width, height, left, top, plot_w, plot_h = 560, 380, 56, 30, 340, 300
    image = np.full((height, width, 3), 255, np.uint8)
    _text(cv2, image, title[:60], (10, 20), scale=0.5)
    xs = np.asarray(xs, float)
    lo, hi = float(xs.min(initial=0)), float(xs.max(initial=1))
    y_max = max([float(np.nanmax(v)) for v in series.values() if len(v)] + [1e-9])
    cv2.rectangle(image, (left, top), (left + plot_w, top + plot_h), (0, 0, 0), 1)
    for i, (name, ys) in enumerate(series.items()):
        px = left + (xs - lo) / max(hi - lo, 1e-12) * plot_w
        py = top + (1 - np.nan_to_num(np.asarray(ys, float)) / y_max) * plot_h
        points = np.stack([px, py], 1).round().astype(np.int32)
        cv2.polylines(image, [points], False, _color(i, len(series)), 2, cv2.LINE_AA)
        _text(
            cv2, image, name[:22], (left + plot_w + 10, top + 16 + 20 * i), _color(i, len(series))
        )
    _text(cv2, image, f"{lo:g}", (left - 4, top + plot_h + 16))
    _text(cv2, image, f"{hi:g}", (left + plot_w - 16, top + plot_h + 16))
    _text(cv2, image, x_label, (left + plot_w // 2 - 30, top + plot_h + 30))
    _text(cv2, image, f"{y_max:.3g}", (4, top + 8))
    return image


def write_png(image: np.ndarray, path: str | Path) -> Path:
    import cv2

    from detector.io.files import atomic_write_bytes

    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise DetScopeError(f"{path}: could not encode the chart as PNG")
    return atomic_write_bytes(path, encoded.tobytes())
