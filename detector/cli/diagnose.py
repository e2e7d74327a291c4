"""``main.py diagnose``: what costs AP (TIDE, COCO analyze) and where objects are lost.

    main.py diagnose GT.json DETECTIONS.json [--json OUT] [--plot DIR]
    main.py diagnose FOLDER --model M [--weights W] [--json OUT] [--plot DIR]

The first form needs no model (error breakdowns from the two files); the second traces
every annotated image of FOLDER with the model and adds the pipeline funnel.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from detector.errors import DetScopeError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", type=Path, help="ground truth COCO JSON, or a dataset folder")
    parser.add_argument(
        "detections", type=Path, nargs="?", help="COCO results JSON (with GT.json only)"
    )
    parser.add_argument("--model", help="architecture or checkpoint (FOLDER form)")
    parser.add_argument(
        "--weights", default="default", help="checkpoint, torchvision weights name, or 'none'"
    )
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N")
    parser.add_argument("--max-images", type=int, default=None, help="diagnose the first N only")
    parser.add_argument(
        "--no-sweep", action="store_true", help="skip the score-threshold what-if sweep"
    )
    parser.add_argument("--json", type=Path, metavar="OUT", help="write every number as JSON")
    parser.add_argument("--plot", type=Path, metavar="DIR", help="write PNG charts into DIR")


def run(args: argparse.Namespace) -> int:
    if args.source.is_dir():
        if args.detections is not None:
            raise DetScopeError("give either GT.json DETECTIONS.json, or FOLDER --model M")
        if not args.model:
            raise DetScopeError(f"{args.source}: a folder needs --model (architecture or .pth)")
        report, parts = _from_folder(args)
    else:
        if args.detections is None:
            raise DetScopeError(f"{args.source}: give the detections JSON too (or a folder)")
        report, parts = _from_files(args.source, args.detections)
    _add_sweep_and_f1(report, parts, sweep=not args.no_sweep)
    print("\n".join(summary_lines(report)))
    if args.json is not None:
        from detector.io.files import atomic_write_json

        atomic_write_json(args.json, report, indent=1)
        print(f"wrote {args.json}")
    if args.plot is not None:
        for path in write_plots(parts, args.plot):
            print(f"wrote {path}")
    return 0


def _load(path: Path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DetScopeError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DetScopeError(f"{path}: not readable JSON ({exc})") from None


def _from_files(gt_path: Path, dt_path: Path) -> tuple[dict, dict]:
    from detector.diagnosis import coco_analyze, tide
    from detector.evaluation import from_coco

    gt = _load(gt_path)
    data = from_coco(gt, _load(dt_path), "bbox")
    supers = {
        int(c["id"]): str(c.get("supercategory") or "")
        for c in gt.get("categories", [])
        if isinstance(c, dict) and "id" in c
    }
    breakdown, analyzed = tide(data), coco_analyze(data, supers)
    report = {"tide": breakdown.to_json(), "analyze": analyzed.to_json()}
    return report, {"tide": breakdown, "analyze": analyzed, "data": data}


def _from_folder(args: argparse.Namespace) -> tuple[dict, dict]:
    from tqdm import tqdm

    from detector.diagnosis import coco_analyze
    from detector.diagnosis.run import diagnose_dataset, items_from_dataset
    from detector.models import load_model
    from detector.store import open_dataset

    dataset = open_dataset(args.source)
    image_ids = annotated_ids(dataset)[: args.max_images]
    if not image_ids:
        raise DetScopeError(f"{args.source}: no annotated images to diagnose")
    weights = None if str(args.weights).lower() == "none" else args.weights
    model = load_model(args.model, weights=weights, device=args.device)
    if not model.trained:
        print(f"warning: {model.describe()}", file=sys.stderr)
    categories = {c.id: c.name for c in dataset.categories.values()}
    supers = {
        c.id: str((c.extra or {}).get("supercategory") or "") for c in dataset.categories.values()
    }
    bar = tqdm(total=len(image_ids), unit="img", desc="trace", file=sys.stderr)

    def progress(done: int, total: int, message: str) -> None:
        bar.update(done - bar.n)

    diagnosis = diagnose_dataset(
        model, items_from_dataset(dataset, image_ids), categories, progress=progress
    )
    bar.close()
    for image_id, message in diagnosis.failures.items():
        print(f"skipped image {image_id}: {message}", file=sys.stderr)
    breakdown, analyzed = diagnosis.tide(), coco_analyze(diagnosis.data, supers)
    report = {
        "model": model.describe(),
        "tide": breakdown.to_json(),
        "analyze": analyzed.to_json(),
        "funnel": diagnosis.funnel.to_json(),
        "anchors": diagnosis.anchors().to_json(),
        "failures": {str(k): v for k, v in diagnosis.failures.items()},
    }
    parts = {"tide": breakdown, "analyze": analyzed, "funnel": diagnosis.funnel}
    parts.update(data=diagnosis.data, score_floor=diagnosis.settings.get("score_thresh", 0.0))
    return report, parts


SWEEP_VALUES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def _add_sweep_and_f1(report: dict, parts: dict, sweep: bool) -> None:
    from detector.diagnosis.sweeps import f1_curves, score_sweep

    names = parts["analyze"].category_names
    curves = f1_curves(parts["tide"].tables)
    report["f1"] = {
        names.get(k, str(k)): {"best_threshold": c.best_threshold, "best_f1": c.best_f1}
        for k, c in curves.items()
    }
    if sweep:
        floor = float(parts.get("score_floor", 0.0))
        values = [v for v in SWEEP_VALUES if v >= floor]
        parts["sweep"] = score_sweep(parts["data"], values)
        report["sweep"] = parts["sweep"].to_json()


def annotated_ids(dataset) -> list[int]:
    """The annotated set, as the Evaluate dock uses it: images with objects, or verified."""
    return [i for i, rec in sorted(dataset.images.items()) if rec.verified or dataset.objects_in(i)]


def summary_lines(report: dict) -> list[str]:
    tide = report["tide"]
    lines = [f"TIDE  AP50 {tide['ap50']:.2f}   (dAP: AP50 points gained by fixing each error)"]
    lines.append("  main:    " + "  ".join(f"{k} {v:6.2f}" for k, v in tide["main"].items()))
    lines.append("  special: " + "  ".join(f"{k} {v:6.2f}" for k, v in tide["special"].items()))
    lines.append("  counts:  " + "  ".join(f"{k} {v}" for k, v in tide["counts"].items()))
    areas = report["analyze"]["areas"]["all"]
    lines.append("COCO analyze (area under each curve, all sizes):")
    lines.append("  " + "  ".join(f"{k} {v:.3f}" for k, v in areas.items()))
    if "funnel" in report:
        total = report["funnel"]["total"]
        lines.append(f"Funnel ({sum(total.values())} objects; first stage where each was lost):")
        lines.append("  " + "  ".join(f"{k} {v}" for k, v in total.items()))
        recall = report["funnel"]["proposal_recall"]["total"]["at"]
        lines.append(
            "Proposal recall (IoU 0.5): " + "  ".join(f"@{n} {v:.3f}" for n, v in recall.items())
        )
    if "sweep" in report:
        sweep = report["sweep"]
        pairs = zip(sweep["values"], sweep["map50"], strict=True)
        lines.append(
            "What if (score threshold -> AP50): " + "  ".join(f"{v:g}:{m:.3f}" for v, m in pairs)
        )
    if "anchors" in report:
        anchors = report["anchors"]
        lines.append(
            f"Anchors: best anchor IoU < 0.7 for {anchors['best_anchor_iou_below']['0.7']:.1%}, "
            f"< 0.3 for {anchors['best_anchor_iou_below']['0.3']:.1%}; shape coverage "
            f"{anchors['current']['coverage']:.1%} now, {anchors['suggested']['coverage']:.1%} "
            f"with k-means sizes {anchors['suggested']['sizes']} "
            f"ratios {anchors['suggested']['ratios']}"
        )
    return lines


def write_plots(parts: dict, folder: Path) -> list[Path]:
    from detector.diagnosis.analyze import TYPES
    from detector.diagnosis.plot import render_bars, render_stacked, write_png

    folder = Path(folder)
    tide, analyzed = parts["tide"], parts["analyze"]
    written = [
        write_png(render_bars("TIDE main errors (dAP50)", tide.main), folder / "tide_main.png"),
        write_png(
            render_bars("TIDE special errors (dAP50)", tide.special), folder / "tide_special.png"
        ),
    ]
    for area in analyzed.area_labels:
        values = analyzed.areas(area=area)
        image = render_stacked(
            f"COCO analyze, all classes, {area}",
            analyzed.curves(area=area),
            list(TYPES),
            [values[t] for t in TYPES],
        )
        written.append(write_png(image, folder / f"analyze_{area}.png"))
    if "sweep" in parts:
        from detector.diagnosis.plot import render_lines

        sweep = parts["sweep"]
        image = render_lines(
            "What if: score threshold",
            sweep.values,
            {"AP50": sweep.map50, "AP": sweep.map},
            "score threshold",
        )
        written.append(write_png(image, folder / "sweep_score.png"))
    if "funnel" in parts:
        counts = parts["funnel"].counts()
        written.append(
            write_png(render_bars("Where objects are lost", counts), folder / "funnel.png")
        )
    return written
