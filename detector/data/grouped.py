"""A snapshot's objects: the per-image index seen as one id -> object mapping."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from detector.data.dataset import Annotation


class GroupedObjects(Mapping[int, "Annotation"]):  # (a runtime base: a quoted name)
    """Every object of a per-image index ``{image_id: {object_id: Annotation}}`` as one
    read-only id -> object mapping (a snapshot's ``objects``): O(1) to make; iterating
    walks the index image by image; the first lookup by id builds an id index."""

    def __init__(self, groups: Mapping[int, Mapping[int, Annotation]]) -> None:
        self.groups = groups
        self._index: dict[int, Annotation] | None = None

    def __getitem__(self, object_id: int) -> Annotation:
        if self._index is None:
            self._index = {i: a for group in self.groups.values() for i, a in group.items()}
        return self._index[object_id]

    def __iter__(self) -> Iterator[int]:
        for group in self.groups.values():
            yield from group

    def __len__(self) -> int:
        return sum(map(len, self.groups.values()))

    def values(self) -> list[Annotation]:  # type: ignore[override]
        return [a for group in self.groups.values() for a in group.values()]
