"""``main.py detect``: run a detector over images or folders, write a COCO dataset JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from detector.errors import DetScopeError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "inputs", nargs="+", metavar="IMAGES_OR_FOLDER", help="image files and/or folders of images"
    )
    parser.add_argument(
        "--model",
        default="shapes",
        help="architecture name (see README's model zoo) or checkpoint path",
    )
    parser.add_argument(
        "--weights",
        default="default",
        help="checkpoint path, torchvision weights name (COCO_V1), or 'none'",
    )
    parser.add_argument("--out", required=True, type=Path, help="output COCO JSON file")
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N")
    parser.add_argument(
        "--score-thresh",
        type=float,
        default=None,
        help="keep detections scoring at least this (model default: 0.05)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="images per forward pass (default: 1 on CPU, 4 on CUDA)",
    )


def collect_inputs(inputs: list[str]) -> tuple[list[Path], Path | None]:
    """Expand folders; return the files and the common root for relative ``file_name``s."""
    from detector.io.images import is_image_file, list_images

    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            files.extend(list_images(path))
        elif path.exists():
            files.append(path) if is_image_file(path) else print(
                f"skipped {path}: not an image file extension", file=sys.stderr
            )
        else:
            raise DetScopeError(f"{path}: no such file or folder")
    if not files:
        raise DetScopeError("no image files found in " + ", ".join(inputs))
    folders = [Path(item) for item in inputs if Path(item).is_dir()]
    root = folders[0] if len(folders) == 1 and len(inputs) == 1 else None
    return files, root


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from detector.data.dataset import ImageRecord
    from detector.formats.coco_write import (
        coco_document,
        detection_dicts,
        image_dict,
        model_category_dicts,
        write_coco,
    )
    from detector.inference.batch import detect_files
    from detector.models import load_model

    files, root = collect_inputs(args.inputs)
    settings = {} if args.score_thresh is None else {"box_score_thresh": args.score_thresh}
    weights = None if str(args.weights).lower() == "none" else args.weights
    model = load_model(args.model, weights=weights, device=args.device, **settings)
    if not model.trained:
        print(f"warning: {model.describe()}", file=sys.stderr)
    batch_size = args.batch_size or (4 if model.device.type == "cuda" else 1)
    images, annotations, failures = [], [], 0
    progress = tqdm(total=len(files), unit="img", desc="detect", file=sys.stderr)
    for result in detect_files(model, files, batch_size=batch_size):
        progress.update(1)
        if result.error is not None:
            failures += 1
            progress.write(f"skipped {result.error}", file=sys.stderr)
            continue
        image_id = len(images) + 1
        name = result.path.relative_to(root) if root else result.path
        images.append(
            image_dict(
                ImageRecord(
                    id=image_id, file_name=name.as_posix(), width=result.width, height=result.height
                )
            )
        )
        annotations += detection_dicts(
            result.detections, image_id, first_id=len(annotations) + 1, rounded=True
        )
    progress.close()
    document = coco_document(
        images,
        model_category_dicts(model.categories),
        annotations,
        info={"description": f"DetScope detections: {model.describe()}"},
    )
    write_coco(args.out, document)
    print(
        f"wrote {args.out}: {len(images)} images, {len(annotations)} detections"
        + (f", {failures} unreadable files skipped" if failures else "")
    )
    return 0 if images else 1
