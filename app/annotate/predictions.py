"""Model output -> unaccepted predictions of the dataset; "detect all" as a progress job."""

from __future__ import annotations

from pathlib import Path

from detector.data.dataset import Annotation


def category_ids(dataset, model_categories: list[str], names: dict[int, str]) -> list[int]:
    """A dataset category id per model label: matched by name, else a reserved new id.

    ``names`` (id -> class name) remembers the new ids, so accepting such a prediction can
    add the category it names.
    """
    by_name = {c.name: c.id for c in dataset.categories.values()}
    by_name.update({name: i for i, name in names.items() if name not in by_name})
    next_id = max([*dataset.categories, *names, 0]) + 1
    ids = []
    for name in model_categories:
        if name not in by_name:
            by_name[name], names[next_id] = next_id, name
            next_id += 1
        ids.append(by_name[name])
    return ids


def to_annotations(
    detections, rles: list | None, image_id: int, label_ids: list[int]
) -> list[Annotation]:
    """Detections of one image as Annotations (ids are assigned by ``set_predictions``)."""
    annotations = []
    for index in range(len(detections)):
        label = int(detections.labels[index])
        if not 0 <= label < len(label_ids):
            continue
        box = tuple(float(v) for v in detections.boxes[index])
        if box[2] <= box[0] or box[3] <= box[1]:
            continue
        annotations.append(
            Annotation(
                0,
                image_id,
                label_ids[label],
                box,
                mask=None if rles is None else rles[index],
                source="model",
                score=float(detections.scores[index]),
            )
        )
    return annotations


def detect_all_job(model, files: list[tuple[int, Path]], sink: dict, batch_size: int = 1):
    """Generator job: yields (done, total, message); puts each image's result in ``sink``.

    ``sink[image_id]`` is ``(detections, rles)`` or an error message; the GUI thread takes
    them out on every progress signal, so a cancelled run keeps what it finished.
    """
    from app.model_controller import mask_rles
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
