"""Atomic file writes: a crash or Ctrl+C mid-save leaves the previous file intact.

The pattern (labelme ADR 0006, and every database): write a temp file in the same
folder, flush and fsync it, then ``os.replace`` it over the target, which is atomic on
POSIX and Windows. The folder is fsynced too, so the rename itself survives a power loss.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, backup: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically; with ``backup`` keep the old file as ``path~``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if backup and target.exists():
            _atomic_copy(target, backup_path(target))
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)
    return target


def atomic_write_json(
    path: str | os.PathLike, obj: Any, *, backup: bool = False, indent: int | None = None
) -> Path:
    """Serialise ``obj`` first (so a serialisation error touches nothing), then write atomically."""
    data = json.dumps(obj, indent=indent, ensure_ascii=False).encode("utf-8")
    return atomic_write_bytes(path, data, backup=backup)


def backup_path(path: str | os.PathLike) -> Path:
    """Where the previous version of ``path`` is kept by ``atomic_write_*(backup=True)``."""
    target = Path(path)
    return target.with_name(target.name + "~")


def _atomic_copy(source: Path, target: Path) -> None:
    """Copy ``source`` over ``target`` via a temp file, so a crash never leaves half a backup."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        shutil.copy2(source, tmp_name)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open folders; the rename is still atomic there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclass(frozen=True)
class FileState:
    """What a file looked like when read or written: enough to notice an outside change."""

    path: Path
    size: int
    mtime_ns: int
    sha256: str


def fingerprint(path: str | os.PathLike, data: bytes | None = None) -> FileState:
    """The state of ``path`` now (``data``: its content when the caller already has it)."""
    file = Path(path).resolve()
    stat = file.stat()
    content = file.read_bytes() if data is None else data
    return FileState(file, stat.st_size, stat.st_mtime_ns, hashlib.sha256(content).hexdigest())


def state_of(path: Path, stat: os.stat_result | None, data: bytes) -> FileState:
    """The FileState of ``path`` from a stat taken *before* reading ``data`` from it."""
    stat = path.stat() if stat is None else stat
    return FileState(
        path.resolve(), stat.st_size, stat.st_mtime_ns, hashlib.sha256(data).hexdigest()
    )


def changed_on_disk(state: FileState) -> bool:
    """True when the file is gone or its content differs from ``state`` (hash checked on doubt)."""
    try:
        stat = state.path.stat()
    except OSError:
        return True
    if stat.st_size == state.size and stat.st_mtime_ns == state.mtime_ns:
        return False
    return hashlib.sha256(state.path.read_bytes()).hexdigest() != state.sha256
