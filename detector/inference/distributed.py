"""Which process am I under ``torchrun``: rank, world size, device, and torch.distributed's collectives.

Nothing home-made: ``torchrun`` does the rendezvous (``--standalone`` on one host,
``--rdzv-backend c10d --rdzv-endpoint HOST:PORT`` across hosts) and sets ``RANK``,
``WORLD_SIZE`` and ``LOCAL_RANK``; :func:`session` starts torch.distributed's process group
with gloo on CPU and NCCL on GPUs. Outside ``torchrun`` the world is one process and no
process group is started.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from detector.errors import DetScopeError


@dataclass(frozen=True)
class World:
    """This process's place among ``world_size`` processes (``local_rank`` on its host)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def device(self, requested: str) -> str:
        """``cuda:LOCAL_RANK`` for ``auto`` under torchrun on a GPU host, else ``requested``."""
        import torch

        if self.distributed and requested == "auto":
            return f"cuda:{self.local_rank}" if torch.cuda.is_available() else "cpu"
        return requested


def current_world() -> World:
    """The world ``torchrun`` describes in the environment (one process without it)."""
    try:
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    except ValueError as exc:
        raise DetScopeError(
            f"torchrun's RANK/WORLD_SIZE/LOCAL_RANK are not numbers ({exc})"
        ) from None
    if world_size < 1 or not 0 <= rank < world_size:
        raise DetScopeError(f"RANK={rank} is not within WORLD_SIZE={world_size}")
    return World(rank, world_size, local_rank)


@contextmanager
def session(world: World, device: str) -> Iterator[None]:
    """torch.distributed's process group for the duration of the job (no-op for one process)."""
    if not world.distributed:
        yield
        return
    import torch
    import torch.distributed as dist

    on_gpu = str(device).startswith("cuda")
    if on_gpu:
        torch.cuda.set_device(torch.device(device))
    dist.init_process_group(backend="nccl" if on_gpu else "gloo")
    try:
        yield
    finally:
        dist.destroy_process_group()


def barrier(world: World) -> None:
    if world.distributed:
        import torch.distributed as dist

        dist.barrier()


def gather(world: World, value: Any) -> list[Any]:
    """Every rank's ``value`` (picklable), in rank order, on every rank."""
    if not world.distributed:
        return [value]
    import torch.distributed as dist

    values: list[Any] = [None] * world.world_size
    dist.all_gather_object(values, value)
    return values


def gather_to_main(world: World, value: Any) -> list[Any] | None:
    """Every rank's ``value`` in rank order on rank 0 (None on the others)."""
    if not world.distributed:
        return [value]
    import torch.distributed as dist

    values: list[Any] | None = [None] * world.world_size if world.is_main else None
    dist.gather_object(value, values, dst=0)
    return values
