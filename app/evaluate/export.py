"""Export the PR plot (PNG, SVG) and the metrics (CSV, JSON) of the view on screen."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from detector.evaluation.view import EvaluationView

CSV_HEADER = ("category_id", "class", "AP", "AP50", "AP75", "AR", "GT", "TP", "FP", "FN")


def export_plot(plot_widget, path: str | Path) -> Path:
    """The plot as PNG (what is on screen, 2x) or SVG (vector), chosen by the suffix."""
    path = Path(path)
    item = plot_widget.getPlotItem()
    if path.suffix.lower() == ".svg":
        _write_svg(plot_widget, path)
    else:
        from pyqtgraph.exporters import ImageExporter

        exporter = ImageExporter(item)
        exporter.parameters()["width"] = max(2 * int(item.sceneBoundingRect().width()), 400)
        exporter.export(str(path))
    return path


def _write_svg(plot_widget, path: Path) -> None:
    """Vector output through Qt's SVG painter (pyqtgraph's SVGExporter breaks on Qt 6.12)."""
    from PySide6.QtCore import QRect, QSize
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    size = plot_widget.viewport().size()
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(QSize(size.width(), size.height()))
    generator.setViewBox(QRect(0, 0, size.width(), size.height()))
    generator.setTitle("Precision-recall curves")
    painter = QPainter(generator)
    try:
        plot_widget.render(painter)
    finally:
        painter.end()


def metrics_csv_text(view: EvaluationView) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in view.rows:
        writer.writerow(
            [row.category_id, row.name]
            + [f"{v:.6f}" for v in (row.ap, row.ap50, row.ap75, row.ar)]
            + [row.num_gt, row.tp, row.fp, row.fn]
        )
    writer.writerow(["", "mAP", f"{view.mean_ap:.6f}", "", "", "", "", "", "", ""])
    return out.getvalue()


def metrics_document(
    view: EvaluationView, stats: dict[str, float], confusion: dict | None = None
) -> dict:
    """The view's numbers; ``confusion``: the engine's ``ConfusionMatrix.to_json()``."""
    settings = view.settings
    document = {
        "settings": {
            "iou": settings.iou_mode,
            "ap_definition": settings.definition,
            "score_threshold": settings.score_threshold,
        },
        "images": view.num_images,
        "mAP": view.mean_ap,
        "coco_stats": stats,
        "per_class": [row.__dict__ for row in view.rows],
        "curves": {
            curve.name: {
                "recall": curve.interp_recall.tolist(),
                "precision": curve.interp_precision.tolist(),
            }
            for curve in view.curves.values()
        },
    }
    if confusion is not None:
        document["confusion_matrix"] = confusion
    return document


def export_metrics(
    view: EvaluationView, stats: dict[str, float], path: str | Path, result=None
) -> Path:
    """CSV (one row per class plus mAP) or JSON (settings, COCO stats, rows, curves and,
    given the ``result``, its confusion matrix at the view's match IoU and score threshold)."""
    from detector.io.files import atomic_write_bytes, atomic_write_json

    path = Path(path)
    if path.suffix.lower() == ".json":
        confusion = None
        if result is not None:
            settings = view.settings
            matrix = result.confusion_matrix(settings.match_iou, settings.score_threshold)
            confusion = matrix.to_json()
        atomic_write_json(path, metrics_document(view, stats, confusion))
    else:
        atomic_write_bytes(path, metrics_csv_text(view).encode("utf-8"))
    return path
