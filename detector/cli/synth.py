"""``main.py synth OUT_DIR --count N --seed S``: write a synthetic shapes COCO data set."""

from __future__ import annotations

import argparse
from pathlib import Path

from detector.errors import DetScopeError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out_dir", help="folder to write (images + annotations.json)")
    parser.add_argument("--count", type=int, default=100, help="number of images (100)")
    parser.add_argument("--seed", type=int, default=0, help="stream seed (0)")
    parser.add_argument("--size", type=int, default=512, help="image side in pixels (512)")
    parser.add_argument(
        "--format",
        choices=("png", "jpg"),
        default="png",
        help="image format: png is lossless, jpg is small (png)",
    )


def run(args: argparse.Namespace) -> int:
    from detector.training.synthetic import SynthConfig, write_dataset

    if args.count < 1 or args.size < 64:
        raise DetScopeError("--count must be at least 1 and --size at least 64")
    config = SynthConfig(height=args.size, width=args.size)

    def report(done: int, total: int) -> None:
        if done == total or done % 100 == 0:
            print(f"{done}/{total} images", flush=True)

    path = write_dataset(Path(args.out_dir), args.count, args.seed, config, args.format, report)
    print(f"wrote {args.count} images and {path}")
    return 0
