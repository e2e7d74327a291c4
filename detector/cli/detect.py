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
    parser.add_argument(
        "--keep-shards",
        action="store_true",
        help="under torchrun: keep OUT.shards/ after merging (a rerun reuses complete shards)",
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
    from detector.inference import distributed
    from detector.inference.shard import job_fingerprint
    from detector.models import load_model

    world = distributed.current_world()
    files, root = collect_inputs(args.inputs)
    settings = {} if args.score_thresh is None else {"box_score_thresh": args.score_thresh}
    weights = None if str(args.weights).lower() == "none" else args.weights
    device = world.device(args.device)
    model = load_model(args.model, weights=weights, device=device, **settings)
    if not model.trained and world.is_main:
        print(f"warning: {model.describe()}", file=sys.stderr)
    job = {"model": args.model, "weights": str(args.weights), **settings}
    fingerprint = job_fingerprint(files, job, world.world_size)
    with distributed.session(world, device):
        records = _records_of_shard(model, files, root, world, args, fingerprint)
        totals = distributed.gather(world, len(records))
        if world.is_main:
            code = _merge_and_write(model, files, records, world, args, fingerprint, totals)
        distributed.barrier(world)
    return code if world.is_main else 0


def _records_of_shard(model, files, root, world, args, fingerprint) -> list:
    """Detect this rank's shard (or read it back when a previous run completed it)."""
    from detector.inference.shard import read_shard, shard_indices, shard_path, write_shard

    path = shard_path(args.out, world.rank, world.world_size)
    if world.distributed and (done := read_shard(path, fingerprint)) is not None:
        print(f"rank {world.rank}: shard already complete in {path}, skipped", file=sys.stderr)
        return done
    indices = list(shard_indices(len(files), world.rank, world.world_size))
    records = list(_detect_records(model, files, indices, root, world, args))
    if world.distributed:
        write_shard(path, records, fingerprint, world.rank, world.world_size)
    return records


def _detect_records(model, files, indices, root, world, args):
    from tqdm import tqdm

    from detector.inference.batch import detect_files
    from detector.inference.detections import detections_to_coco
    from detector.inference.shard import FileRecord

    batch_size = args.batch_size or (4 if model.device.type == "cuda" else 1)
    label = f"detect rank {world.rank}/{world.world_size}" if world.distributed else "detect"
    progress = tqdm(
        total=len(indices), unit="img", desc=label, file=sys.stderr, position=world.rank
    )
    paths = [files[i] for i in indices]
    results = detect_files(model, paths, batch_size=batch_size)
    for index, result in zip(indices, results, strict=True):
        progress.update(1)
        name = (result.path.relative_to(root) if root else result.path).as_posix()
        if result.error is not None:
            progress.write(f"skipped {result.error}", file=sys.stderr)
            yield FileRecord(index, name, error=str(result.error))
            continue
        if result.note:
            progress.write(f"{result.path}: {result.note}", file=sys.stderr)
        annotations = detections_to_coco(result.detections, 0, 0)
        for annotation in annotations:
            del annotation["id"], annotation["image_id"]
        yield FileRecord(index, name, result.width, result.height, annotations)
    progress.close()


def _merge_and_write(model, files, records, world, args, fingerprint, totals) -> int:
    """Rank 0: gather the shards, merge them in file order, write one COCO file atomically."""
    import shutil

    from detector.inference.shard import (
        check_complete,
        merge_records,
        read_shard,
        shard_folder,
        shard_path,
    )
    from detector.io.files import atomic_write_json

    if world.distributed:
        records = []
        for rank in range(world.world_size):
            shard = read_shard(shard_path(args.out, rank, world.world_size), fingerprint)
            records += shard or []
        print(f"merged {world.world_size} shards: {totals} files per rank", file=sys.stderr)
    check_complete(records, len(files))
    images, annotations, errors = merge_records(records)
    categories = [
        {"id": i, "name": n, "supercategory": ""}
        for i, n in enumerate(model.categories)
        if i > 0 and n not in ("N/A", "")
    ]
    document = {
        "info": {"description": f"DetScope detections: {model.describe()}"},
        "images": images,
        "annotations": annotations,
        "categories": categories,
    }
    atomic_write_json(args.out, document)
    if world.distributed and not args.keep_shards:
        shutil.rmtree(shard_folder(args.out), ignore_errors=True)
    print(
        f"wrote {args.out}: {len(images)} images, {len(annotations)} detections"
        + (f", {len(errors)} unreadable files skipped" if errors else "")
    )
    return 0 if images else 1
