"""``main.py train DATASET_DIR --model ARCH --out CHECKPOINT``: train or fine-tune a detector."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "data",
        nargs="?",
        help="dataset folder: images + annotations.json, or an export (Roboflow, CVAT, COCO, "
        "Label Studio, YOLO data.yaml, Pascal VOC)",
    )
    parser.add_argument("--split", help="split of DATA to train on (train, ...)")
    parser.add_argument("--val-split", help="split of --val to evaluate on (valid, val, ...)")
    parser.add_argument(
        "--synthetic",
        type=int,
        metavar="SEED",
        help="instead of a folder, stream fresh synthetic shapes of this seed",
    )
    parser.add_argument(
        "--synthetic-size",
        type=int,
        default=256,
        help="side of streamed training images in pixels (256)",
    )
    parser.add_argument("--model", default="shapes", help="architecture (shapes)")
    parser.add_argument("--weights", help="start from a checkpoint or torchvision weights name")
    parser.add_argument("--out", required=True, help="checkpoint to write (.pth)")
    parser.add_argument("--steps", type=int, default=1000, help="optimizer steps (1000)")
    parser.add_argument("--batch-size", type=int, default=4, help="images per step (4)")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak AdamW learning rate")
    parser.add_argument("--warmup", type=int, default=200, help="linear warm-up steps (200)")
    parser.add_argument("--checkpoint-every", type=int, default=250, help="steps (250)")
    parser.add_argument("--log-every", type=int, default=20, help="steps (20)")
    parser.add_argument("--seed", type=int, default=0, help="init, sampling and split seed")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    parser.add_argument("--val", help="COCO folder to evaluate on at the end")
    parser.add_argument(
        "--val-fraction",
        type=float,
        default=0.1,
        help="held-out share of DATASET_DIR when no --val (0.1)",
    )
    parser.add_argument(
        "--val-count",
        type=int,
        default=100,
        help="synthetic held-out images when streaming and no --val (100)",
    )
    parser.add_argument("--resume", action="store_true", help="continue from --out")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=JSON",
        help="model builder setting, e.g. --set box_batch_size_per_image=64",
    )


def run(args: argparse.Namespace) -> int:
    from detector.errors import DetScopeError
    from detector.training.loop import TrainConfig, TrainingInterrupted, train

    if (args.data is None) == (args.synthetic is None):
        raise DetScopeError("give either a COCO folder or --synthetic SEED")
    config = TrainConfig(
        architecture=args.model,
        out=args.out,
        data=args.data,
        synthetic_seed=args.synthetic,
        synthetic_size=args.synthetic_size,
        weights=args.weights,
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        warmup_steps=args.warmup,
        checkpoint_every=args.checkpoint_every,
        log_every=args.log_every,
        seed=args.seed,
        device=args.device,
        threads=args.threads,
        split=args.split,
        val_dir=args.val,
        val_split=args.val_split,
        val_fraction=args.val_fraction,
        val_count=args.val_count,
        resume=args.resume,
        settings=_settings(args.set),
    )
    _stop_on_sigterm()
    try:
        result = train(config, progress=lambda p: print(p.line(), flush=True))
    except TrainingInterrupted as exc:
        print(f"interrupted: {exc}", flush=True)
        return 130
    print(
        f"done: {result.steps_done} steps in {result.seconds / 60:.1f} min, "
        f"loss {result.first_loss:.3f} -> {result.last_loss:.3f}; wrote {result.checkpoint}"
    )
    return 0


def _settings(pairs: list[str]) -> dict:
    from detector.errors import DetScopeError

    settings = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise DetScopeError(f"--set {pair!r}: expected KEY=VALUE")
        try:
            settings[key] = json.loads(value)
        except ValueError:
            settings[key] = value
    return settings


def _stop_on_sigterm() -> None:
    """``kill PID`` stops like Ctrl+C: the loop saves a resumable checkpoint first."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # started in the background by a shell
        signal.signal(signal.SIGINT, interrupt)
