"""The model-label <-> category policy and the predictions built on it."""

from __future__ import annotations

import numpy as np

from detector.data.dataset import Category, Dataset
from detector.data.labelmap import NO_CATEGORY, match_categories, model_label
from detector.evaluation.from_dataset import category_mapping
from detector.inference.detections import Detections
from detector.inference.predictions import category_ids, to_annotations

MODEL = ["__background__", "cat", "N/A", "dog", "zebra"]


def test_names_match_and_unmatched_names_are_reported_not_invented():
    label_map = match_categories(MODEL, {7: "dog", 3: "cat"})
    np.testing.assert_array_equal(label_map.ids, [NO_CATEGORY, 3, NO_CATEGORY, 7, NO_CATEGORY])
    assert label_map.unmatched == ("zebra",)
    assert label_map.category_id(3) == 7 and label_map.category_id(4) is None
    assert label_map.category_id(99) is None and label_map.matched == 2


def test_positional_fallback_only_when_no_name_matches_and_counts_agree():
    untrained = ["__background__", "class_1", "class_2"]
    ids = match_categories(untrained, {9: "b", 4: "a"}, by_position_when_unnamed=True).ids
    np.testing.assert_array_equal(ids, [-1, 4, 9])
    strict = match_categories(untrained, {9: "b", 4: "a"})
    assert strict.unmatched == ("class_1", "class_2")
    np.testing.assert_array_equal(category_mapping(untrained, {9: "b"}), [-1, -1, -1])


def test_model_label_by_name_then_by_id():
    assert model_label("dog", 1, MODEL) == 3
    assert model_label("lion", 2, MODEL) == 2  # datasets made for the model by id
    assert model_label("lion", 40, MODEL) == 0


def _dataset() -> Dataset:
    dataset = Dataset()
    dataset.add_category_record(Category(1, "cat", "#ff0000"))
    dataset.add_category_record(Category(5, "dog", "#00ff00"))
    return dataset


def test_prediction_ids_reserve_new_ids_once_per_unknown_name():
    names: dict[int, str] = {}
    ids = category_ids(_dataset(), MODEL, names)
    assert ids[1] == 1 and ids[3] == 5 and ids[0] == -1
    assert names == {6: "zebra"} and ids[2] == -1 and ids[4] == 6
    assert category_ids(_dataset(), MODEL, names) == ids  # the same reservation next time


def test_to_annotations_drops_background_and_empty_boxes():
    detections = Detections(
        boxes=np.array([[0, 0, 5, 5], [1, 1, 1, 4], [2, 2, 6, 6]], np.float32),
        labels=np.array([3, 1, 0]),
        scores=np.array([0.9, 0.8, 0.7], np.float32),
    )
    annotations = to_annotations(detections, None, 4, [-1, 1, -1, 5, 6])
    assert [(a.category_id, a.score, a.source) for a in annotations] == [
        (5, np.float32(0.9), "model")
    ]


def test_training_labels_follow_ascending_category_ids():
    from detector.data.labelmap import label_category_ids, training_labels

    assert training_labels([9, 2, 5]) == {2: 1, 5: 2, 9: 3}
    ids = label_category_ids([9, 2, 5])
    assert ids == [-1, 2, 5, 9]
    assert all(ids[label] == category for category, label in training_labels(ids[1:]).items())


def test_class_colours_never_take_the_hues_of_evaluation_marks():
    import colorsys

    from detector.data.palette import PALETTE, RESERVED_FOR_MARKS

    def hue_and_saturation(color: str) -> tuple[float, float]:
        r, g, b = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
        h, _l, s = colorsys.rgb_to_hls(r, g, b)
        return h * 360, s

    for mark in RESERVED_FOR_MARKS:
        mark_hue, _ = hue_and_saturation(mark)
        for color in PALETTE:
            hue, saturation = hue_and_saturation(color)
            distance = min(abs(hue - mark_hue), 360 - abs(hue - mark_hue))
            assert distance > 20 or saturation < 0.25, (color, mark)
