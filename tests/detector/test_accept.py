"""Accept all never duplicates ground truth and names the classes it would create."""

from __future__ import annotations

from pathlib import Path

from detector.data.accept import plan_accept
from detector.data.dataset import Annotation, Category, Dataset, ImageRecord


def _dataset() -> Dataset:
    dataset = Dataset(root=Path("."))
    dataset.add_image_record(ImageRecord(1, "a.png", 200, 100))
    dataset.add_category_record(Category(1, "circle", "#ff0000"))
    dataset.add_category_record(Category(2, "square", "#00ff00"))
    dataset.add_object_record(Annotation(1, 1, 1, (10.0, 10.0, 50.0, 50.0)))
    dataset.add_object_record(Annotation(2, 1, 2, (100.0, 10.0, 140.0, 50.0)))
    predictions = [
        Annotation(10, 1, 1, (12.0, 11.0, 51.0, 49.0), source="model", score=0.9),  # repeat
        Annotation(11, 1, 2, (12.0, 11.0, 51.0, 49.0), source="model", score=0.8),  # other class
        Annotation(12, 1, 2, (60.0, 60.0, 90.0, 90.0), source="model", score=0.7),  # new object
        Annotation(13, 1, 7, (150.0, 60.0, 190.0, 90.0), source="model", score=0.6),  # new class
        Annotation(14, 1, 1, (150.0, 10.0, 190.0, 40.0), source="model", score=0.2),  # low score
    ]
    dataset.set_predictions(1, predictions)  # ids are reassigned, in this order
    return dataset


def _ids(dataset: Dataset) -> list[int]:
    """The prediction ids of the repeat, other class, new object, new class, low score."""
    return [a.id for a in dataset.predictions_in(1)]


def test_repeats_of_ground_truth_are_skipped():
    dataset = _dataset()
    repeat, other_class, new_object, new_class, _low = _ids(dataset)
    plan = plan_accept(dataset, 1, score_thresh=0.5)
    assert plan.accept == [other_class, new_object, new_class] and plan.duplicates == [repeat]
    assert plan.new_categories == [7]


def test_the_match_iou_is_the_users():
    dataset = _dataset()
    repeat, *_rest, low_score = _ids(dataset)
    strict = plan_accept(dataset, 1, score_thresh=0.5, match_iou=0.95)
    assert repeat in strict.accept and strict.duplicates == []
    assert low_score in plan_accept(dataset, 1, score_thresh=0.0).accept


def test_an_image_without_ground_truth_accepts_everything_above_the_score():
    dataset = _dataset()
    for object_id in (1, 2):
        dataset.remove_object_record(object_id)
    plan = plan_accept(dataset, 1, score_thresh=0.5)
    assert plan.accept == _ids(dataset)[:4] and plan.duplicates == []
