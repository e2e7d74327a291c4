"""Model output -> unaccepted predictions of the dataset; "detect all" as a progress job."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from detector.data.dataset import Annotation, Dataset
from detector.data.labelmap import BACKGROUND, PLACEHOLDER_NAMES, match_categories
from detector.inference.detections import Detections, mask_rles


def category_ids(dataset: Dataset, model_categories: list[str], names: dict[int, str]) -> list[int]:
    """A dataset category id per model label (``labelmap.match_categories``, by name); each
    name the dataset lacks gets a reserved new id, so accepting such a prediction can add
    the category it names.

    ``names`` (reserved id -> class name) remembers the reserved ids between calls; this
    function adds to it. The background and placeholder ("N/A") labels get -1: their
    detections are not offered as predictions.
    """
    known = {c.id: c.name for c in dataset.categories.values()}
    taken = set(known.values())
    known.update({i: name for i, name in names.items() if name not in taken and i not in known})
    label_map = match_categories(model_categories, known)
    next_id = max([*dataset.categories, *names, 0]) + 1
    reserved: dict[str, int] = {}
    ids = label_map.ids.tolist()
    for label, name in enumerate(model_categories):
        if label == BACKGROUND or name in PLACEHOLDER_NAMES or ids[label] >= 0:
            continue
        if name not in reserved:
            reserved[name], names[next_id] = next_id, name
            next_id += 1
        ids[label] = reserved[name]
    return ids


def to_annotations(
    detections: Detections, rles: list | None, image_id: int, label_ids: list[int]
) -> list[Annotation]:
    """Detections of one image as Annotations (ids are assigned by ``set_predictions``)."""
    annotations = []
    for index in range(len(detections)):
        label = int(detections.labels[index])
        if not 0 <= label < len(label_ids) or label_ids[label] < 0:
            continue
        box = tuple(float(v) for v in detections.boxes[index])
        if box[2] <= box[0] or box[3] <= box[1]:
            continue
        annotations.append(
            Annotation(
                id=0,
                image_id=image_id,
                category_id=label_ids[label],
                box=box,
                mask=None if rles is None else rles[index],
                source="model",
                score=float(detections.scores[index]),
            )
        )
    return annotations


def detect_all_job(
    model, files: list[tuple[int, Path]], sink: dict, batch_size: int = 1
) -> Iterator[tuple[int, int, str]]:
    """Generator job: yields (done, total, message); puts each image's result in ``sink``.

    ``sink[image_id]`` is ``(detections, rles)`` or an error message; the GUI thread takes
    them out on every progress signal, so a cancelled run keeps what it finished.
    """
    from detector.inference.batch import detect_files

    ids = {path: image_id for image_id, path in files}
    total = len(files)
    yield 0, total, "Detecting…"
    for done, result in enumerate(
        detect_files(model, [p for _, p in files], batch_size=batch_size)
    ):
        image_id = ids[result.path]
        if result.error:
            sink[image_id] = result.error
        else:
            sink[image_id] = (result.detections, mask_rles(result.detections))
        yield done + 1, total, f"{result.path.name}"
    return total
