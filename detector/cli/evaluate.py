"""``main.py eval GT.json DETECTIONS.json``: COCO summary, per-class AP, JSON, PR plot."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from detector.evaluation.params import EvaluationError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "gt", type=Path, help="ground truth: COCO dataset JSON, or a dataset folder of any layout"
    )
    parser.add_argument(
        "detections", type=Path, help="COCO results list, or a COCO dataset JSON with scores"
    )
    parser.add_argument("--iou-type", choices=("bbox", "segm"), default="bbox")
    parser.add_argument("--per-class", action="store_true", help="print the per-class AP table")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write all numbers as JSON")
    parser.add_argument("--plot", type=Path, metavar="PR.png", help="draw per-class PR curves")
    parser.add_argument("--split", help="split of a ground-truth dataset folder (valid, test...)")


def run(args: argparse.Namespace) -> int:
    from detector.evaluation import from_coco
    from detector.evaluation.report import per_class_table
    from detector.inference import distributed

    world = distributed.current_world()
    data = from_coco(_ground_truth(args.gt, args.split), _load(args.detections), args.iou_type)
    result = _evaluate(data, args.iou_type, world)
    if result is None:  # a rank other than 0 under torchrun: its shard went to rank 0
        return 0
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


def _ground_truth(path: Path, split: str | None):
    """A COCO JSON file as parsed, or a dataset folder (any layout) as a COCO dict."""
    if not path.is_dir():
        return _load(path)
    from detector.formats.coco import to_coco_dict
    from detector.store import open_dataset

    return to_coco_dict(open_dataset(path, split=split))


def _evaluate(data, iou_type: str, world):
    """One process: evaluate. Under torchrun: match this rank's images, merge on rank 0."""
    from detector.evaluation import EvalParams, evaluate
    from detector.evaluation.shards import evaluate_shard, result_from_blocks, shard_image_ids
    from detector.inference import distributed

    if not world.distributed:
        return evaluate(data, iou_type)
    params = EvalParams()
    with distributed.session(world, "cpu"):
        image_ids = shard_image_ids(data, world.rank, world.world_size)
        blocks = distributed.gather_to_main(
            world, evaluate_shard(data, image_ids, iou_type, params)
        )
    return result_from_blocks(data, blocks, iou_type, params) if world.is_main else None


def _load(path: Path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EvaluationError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EvaluationError(f"{path}: not readable JSON ({exc})") from None
