"""``main.py eval GT.json DETECTIONS.json``: COCO summary, per-class AP, JSON, PR plot."""

from __future__ import annotations

import argparse
from pathlib import Path

from detector.evaluation.params import EvaluationError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("gt", type=Path, help="ground truth: COCO dataset JSON")
    parser.add_argument(
        "detections", type=Path, help="COCO results list, or a COCO dataset JSON with scores"
    )
    parser.add_argument("--iou-type", choices=("bbox", "segm"), default="bbox")
    parser.add_argument("--per-class", action="store_true", help="print the per-class AP table")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write all numbers as JSON")
    parser.add_argument("--plot", type=Path, metavar="PR.png", help="draw per-class PR curves")


def run(args: argparse.Namespace) -> int:
    from detector.evaluation import evaluate, from_coco
    from detector.evaluation.report import per_class_table

    result = evaluate(
        from_coco(_load(args.gt), _load(args.detections), args.iou_type), args.iou_type
    )
    print("\n".join(result.summary_lines()))
    if args.per_class or args.json is None:
        print()
        print("\n".join(per_class_table(result.per_class)))
    if args.json is not None:
        from detector.io.files import atomic_write_json

        atomic_write_json(args.json, result.to_json())
        print(f"wrote {args.json}")
    if args.plot is not None:
        from detector.evaluation.plot import write_pr_plot

        write_pr_plot(result, args.plot)
        print(f"wrote {args.plot}")
    return 0


def _load(path: Path):
    """Parse a JSON file; every failure (syntax, huge numbers, nesting) as EvaluationError."""
    from detector.errors import AnnotationError
    from detector.io.documents import read_json

    try:
        return read_json(path)
    except AnnotationError as exc:
        where = "".join(f"{part}: " for part in (exc.file, exc.location) if part)
        raise EvaluationError(f"{where}not readable JSON ({exc.message})") from None
