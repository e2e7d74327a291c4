"""Detection over many files, split across processes: shards, shard files, one merged result.

Under ``torchrun --nproc-per-node N main.py detect ...`` every process (rank) takes a
deterministic shard of the sorted file list (file ``i`` belongs to rank ``i % N``), detects
only its shard, and writes it atomically to ``<out>.shards/shard-<rank>-of-<N>.json``.
Rank 0 then merges the shards into one COCO document that is identical to a
single-process run: ids are handed out in file order after the merge, by the same code.

A shard file records a fingerprint of the job (files, model, settings, world size), so a
rerun after a failure skips the shards that are complete and recomputes only the rest.
Nothing here knows about torch.distributed: :mod:`detector.cli.detect` does the collectives.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from detector.errors import DetScopeError
from detector.io.files import atomic_write_json

SHARD_FORMAT = "detscope-detect-shard"


@dataclass(frozen=True)
class FileRecord:
    """What detection found in one input file (``index`` = its place in the sorted list).

    ``annotations`` are COCO annotation dicts without ``id`` and ``image_id``: those are
    handed out at the merge. ``error`` is set (and the rest empty) for an unreadable file.
    """

    index: int
    file_name: str
    width: int = 0
    height: int = 0
    annotations: list[dict] = field(default_factory=list)
    error: str | None = None


def shard_indices(count: int, rank: int, world_size: int) -> range:
    """The indices of ``count`` sorted files that ``rank`` of ``world_size`` processes."""
    if world_size < 1 or not 0 <= rank < world_size:
        raise DetScopeError(f"rank {rank} is not in a world of {world_size} processes")
    return range(rank, count, world_size)


def job_fingerprint(files: Iterable[Path], settings: dict[str, Any], world_size: int) -> str:
    """SHA-256 of everything that decides a shard's content: files, model, settings, N."""
    digest = hashlib.sha256()
    payload = {"files": [str(p) for p in files], "settings": settings, "world": world_size}
    digest.update(json.dumps(payload, sort_keys=True, default=str).encode("utf-8"))
    return digest.hexdigest()


def shard_folder(out: Path) -> Path:
    """Where the shard files of output ``out`` live (beside it, on the shared filesystem)."""
    return out.with_name(out.name + ".shards")


def shard_path(out: Path, rank: int, world_size: int) -> Path:
    return shard_folder(out) / f"shard-{rank:05d}-of-{world_size:05d}.json"


def write_shard(
    path: Path, records: list[FileRecord], fingerprint: str, rank: int, world_size: int
) -> Path:
    """Write one rank's records atomically (a killed rank leaves no half-written shard)."""
    document = {
        "format": SHARD_FORMAT,
        "fingerprint": fingerprint,
        "rank": rank,
        "world_size": world_size,
        "records": [record.__dict__ for record in records],
    }
    return atomic_write_json(path, document)


def read_shard(path: Path, fingerprint: str) -> list[FileRecord] | None:
    """The records of a complete shard of this job, or None (missing, foreign or stale)."""
    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("format") != SHARD_FORMAT:
        return None
    if document.get("fingerprint") != fingerprint:
        return None
    try:
        return [FileRecord(**record) for record in document["records"]]
    except (KeyError, TypeError):
        return None


def merge_records(records: Iterable[FileRecord]) -> tuple[list[dict], list[dict], list[str]]:
    """COCO ``images`` and ``annotations`` with ids in file order, plus the errors, in order.

    This is the only place ids are given, for one process and for N: the merged file of a
    sharded run equals a single-process run's byte for byte.
    """
    images: list[dict] = []
    annotations: list[dict] = []
    errors: list[str] = []
    for record in sorted(records, key=lambda r: r.index):
        if record.error is not None:
            errors.append(record.error)
            continue
        image_id = len(images) + 1
        images.append(
            {
                "id": image_id,
                "file_name": record.file_name,
                "width": record.width,
                "height": record.height,
            }
        )
        for annotation in record.annotations:
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, **annotation})
    return images, annotations, errors


def check_complete(records: list[FileRecord], count: int) -> None:
    """Every file exactly once across the shards, or a clear error (never a silent gap)."""
    seen = sorted(record.index for record in records)
    if seen != list(range(count)):
        missing = sorted(set(range(count)) - set(seen))[:5]
        raise DetScopeError(
            f"the shards hold {len(seen)} records for {count} files (missing e.g. {missing}); "
            "rerun the same command to finish them"
        )


def iter_shard_files(out: Path) -> Iterator[Path]:
    folder = shard_folder(out)
    return iter(sorted(folder.glob("shard-*-of-*.json"))) if folder.is_dir() else iter(())
