"""Telling the user when a model's classes and a dataset's categories share no name."""

from __future__ import annotations

from detector.data.labelmap import label_overlap

COCO_LIKE = ["__background__", "person", "N/A", "bicycle", "car", "cat", "dog", "N/A"]


def test_partly_matching_names_are_not_a_problem():
    overlap = label_overlap(COCO_LIKE, ["dog", "kitten", "person"])  # sparse ids: names only
    assert overlap.shared == ("person", "dog")
    assert overlap.model_only == ("bicycle", "car", "cat")
    assert overlap.dataset_only == ("kitten",)
    assert not overlap.none_shared and overlap.message() == ""


def test_no_shared_name_is_said_with_both_sides():
    overlap = label_overlap(COCO_LIKE, ["circle", "square"])
    assert overlap.none_shared
    message = overlap.message()
    assert message.startswith("No model class is a category of this dataset")
    assert "5 (person, bicycle, car, cat and 1 more)" in message  # N/A placeholders left out
    assert "2 (circle, square)" in message


def test_an_empty_side_is_not_reported_as_a_mismatch():
    assert not label_overlap(COCO_LIKE, []).none_shared  # a dataset without categories yet
    assert not label_overlap(["__background__"], ["circle"]).none_shared
