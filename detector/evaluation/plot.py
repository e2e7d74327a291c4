"""Per-class precision-recall curves drawn with OpenCV (matplotlib is not a dependency)."""

from __future__ import annotations

import colorsys
from pathlib import Path

import numpy as np

from detector.evaluation.params import EvaluationError

CELL_W, CELL_H, MARGIN = 320, 260, 36


def _color(index: int, count: int) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(index / max(count, 1), 0.8, 0.85)
    return int(b * 255), int(g * 255), int(r * 255)


def render_pr_plot(result, iou: float = 0.5, columns: int = 4) -> np.ndarray:
    """BGR image: one panel per category with ground truth, raw curve and 101-point curve."""
    import cv2

    ids = [
        c for c, row in zip(result.category_ids, result.per_class, strict=True) if row.num_gt > 0
    ]
    rows = max(1, -(-len(ids) // columns))
    image = np.full((rows * CELL_H, columns * CELL_W, 3), 255, np.uint8)
    for i, category_id in enumerate(ids):
        x0, y0 = (i % columns) * CELL_W, (i // columns) * CELL_H
        _panel(
            cv2,
            image,
            x0,
            y0,
            result.pr_curve(category_id, iou),
            _color(i, len(ids)),
            result.data.categories[category_id],
        )
    return image


def _panel(cv2, image, x0, y0, curve, color, name) -> None:
    left, top = x0 + MARGIN, y0 + 24
    width, height = CELL_W - MARGIN - 12, CELL_H - 24 - MARGIN

    def to_pixels(recall: np.ndarray, precision: np.ndarray) -> np.ndarray:
        xs = left + np.clip(recall, 0, 1) * width
        ys = top + (1 - np.clip(precision, 0, 1)) * height
        return np.stack([xs, ys], 1).round().astype(np.int32)

    cv2.rectangle(image, (left, top), (left + width, top + height), (160, 160, 160), 1)
    for tick in (0.0, 0.5, 1.0):
        cv2.putText(
            image,
            f"{tick:.1f}",
            (left - 30, int(top + (1 - tick) * height) + 4),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.35,
            (90, 90, 90),
            1,
            cv2.LINE_AA,
        )
        cv2.putText(
            image,
            f"{tick:.1f}",
            (int(left + tick * width) - 8, top + height + 14),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.35,
            (90, 90, 90),
            1,
            cv2.LINE_AA,
        )
    interpolated = curve.interpolated
    recall_grid = np.linspace(0, 1, len(interpolated))
    cv2.polylines(
        image, [to_pixels(recall_grid, interpolated)], False, (170, 170, 170), 1, cv2.LINE_AA
    )
    if curve.recall.size:
        cv2.polylines(
            image, [to_pixels(curve.recall, curve.precision)], False, color, 2, cv2.LINE_AA
        )
    title = f"{name[:18]}  AP50 {curve.ap('coco'):.3f}  n={curve.num_positives}"
    cv2.putText(
        image, title, (x0 + 8, y0 + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA
    )


def write_pr_plot(result, path: Path, iou: float = 0.5) -> Path:
    import cv2

    from detector.io.files import atomic_write_bytes

    ok, encoded = cv2.imencode(".png", render_pr_plot(result, iou))
    if not ok:
        raise EvaluationError(f"could not encode the PR plot for {path}")
    return atomic_write_bytes(path, encoded.tobytes())
