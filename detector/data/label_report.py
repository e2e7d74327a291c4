"""What a user is told when a model's classes and a dataset's categories do not meet.

The mapping itself (model label <-> dataset category id) is one policy: by name, background
and torchvision's ``"N/A"`` placeholders excluded. This module only says when that policy
finds nothing, so the Evaluate header and the Predictions dock can say "no model class is a
category of this dataset" instead of showing mAP 0.000 or silently inventing categories.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PLACEHOLDER_NAMES = frozenset({"__background__", "N/A", ""})
SHOWN_NAMES = 4


@dataclass(frozen=True)
class LabelOverlap:
    """Class names on both sides (model order), only the model's, only the dataset's."""

    shared: tuple[str, ...]
    model_only: tuple[str, ...]
    dataset_only: tuple[str, ...]

    @property
    def none_shared(self) -> bool:
        """Both sides name classes, and not one name is on both."""
        return not self.shared and bool(self.model_only) and bool(self.dataset_only)

    def message(self) -> str:
        """One sentence for the user; empty when some names are shared."""
        if not self.none_shared:
            return ""
        return (
            f"No model class is a category of this dataset: the model knows "
            f"{_names(self.model_only)}, the dataset has {_names(self.dataset_only)}. "
            f"Load a model trained on these categories, or rename them to the model's."
        )


def label_overlap(model_categories: Sequence[str], dataset_names: Iterable[str]) -> LabelOverlap:
    """Compare by name; ``model_categories[0]`` is the background and is ignored."""
    model = [n for n in list(model_categories)[1:] if n not in PLACEHOLDER_NAMES]
    dataset = [n for n in dataset_names if n not in PLACEHOLDER_NAMES]
    dataset_set, model_set = set(dataset), set(model)
    return LabelOverlap(
        tuple(n for n in model if n in dataset_set),
        tuple(n for n in model if n not in dataset_set),
        tuple(n for n in dataset if n not in model_set),
    )


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(names[:SHOWN_NAMES])
    more = f" and {len(names) - SHOWN_NAMES} more" if len(names) > SHOWN_NAMES else ""
    return f"{len(names)} ({shown}{more})"
