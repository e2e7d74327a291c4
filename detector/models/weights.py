"""torchvision's pretrained weights: what each zoo architecture has, what is cached, downloads.

The cache is torch.hub's own: ``$TORCH_HOME/hub/checkpoints`` (``torch.hub.get_dir()``), so
weights fetched here are found by torchvision, and weights torchvision fetched are found here.
torchvision's file names carry the first hex digits of the file's SHA-256
(``fasterrcnn_resnet50_fpn_coco-258fb6c6.pth``); a download is checked against them before
it is renamed into the cache, and a partial, cancelled or mismatching file never lands there.

Nothing downloads unless :func:`download_weights` (or :func:`iter_download`) is called.
``DETSCOPE_WEIGHTS_MIRROR`` replaces torchvision's download folder (the file name stays), for
sites with their own mirror; ``file://`` URLs work too.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path

from detector.errors import ModelError
from detector.io.files import fsync_dir

MIRROR_ENV = "DETSCOPE_WEIGHTS_MIRROR"
HASH_IN_NAME = re.compile(r"-([a-f0-9]+)\.")  # torch.hub's HASH_REGEX
CHUNK_BYTES = 1 << 20

Progress = tuple[int, int, str]  # (bytes done, bytes total or 0 when unknown, message)


class WeightsDownloadError(ModelError):
    """A download failed, was refused (hash mismatch) or the cache folder is not writable."""


class DownloadCancelled(ModelError):
    """The user cancelled a download; nothing was written to the cache."""


@dataclass(frozen=True, kw_only=True)
class WeightsInfo:
    """One torchvision weights entry (``FasterRCNN_ResNet50_FPN_Weights.COCO_V1``)."""

    architecture: str
    name: str
    url: str
    size_mb: float
    num_classes: int
    is_default: bool
    metrics: dict[str, float] = field(default_factory=dict)  # box_map, mask_map, kp_map

    @property
    def file_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def sha256_prefix(self) -> str | None:
        """The hex digits torch.hub puts in the file name, or None when it has none."""
        match = HASH_IN_NAME.search(self.file_name)
        return match.group(1) if match else None

    @property
    def path(self) -> Path:
        """Where torch.hub keeps (or would keep) this file."""
        return cache_dir() / self.file_name

    @property
    def cached(self) -> bool:
        return self.path.is_file()

    def metrics_text(self) -> str:
        names = {"box_map": "box AP", "mask_map": "mask AP", "kp_map": "keypoint AP"}
        return ", ".join(f"{names.get(k, k)} {v:.1f}" for k, v in self.metrics.items())

    def describe(self) -> str:
        """``COCO_V1 (default) · 159.7 MB · box AP 37.0 · cached``"""
        parts = [self.name + (" (default)" if self.is_default else ""), f"{self.size_mb:.1f} MB"]
        if self.metrics:
            parts.append(self.metrics_text())
        parts.append("cached" if self.cached else "not cached")
        return " · ".join(parts)


def cache_dir() -> Path:
    """``$TORCH_HOME/hub/checkpoints`` (read now, so a changed TORCH_HOME is honoured)."""
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints"


def list_weights(architecture: str | None = None) -> list[WeightsInfo]:
    """Every torchvision weights entry of the zoo's architectures (or of one of them)."""
    from detector.models.registry import ARCHITECTURES

    if architecture is not None and architecture not in ARCHITECTURES:
        known = ", ".join(sorted(ARCHITECTURES))
        raise ModelError(f"unknown architecture {architecture!r}; known: {known}")
    names = [architecture] if architecture else list(ARCHITECTURES)
    found: list[WeightsInfo] = []
    for name in names:
        builder = ARCHITECTURES[name].torchvision_builder
        if builder is not None:
            found.extend(_entries(name, builder))
    return found


def _entries(architecture: str, builder: str) -> list[WeightsInfo]:
    import torchvision.models as tv_models

    enum = tv_models.get_model_weights(builder)
    entries = []
    for weights in enum:
        metrics = next(iter(weights.meta.get("_metrics", {}).values()), {})
        entries.append(
            WeightsInfo(
                architecture=architecture,
                name=weights.name,
                url=weights.url,
                size_mb=float(weights.meta.get("_file_size", 0.0)),
                num_classes=len(weights.meta["categories"]),
                is_default=weights is enum.DEFAULT,
                metrics={k: float(v) for k, v in metrics.items()},
            )
        )
    return entries


