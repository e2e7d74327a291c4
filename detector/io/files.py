"""Atomic file writes: a crash or Ctrl+C mid-save leaves the previous file intact.

The pattern (labelme ADR 0006, and every database): write a temp file in the same
folder, flush and fsync it, then ``os.replace`` it over the target, which is atomic on
POSIX and Windows. The folder is fsynced too, so the rename itself survives a power loss.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, backup: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically; with ``backup`` keep the old file as ``path~``.

    Never a silent change: an existing file keeps its permission bits (and its owner and
    group where the OS permits), a new file gets ``0o666`` less the umask, as ``open()``
    would give it; a symlink is followed (its target is replaced, the link stays). The temp
    file is removed on any failure, and temp files left by a killed process (``.NAME.PID.*.tmp``
    whose PID is gone) are removed by the next save of the same file.
    """
    target = Path(path)
    if target.is_symlink():
        target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(target)
    try:
        existing = target.stat()
    except FileNotFoundError:
        existing = None
    fd, tmp_name = _make_temp(target)
    try:
        with os.fdopen(fd, "wb") as handle:
            _copy_permissions(handle.fileno(), existing)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if backup and existing is not None:
            _atomic_copy(target, backup_path(target))
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    finally:
        _forget_temp(tmp_name)
    fsync_dir(target.parent)
    return target


_LIVE_TEMPS: set[str] = set()
_LIVE_LOCK = threading.Lock()


def _make_temp(target: Path) -> tuple[int, str]:
    """A temp file beside ``target`` named ``.NAME.PID.RANDOM.tmp``, registered as in use."""
    with _LIVE_LOCK:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent
        )
        _LIVE_TEMPS.add(os.path.abspath(tmp_name))
    return fd, tmp_name


def _forget_temp(tmp_name: str) -> None:
    with _LIVE_LOCK:
        _LIVE_TEMPS.discard(os.path.abspath(tmp_name))


def remove_stale_temps(target: str | os.PathLike) -> list[Path]:
    """Delete temp files of ``target`` left by dead processes; returns those removed.

    A temp file is stale when the process named in it no longer runs (or it is one of this
    process's that no save is using), or when it has the older ``.NAME.RANDOM.tmp`` form.
    """
    target = Path(target)
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(?:(\d+)\.)?[A-Za-z0-9_]+\.tmp$")
    removed = []
    try:
        candidates = [e for e in os.scandir(target.parent) if pattern.match(e.name)]
    except OSError:
        return removed
    with _LIVE_LOCK:
        live = set(_LIVE_TEMPS)
    for entry in candidates:
        pid = pattern.match(entry.name).group(1)
        if os.path.abspath(entry.path) in live or (pid and _process_alive(int(pid))):
            continue
        try:
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            pass
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # ours, and not in use by any save (checked by the caller)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # exists (another user's) or cannot tell: leave it
    return True


def _copy_permissions(fd: int, existing: os.stat_result | None) -> None:
    """The temp file takes the existing file's mode and owner, or the umask's mode if new."""
    if existing is None:
        os.fchmod(fd, 0o666 & ~current_umask())
        return
    if hasattr(os, "fchown") and (existing.st_uid, existing.st_gid) != (os.getuid(), os.getgid()):
        try:
            os.fchown(fd, existing.st_uid, existing.st_gid)
        except OSError:
            try:
                os.fchown(fd, -1, existing.st_gid)  # the group alone, where we belong to it
            except OSError:
                pass
    os.fchmod(fd, stat.S_IMODE(existing.st_mode))


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux /proc)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _LIVE_LOCK:  # elsewhere: set and restore (briefly process-wide)
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


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
    remove_stale_temps(target)
    fd, tmp_name = _make_temp(target)
    os.close(fd)
    try:
        shutil.copy2(source, tmp_name)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    finally:
        _forget_temp(tmp_name)


def fsync_dir(folder: Path) -> None:
    """fsync a folder, so a rename into it survives a power loss (no-op where impossible)."""
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
