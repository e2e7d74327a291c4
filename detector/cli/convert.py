"""``python main.py convert SRC DST``: convert annotations between COCO, VOC, YOLO, LabelMe.

SRC is a COCO JSON file, a folder of VOC XML, a YOLO labels folder (with its classes file)
or a folder of LabelMe JSON (or one file), or an exported dataset folder of any layout
:mod:`detector.formats.layouts` knows (Roboflow, CVAT, COCO, Label Studio, YOLO data.yaml,
Pascal VOC; ``--split NAME`` when it has several). DST is a COCO JSON file or a VOC/YOLO folder.
Formats are guessed from the paths when --from/--to are not given. Problems in the input
are listed (never a traceback); nothing existing is overwritten without --force.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from detector.data.dataset import Dataset
from detector.errors import AnnotationError

READERS = ("coco", "voc", "yolo", "labelme")
WRITERS = ("coco", "voc", "yolo")
MAX_ISSUES_SHOWN = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "src", type=Path, help="COCO .json, VOC XML folder, YOLO labels folder, LabelMe folder/file"
    )
    parser.add_argument("dst", type=Path, help="COCO .json file, or a VOC / YOLO output folder")
    parser.add_argument(
        "--from",
        dest="src_format",
        choices=READERS,
        help="input format (default: guessed from SRC)",
    )
    parser.add_argument(
        "--to", dest="dst_format", choices=WRITERS, help="output format (default: guessed from DST)"
    )
    parser.add_argument(
        "--images",
        type=Path,
        help="image folder (file names, and sizes when "
        "the format lacks them; YOLO needs it unless images/ is beside labels/)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing output files")
    parser.add_argument("--split", help="split of an exported dataset folder (train, valid...)")


def run(args: argparse.Namespace) -> int:
    dataset, src_format = _open_layout(args) if args.src_format is None else (None, "")
    src_format = src_format or args.src_format or guess_source_format(args.src)
    dst_format = args.dst_format or guess_target_format(args.dst)
    if dataset is None:
        dataset = load_any(args.src, src_format, image_root=args.images)
    warnings = save_any(dataset, args.dst, dst_format, overwrite=args.force)
    _report(dataset, warnings)
    print(
        f"{src_format} -> {dst_format}: {len(dataset.images)} images, "
        f"{len(dataset.objects)} objects, {len(dataset.categories)} categories -> {args.dst}"
    )
    return 0


def _open_layout(args: argparse.Namespace) -> tuple[Dataset | None, str]:
    """An exported dataset folder (not a bare folder of label files): its chosen split."""
    from detector.formats.layouts import detect_layout, open_split

    if not args.src.is_dir():
        return None, ""
    layout = detect_layout(args.src)
    if layout.kind == "images":
        return None, ""
    split = layout.split(args.split)
    return open_split(split), f"{layout.kind}{f' [{split.name}]' if split.name else ''}"


def load_any(src: Path, fmt: str, *, image_root: Path | None = None) -> Dataset:
    """Read ``src`` in format ``fmt`` (one of READERS)."""
    if fmt == "coco":
        from detector.formats.coco import load_coco

        return load_coco(src, image_root=image_root)
    if fmt == "voc":
        from detector.formats.voc import load_voc

        return load_voc(src, image_root=image_root)
    if fmt == "yolo":
        from detector.formats.yolo import load_yolo

        return load_yolo(src, image_root=image_root)
    from detector.formats.labelme import load_labelme

    return load_labelme(src, image_root=image_root)


def save_any(dataset: Dataset, dst: Path, fmt: str, *, overwrite: bool) -> list[str]:
    """Write ``dataset`` as ``fmt`` (one of WRITERS); returns warnings about what was left out."""
    if fmt == "coco":
        from detector.formats.coco import save_coco

        if dst.is_dir():
            raise AnnotationError("is a folder; COCO output is a .json file", file=dst)
        if dst.exists() and not overwrite:
            raise AnnotationError("already exists; refusing to overwrite (use --force)", file=dst)
        save_coco(dataset, dst, backup=dst.exists())
        return []
    if dst.exists() and not dst.is_dir():
        raise AnnotationError(f"{fmt.upper()} output is a folder, but this is a file", file=dst)
    if fmt == "voc":
        from detector.formats.voc import save_voc

        return save_voc(dataset, dst, overwrite=overwrite)
    from detector.formats.yolo import save_yolo

    return save_yolo(dataset, dst, overwrite=overwrite)


def guess_source_format(src: Path) -> str:
    if not src.exists():
        raise AnnotationError("no such file or folder", file=src)
    if src.is_file():
        if src.suffix.lower() == ".xml":
            return "voc"
        if src.suffix.lower() != ".json":
            raise AnnotationError("cannot tell the format of this file; use --from", file=src)
        return _json_kind(src)
    if any(src.glob("*.xml")):
        return "voc"
    if any(p.name not in ("classes.txt",) for p in src.glob("*.txt")) or _has_classes(src):
        return "yolo"
    jsons = sorted(src.glob("*.json"))
    if jsons:
        return _json_kind(jsons[0])
    raise AnnotationError("no .xml, .txt or .json annotation files here; use --from", file=src)


def _has_classes(folder: Path) -> bool:
    from detector.formats.yolo import find_classes_file

    return find_classes_file(folder) is not None


def _json_kind(path: Path) -> str:
    from detector.io.documents import read_json

    doc = read_json(path)
    if isinstance(doc, dict) and "shapes" in doc:
        return "labelme"
    if isinstance(doc, dict) and "images" in doc:
        return "coco"
    raise AnnotationError(
        "JSON, but neither COCO (no 'images') nor LabelMe (no 'shapes')", file=path
    )


def guess_target_format(dst: Path) -> str:
    if dst.suffix.lower() == ".json":
        return "coco"
    if dst.is_dir() and (any(dst.glob("*.xml"))):
        return "voc"
    if dst.is_dir() and (dst / "classes.txt").exists():
        return "yolo"
    lowered = dst.name.lower()
    for hint, fmt in (("voc", "voc"), ("xml", "voc"), ("yolo", "yolo"), ("labels", "yolo")):
        if hint in lowered:
            return fmt
    raise AnnotationError(
        "cannot tell the output format from this path; use --to coco|voc|yolo", file=dst
    )


def _report(dataset: Dataset, warnings: list[str]) -> None:
    for issue in dataset.issues[:MAX_ISSUES_SHOWN]:
        print(issue)
    if len(dataset.issues) > MAX_ISSUES_SHOWN:
        kinds: dict[str, int] = {}
        for issue in dataset.issues:
            kinds[issue.kind] = kinds.get(issue.kind, 0) + 1
        print(f"... {len(dataset.issues)} issues in all: {json.dumps(kinds)}")
    for warning in warnings:
        print(f"warning: {warning}")