def find_weights(architecture: str, name: str = "DEFAULT") -> WeightsInfo:
    """The entry ``name`` (``DEFAULT`` = torchvision's recommended one) of ``architecture``."""
    entries = list_weights(architecture)
    if not entries:
        raise ModelError(f"{architecture} has no torchvision weights; give a checkpoint path")
    for entry in entries:
        if entry.name == name or (name == "DEFAULT" and entry.is_default):
            return entry
    known = ", ".join(["DEFAULT", *(e.name for e in entries)])
    raise ModelError(f"{architecture} has no weights {name!r}; known: {known}")


def download_url(info: WeightsInfo, mirror: str | None = None) -> str:
    """torchvision's URL, or ``mirror`` (else ``$DETSCOPE_WEIGHTS_MIRROR``) + the file name."""
    base = mirror if mirror is not None else os.environ.get(MIRROR_ENV, "")
    base = base.strip()
    return f"{base.rstrip('/')}/{info.file_name}" if base else info.url


def iter_download(
    info: WeightsInfo, *, mirror: str | None = None, timeout: float = 30.0
) -> Generator[Progress, None, Path]:
    """Download ``info`` into the cache, yielding ``(done, total, message)``; returns the path.

    Already cached: returns at once. Closing the generator (a cancelled worker) removes the
    temp file; so does any failure. The file is renamed into the cache only after its
    SHA-256 matches the prefix in its name and its length matches ``Content-Length``.
    """
    target = info.path
    if target.is_file():
        return target
    url = download_url(info, mirror)
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=f".{info.file_name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise _failure(info, url, f"cannot write to the cache folder: {exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            digest = yield from _stream(info, url, handle, timeout)
            handle.flush()
            os.fsync(handle.fileno())
        _verify(info, url, digest)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    fsync_dir(folder)
    return target


def _stream(info: WeightsInfo, url: str, handle, timeout: float) -> Generator[Progress, None, str]:
    """Copy the response body into ``handle``; returns the SHA-256 hex digest."""
    request = urllib.request.Request(url, headers={"User-Agent": "DetScope"})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - URL is ours
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise _failure(info, url, _reason(exc)) from None
    digest = hashlib.sha256()
    with response:
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        yield done, total, f"{info.file_name}: starting"
        while True:
            try:
                block = response.read(CHUNK_BYTES)
            except (OSError, ValueError) as exc:
                raise _failure(
                    info, url, f"connection lost after {done} bytes: {_reason(exc)}"
                ) from None
            if not block:
                break
            handle.write(block)
            digest.update(block)
            done += len(block)
            yield done, max(total, done), f"{info.file_name}: {_mb(done)} of {_mb(total)}"
    if total and done != total:
        raise _failure(info, url, f"incomplete download: {done} of {total} bytes")
    return digest.hexdigest()


def _verify(info: WeightsInfo, url: str, hexdigest: str) -> None:
    prefix = info.sha256_prefix
    if prefix is not None and not hexdigest.startswith(prefix):
        raise WeightsDownloadError(
            f"refused {info.file_name} from {url}: its SHA-256 begins {hexdigest[:12]}, but the "
            f"file name says {prefix} (corrupt download or wrong file on the mirror); "
            f"nothing was saved to {info.path.parent}"
        )


def download_weights(
    info: WeightsInfo,
    *,
    mirror: str | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    timeout: float = 30.0,
) -> Path:
    """:func:`iter_download` driven to the end; ``cancelled()`` True stops it (nothing kept)."""
    steps = iter_download(info, mirror=mirror, timeout=timeout)
    try:
        while True:
            if cancelled is not None and cancelled():
                raise DownloadCancelled(
                    f"download of {info.file_name} cancelled; nothing was saved"
                )
            try:
                done, total, message = next(steps)
            except StopIteration as stop:
                return stop.value
            if progress is not None:
                progress(done, total, message)
    finally:
        steps.close()  # Ctrl+C or a failing callback: the temp file goes too


def _failure(info: WeightsInfo, url: str, reason: str) -> WeightsDownloadError:
    folder = info.path.parent
    return WeightsDownloadError(
        f"could not download {info.architecture} {info.name} from {url} ({reason}). "
        f"Offline? Copy the file {info.file_name} into {folder} (torch's hub cache; "
        f"TORCH_HOME moves it), or set {MIRROR_ENV} to a folder URL that serves it."
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return str(exc) or type(exc).__name__


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size else "? MB"
