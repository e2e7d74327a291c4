"""The lecture's numbers on sample images: sliding windows, Selective Search vs RPN, R-CNN
vs Fast R-CNN, printed side by side (one thread; a loaded machine gives slower absolutes).

    .venv/bin/python benchmarks/bench_lecture.py [FOLDER] [--images 3] [--model shapes]
        [--proposals 300] [--crops 8]

Per image: every box H(H+1)/2 * W(W+1)/2 and the box head's time per 1,000 windows
extrapolated to all of them; Selective Search (fast, quality) and the RPN: proposals, time,
recall@300 at IoU 0.5 / 0.7, proposals needed for 100% recall at IoU 0.5 and their ratio;
R-CNN (warp + backbone per crop, mean of ``--crops``, times N proposals) against Fast R-CNN
(one backbone pass + RoIAlign of N), and their ratio.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from detector.io.images import read_image  # noqa: E402
from detector.lecture import (  # noqa: E402
    box_count,
    compare_rcnn,
    recall_table,
    rpn_proposals,
    rpn_seconds,
    selective_search,
    sliding_windows,
    window_cost,
)
from detector.models import load_model  # noqa: E402
from detector.trace import trace_image  # noqa: E402


def ground_truth(folder: Path) -> dict[str, np.ndarray]:
    data = json.loads((folder / "annotations.json").read_text())
    names = {image["id"]: image["file_name"] for image in data["images"]}
    boxes: dict[str, list] = {name: [] for name in names.values()}
    for ann in data["annotations"]:
        x, y, w, h = ann["bbox"]
        boxes[names[ann["image_id"]]].append([x, y, x + w, y + h])
    return {name: np.asarray(b, np.float32).reshape(-1, 4) for name, b in boxes.items()}


def fmt(value) -> str:
    return "never" if value is None else f"{value}"


def one_image(model, path: Path, gt: np.ndarray, args) -> None:
    image = read_image(path)
    height, width = image.shape[:2]
    trace = trace_image(model, image)
    windows = sliding_windows(height, width, (32, 32), 8)
    cost = window_cost(model, trace, windows, 1000)
    print(f"\n{path.name}: {width} x {height}, {len(gt)} GT boxes")
    print(
        f"  every box: {box_count(height, width):,}; box head {cost.per_thousand_s * 1000:.0f} ms"
        f" per 1,000 windows -> all boxes {cost.all_boxes_s / 86400:,.1f} days"
    )
    sets = [selective_search(image, "fast"), selective_search(image, "quality")]
    sets.append(rpn_proposals(trace, 2000, rpn_seconds(model, image)))
    tables = [recall_table(found, gt) for found in sets]
    print(
        f"  {'method':28s} {'props':>6s} {'time s':>7s} {'R@300 .5':>9s} {'R@300 .7':>9s}"
        f" {'need 100% @.5':>13s}"
    )
    for found, table in zip(sets, tables, strict=True):
        print(
            f"  {found.method:28s} {found.count:6d} {found.seconds:7.2f}"
            f" {table.recall[(0.5, 300)]:9.2f} {table.recall[(0.7, 300)]:9.2f}"
            f" {fmt(table.needed(0.5, 1.0)):>13s}"
        )
    rpn_time = sets[2].seconds
    print(
        f"  time ratio Selective Search fast / RPN: {sets[0].seconds / rpn_time:.1f}x,"
        f" quality / RPN: {sets[1].seconds / rpn_time:.1f}x"
    )
    needed = [t.needed(0.5, 1.0) for t in tables]
    if needed[0] and needed[2]:
        print(
            f"  proposals for 100% recall @0.5, Selective Search fast / RPN:"
            f" {needed[0] / needed[2]:.1f}x"
        )
    proposals = sets[2].boxes_image[: args.proposals]
    timing = compare_rcnn(model, image, proposals, measure=args.crops)
    print(
        f"  R-CNN {timing.rcnn_per_crop_s * 1000:.1f} ms/crop x {timing.proposals} ="
        f" {timing.rcnn_s:.2f} s; Fast R-CNN backbone {timing.backbone_s:.3f} s +"
        f" RoIAlign {timing.roi_align_s * 1000:.1f} ms = {timing.fast_s:.3f} s;"
        f" ratio {timing.ratio:.0f}x"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=str(ROOT / "resources/samples/shapes"))
    parser.add_argument("--images", type=int, default=3)
    parser.add_argument("--model", default="shapes")
    parser.add_argument("--proposals", type=int, default=300)
    parser.add_argument("--crops", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(1)
    folder = Path(args.folder)
    model = load_model(args.model, device="cpu")
    truth = ground_truth(folder)
    for name in sorted(truth)[: args.images]:
        one_image(model, folder / name, truth[name], args)
    print("\n(one CPU thread; wall times on a shared machine)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
