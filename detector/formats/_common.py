"""Helpers shared by the format readers/writers: file names, image sizes, safe output paths."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from detector.errors import AnnotationError, DetScopeError


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
        return read_image_size(path)
    except (DetScopeError, OSError):
        return None


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
