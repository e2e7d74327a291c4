"""Helpers shared by the format readers/writers: file names, image sizes, safe output paths."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path, PurePosixPath

from detector.data.dataset import Dataset, ImageRecord
from detector.data.issues import Issue
from detector.errors import AnnotationError, DetScopeError
from detector.io.limits import coordinate_bounds, valid_image_size


def relative_name(file_name: str, root: Path) -> str:
    """``file_name`` as a ``/``-separated path relative to ``root`` when it lies inside it.

    Backslashes (Windows exporters) become ``/``. An absolute path outside ``root`` is kept
    absolute (``root / name`` still finds it).
    """
    name = file_name.replace("\\", "/")
    if not os.path.isabs(name) and not (len(name) > 1 and name[1] == ":"):
        return name
    try:
        return Path(name).resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return name


def image_size_or_none(path: Path) -> tuple[int, int] | None:
    """(width, height) of the oriented image, or None when it cannot be read."""
    from detector.io.images import read_image_size

    try:
        size = read_image_size(path)
    except (DetScopeError, OSError, ValueError):
        return None
    except Exception as exc:  # noqa: BLE001 - pillow's DecompressionBombError and kin
        if type(exc).__name__.startswith("DecompressionBomb"):
            return None
        raise
    return size if valid_image_size(*size) else None


def add_image_file(dataset: Dataset, image_file: Path) -> ImageRecord | None:
    """Add ``image_file`` (directly in the dataset's root) with its size from the header, or
    flag it as unreadable in ``dataset.issues`` (None): nothing a user has is silently dropped."""
    size = image_size_or_none(image_file)
    if size is None:
        dataset.issues.append(
            Issue(
                kind="unreadable_image",
                message="not a readable image; skipped",
                location=image_file.name,
            )
        )
        return None
    record = ImageRecord(
        id=dataset.new_image_id(), file_name=image_file.name, width=size[0], height=size[1]
    )
    dataset.add_image_record(record)
    return record


def safe_output_path(out_dir: Path, file_name: str, suffix: str) -> Path:
    """``out_dir / file_name`` with ``suffix``, refusing names that would escape ``out_dir``."""
    relative = PurePosixPath(file_name.replace("\\", "/"))
    if (
        relative.is_absolute()
        or ".." in relative.parts
        or (relative.parts[:1] and ":" in relative.parts[0])
    ):
        relative = PurePosixPath(relative.name)  # absolute/odd names: flat, by base name
    target = out_dir.joinpath(*relative.with_suffix(suffix).parts)
    resolved_dir = out_dir.resolve()
    if resolved_dir not in target.resolve().parents:
        raise AnnotationError(f"refusing to write outside {out_dir}", file=file_name)
    return target


def refuse_overwrite(targets: list[Path], overwrite: bool, what: str, out_dir: Path) -> None:
    """Raise unless ``overwrite`` when any of ``targets`` exists (export never clobbers silently)."""
    existing = [str(p) for p in targets if p.exists()]
    if existing and not overwrite:
        raise AnnotationError(
            f"{len(existing)} {what} already exist (e.g. {existing[0]}); "
            "refusing to overwrite (use --force)",
            file=out_dir,
        )


def output_paths(dataset: Dataset, out_dir: Path, suffix: str) -> dict[int, Path]:
    """One label file path per image; refuses names where two images share a label file.

    ``dup.jpg`` and ``dup.png`` (or ``Dup.jpg`` and ``dup.png`` on a case-insensitive file
    system) would both write ``dup.txt``: one image's labels would silently replace the
    other's. The error lists every collision so the user can rename the images.
    """
    targets = {i: safe_output_path(out_dir, r.file_name, suffix) for i, r in dataset.images.items()}
    owners: dict[str, list[str]] = {}
    for image_id, target in targets.items():
        owners.setdefault(str(target).casefold(), []).append(dataset.images[image_id].file_name)
    collisions = [names for names in owners.values() if len(names) > 1]
    if collisions:
        shown = "; ".join(" and ".join(repr(n) for n in names) for names in collisions[:5])
        raise AnnotationError(
            f"{len(collisions)} label file name(s) would be shared by several images ({shown}): "
            "one image's labels would overwrite another's; rename those images first",
            file=out_dir,
        )
    return targets


def label_name_problem(name: str, *, xml: bool = False) -> str | None:
    """Why a category name cannot be written to a line-based or XML label file, or None."""
    if not name:
        return "is empty"
    if name != name.strip():
        return "starts or ends with white space (it would be stripped on re-import)"
    if "\n" in name or "\r" in name:
        return "contains a line break (it would become two classes)"
    if xml and any(ord(c) < 32 and c not in "\t" for c in name):
        return "contains a control character XML cannot hold"
    return None


def check_label_names(dataset: Dataset, what: str, *, xml: bool = False) -> None:
    """Refuse to export when a category name cannot survive the round trip through ``what``."""
    for category in dataset.categories.values():
        problem = label_name_problem(category.name, xml=xml)
        if problem:
            raise AnnotationError(
                f"category {category.id} name {category.name!r} {problem}; rename it before "
                f"exporting to {what}"
            )


def clip_far_boxes(dataset: Dataset, file: str | None = None) -> list[Issue]:
    """Clip boxes lying beyond their image plus its margin (``coordinate_bounds``); flag each."""
    issues = []
    for obj in list(dataset.objects.values()):
        image = dataset.images[obj.image_id]
        x_min, y_min, x_max, y_max = coordinate_bounds(image.width, image.height)
        x1, y1, x2, y2 = obj.box
        clipped = (
            min(max(x1, x_min), x_max),
            min(max(y1, y_min), y_max),
            min(max(x2, x_min), x_max),
            min(max(y2, y_min), y_max),
        )
        if clipped != tuple(obj.box):
            dataset.replace_object_record(replace(obj, box=clipped))
            issues.append(
                Issue(
                    kind="box_clipped",
                    message="box lies far outside the image; clipped to the image plus one image side",
                    file=file,
                    location=f"object {obj.id} in {image.file_name}",
                    severity="warning",
                    image_id=obj.image_id,
                    object_id=obj.id,
                )
            )
    return issues
