"""The one policy between a model's labels and a dataset's categories.

A torchvision detector names its classes by position: ``model.categories[label]``, label 0
is the background and some zoo lists hold placeholders (``"N/A"``) in their gaps. A dataset
names its categories by id. The two meet **by name**:

- ``match_categories``: model label -> dataset category id. A name the dataset does not have
  maps to -1 and is reported in ``LabelMap.unmatched``; no id is invented here (callers that
  add categories, like accepting predictions, reserve ids themselves and say so).
- ``model_label``: a dataset category -> the model label it is compared as (Inspect).
- ``training_labels`` / ``label_category_ids``: a model trained on a dataset has one label
  per category, in ascending id order (label 0 stays the background).
- ``label_overlap``: what the user is told when the two sides share no name (the Evaluate
  header and the Predictions dock say so instead of showing mAP 0.000).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

BACKGROUND = 0
PLACEHOLDER_NAMES = frozenset({"N/A", ""})  # gaps in torchvision's COCO category list
NO_CATEGORY = -1


@dataclass(frozen=True)
class LabelMap:
    """ids (int64[C]): the dataset category id of each model label, ``NO_CATEGORY`` (-1) for
    the background, placeholders and unmatched names. unmatched: the real class names
    (not background, not placeholders) that have no dataset category, in label order."""

    ids: np.ndarray
    unmatched: tuple[str, ...]

    def category_id(self, label: int) -> int | None:
        """The dataset category of model ``label``, None when it has none."""
        if not 0 <= label < len(self.ids) or self.ids[label] < 0:
            return None
        return int(self.ids[label])

    @property
    def matched(self) -> int:
        return int((self.ids >= 0).sum())


def match_categories(
    model_categories: Sequence[str],
    categories: Mapping[int, str],
    *,
    by_position_when_unnamed: bool = False,
) -> LabelMap:
    """Map each model label to the dataset category of the same name.

    ``categories``: dataset id -> name (a name used twice resolves to its last id).
    ``by_position_when_unnamed``: when not one name matches and the model has exactly one
    class per dataset category (an untrained model's ``class_1``, ``class_2`` ...), map the
    labels 1..C-1 onto the dataset ids in ascending order instead (nothing is unmatched).
    """
    by_name = {name: category_id for category_id, name in categories.items()}
    ids = np.full(len(model_categories), NO_CATEGORY, np.int64)
    unmatched = []
    for label, name in enumerate(model_categories):
        if label == BACKGROUND or name in PLACEHOLDER_NAMES:
            continue
        if name in by_name:
            ids[label] = by_name[name]
        else:
            unmatched.append(name)
    positional = len(model_categories) - 1 == len(categories) > 0
    if by_position_when_unnamed and not (ids >= 0).any() and positional:
        ids[1:] = sorted(categories)
        unmatched = []
    return LabelMap(ids, tuple(unmatched))


def model_label(name: str, category_id: int, model_categories: Sequence[str]) -> int:
    """The model label of a dataset category: its name's label, else its id when that is a
    valid non-background label (datasets made for the model by id), else background (0)."""
    if name in model_categories:
        return list(model_categories).index(name)
    return category_id if 0 < category_id < len(model_categories) else BACKGROUND


def training_labels(category_ids: Iterable[int]) -> dict[int, int]:
    """Category id -> model label for training on these categories: ascending ids get the
    labels 1..K (``label_category_ids`` is the inverse)."""
    return {category_id: label for label, category_id in enumerate(sorted(category_ids), 1)}


def label_category_ids(category_ids: Iterable[int]) -> list[int]:
    """Model label -> category id of a model trained on these categories (label 0: -1)."""
    return [NO_CATEGORY, *sorted(category_ids)]


# ----- telling the user when the two sides do not meet --------------------------------
_NOT_CLASSES = PLACEHOLDER_NAMES | {"__background__"}
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
    model = [n for n in list(model_categories)[1:] if n not in _NOT_CLASSES]
    dataset = [n for n in dataset_names if n not in _NOT_CLASSES]
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
