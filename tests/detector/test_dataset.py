"""The in-memory model and its invertible edits."""

from __future__ import annotations

import pytest

from detector.data.dataset import Annotation, Category, Dataset, ImageRecord
from detector.data.edits import (
    AcceptPredictions,
    AddCategory,
    AddObjects,
    Compound,
    DeleteCategory,
    MergeCategories,
    RemoveObjects,
    recolor_category,
    relabel_objects,
    rename_category,
    set_verified,
    update_object,
)
from detector.errors import AnnotationError, DetScopeError
from detector.formats.coco import to_coco_dict


def small_dataset() -> Dataset:
    dataset = Dataset()
    dataset.add_image_record(ImageRecord(id=1, file_name="a.jpg", width=100, height=80))
    dataset.add_image_record(ImageRecord(id=2, file_name="b.jpg", width=60, height=40))
    dataset.add_category_record(Category(1, "cat"))
    dataset.add_category_record(Category(2, "dog"))
    dataset.add_object_record(
        Annotation(id=10, image_id=1, category_id=1, box=(1.0, 2.0, 30.0, 40.0))
    )
    dataset.add_object_record(
        Annotation(id=11, image_id=1, category_id=2, box=(5.0, 5.0, 9.0, 9.0))
    )
    dataset.add_object_record(
        Annotation(id=12, image_id=2, category_id=2, box=(0.0, 0.0, 10.0, 10.0))
    )
    return dataset


def snapshot(dataset: Dataset) -> dict:
    return to_coco_dict(dataset)


def test_new_ids_are_fresh_and_queries_work():
    dataset = small_dataset()
    assert dataset.new_object_id() == 13
    assert [a.id for a in dataset.objects_in(1)] == [10, 11]
    assert dataset.category_by_name("dog").id == 2
    assert dataset.image_by_name("b.jpg").id == 2
    assert [a.id for a in dataset.iter_objects()] == [10, 11, 12]


@pytest.mark.parametrize(
    "make_edit",
    [
        lambda d: AddObjects(
            (Annotation(id=d.new_object_id(), image_id=2, category_id=1, box=(1.0, 1.0, 5.0, 5.0)),)
        ),
        lambda d: RemoveObjects((10, 12)),
        lambda d: update_object(d, 10, box=(3.0, 3.0, 50.0, 60.0)),
        lambda d: relabel_objects(d, [10, 11], 2),
        lambda d: AddCategory(Category(3, "bird")),
        lambda d: DeleteCategory(2),
        lambda d: rename_category(d, 1, "kitten"),
        lambda d: recolor_category(d, 1, "#123456"),
        lambda d: MergeCategories((2,), 1),
        lambda d: set_verified(d, 1),
    ],
)
def test_every_edit_is_undone_by_its_inverse_and_redone(make_edit):
    dataset = small_dataset()
    before = snapshot(dataset)
    inverse = dataset.apply(make_edit(dataset))
    after = snapshot(dataset)
    assert after != before
    redo = dataset.apply(inverse)
    assert snapshot(dataset) == before
    dataset.apply(redo)
    assert snapshot(dataset) == after


def test_delete_category_takes_its_objects_and_undo_brings_them_back():
    dataset = small_dataset()
    inverse = dataset.apply(DeleteCategory(2))
    assert 2 not in dataset.categories and set(dataset.objects) == {10}
    dataset.apply(inverse)
    assert set(dataset.objects) == {10, 11, 12} and dataset.objects[12].category_id == 2


def test_merge_relabels_and_removes_sources():
    dataset = small_dataset()
    dataset.apply(MergeCategories((2,), 1))
    assert set(dataset.categories) == {1}
    assert {a.category_id for a in dataset.objects.values()} == {1}


@pytest.mark.parametrize(
    "make_edit, message",
    [
        (
            lambda d: AddObjects(
                (Annotation(id=10, image_id=1, category_id=1, box=(0.0, 0.0, 1.0, 1.0)),)
            ),
            "already in use",
        ),
        (
            lambda d: AddObjects(
                (Annotation(id=99, image_id=7, category_id=1, box=(0.0, 0.0, 1.0, 1.0)),)
            ),
            "no image",
        ),
        (
            lambda d: AddObjects(
                (Annotation(id=99, image_id=1, category_id=9, box=(0.0, 0.0, 1.0, 1.0)),)
            ),
            "no category",
        ),
        (lambda d: update_object(d, 10, box=(5.0, 5.0, 5.0, 9.0)), "zero or negative"),
        (lambda d: update_object(d, 10, box=(0.0, float("nan"), 5.0, 9.0)), "finite"),
        (lambda d: RemoveObjects((10, 404)), "no objects"),
        (lambda d: rename_category(d, 1, "dog"), "already exists"),
        (lambda d: rename_category(d, 1, " "), "empty"),
        (lambda d: MergeCategories((1,), 1), "itself"),
        (lambda d: DeleteCategory(42), "no category"),
    ],
)
def test_invalid_edits_raise_and_change_nothing(make_edit, message):
    dataset = small_dataset()
    before = snapshot(dataset)
    revision = dataset.revision
    with pytest.raises(AnnotationError, match=message):
        dataset.apply(make_edit(dataset))
    assert snapshot(dataset) == before and dataset.revision == revision


def test_compound_rolls_back_when_a_step_fails():
    dataset = small_dataset()
    before = snapshot(dataset)
    edit = Compound((RemoveObjects((10,)), RemoveObjects((404,))))
    with pytest.raises(AnnotationError):
        dataset.apply(edit)
    assert snapshot(dataset) == before


def test_subscribers_hear_which_images_changed():
    dataset = small_dataset()
    heard = []
    unsubscribe = dataset.subscribe(heard.append)
    dataset.apply(update_object(dataset, 12, box=(1.0, 1.0, 2.0, 2.0)))
    dataset.apply(rename_category(dataset, 1, "kitten"))
    unsubscribe()
    dataset.apply(RemoveObjects((10,)))
    assert [c.image_ids for c in heard] == [frozenset({2}), frozenset()]
    assert [c.categories for c in heard] == [False, True]
    assert heard[1].revision == 2 and dataset.is_modified


def test_predictions_are_kept_apart_until_accepted():
    dataset = small_dataset()
    dataset.set_predictions(
        2, [Annotation(id=0, image_id=2, category_id=1, box=(1.0, 1.0, 9.0, 9.0), score=0.9)]
    )
    (prediction,) = dataset.predictions_in(2)
    assert prediction.source == "model" and prediction.id not in dataset.objects
    assert all(a.get("score") is None for a in to_coco_dict(dataset)["annotations"])
    inverse = dataset.apply(AcceptPredictions((prediction.id,)))
    saved = {a["id"]: a for a in to_coco_dict(dataset)["annotations"]}
    assert saved[prediction.id]["score"] == 0.9 and saved[prediction.id]["source"] == "model"
    assert dataset.predictions_in(2) == []
    dataset.apply(inverse)
    assert prediction.id not in dataset.objects and dataset.predictions_in(2) == [prediction]


def test_annotation_error_is_a_detscope_error_with_file_and_location():
    error = AnnotationError("bad box", file="x.json", location="annotations[3]")
    assert isinstance(error, DetScopeError)
    assert str(error) == "x.json: annotations[3]: bad box"


def test_new_predictions_are_not_unsaved_work_but_accepting_them_is():
    dataset = small_dataset()
    heard = []
    dataset.subscribe(heard.append)
    dataset.set_predictions(
        2, [Annotation(id=0, image_id=2, category_id=1, box=(1.0, 1.0, 9.0, 9.0), score=0.9)]
    )
    assert not dataset.is_modified  # nothing a save would write has changed
    assert heard[-1].predictions and not heard[-1].ground_truth
    (prediction,) = dataset.predictions_in(2)
    dataset.apply(AcceptPredictions((prediction.id,)))
    assert dataset.is_modified and heard[-1].ground_truth
    dataset.mark_saved()
    dataset.set_predictions(2, [])
    assert not dataset.is_modified


def test_a_snapshot_keeps_the_state_it_was_taken_at_while_edits_go_on(tmp_path):
    """Copy on write: an edit after a snapshot copies only its image's dict; the snapshot
    (what a background save writes) never sees it, however many snapshots follow."""
    import copy
    import json

    from pycocotools.coco import COCO

    from detector.data.edits import UpdateImage
    from detector.store import save_dataset

    dataset = small_dataset()
    dataset.add_image_record(ImageRecord(id=3, file_name="c.jpg", width=50, height=50))
    at_first = copy.deepcopy(to_coco_dict(dataset))
    first = dataset.snapshot()
    assert dataset._by_image[1] is first._by_image[1]  # shared until an edit
    box = (2.0, 2.0, 8.0, 8.0)
    edits = [
        AddObjects((Annotation(id=dataset.new_object_id(), image_id=1, category_id=1, box=box),)),
        RemoveObjects((11,)),
        update_object(dataset, 12, box=(1.0, 1.0, 20.0, 20.0)),
        relabel_objects(dataset, [10], 2),
        AddCategory(Category(3, "bird")),
        set_verified(dataset, 2),
        UpdateImage(ImageRecord(id=3, file_name="c.jpg", width=50, height=50, verified=True)),
    ]
    for edit in edits[:4]:
        dataset.apply(edit)
    assert dataset._by_image[1] is not first._by_image[1]
    assert dataset._by_image[3] is first._by_image[3]  # untouched images stay shared
    at_second = copy.deepcopy(to_coco_dict(dataset))
    second = dataset.snapshot()
    for edit in edits[4:]:
        dataset.apply(edit)
    bird = Annotation(id=dataset.new_object_id(), image_id=3, category_id=3, box=box)
    dataset.apply(AddObjects((bird,)))
    assert to_coco_dict(first) == at_first
    assert to_coco_dict(second) == at_second != at_first
    assert to_coco_dict(dataset) != at_second
    assert sorted(first.objects) == [10, 11, 12] and len(first.objects) == 3
    assert first.objects[11].category_id == 2 and 11 in first.objects and 11 not in second.objects
    assert [a.id for a in second.objects.values()] == [10, 13, 12]
    assert [a.id for a in first.iter_objects()] == [10, 11, 12]
    assert first.predictions == {} and first._subscribers == []

    path = save_dataset(first, tmp_path / "first.json")  # what the worker writes
    assert json.loads(path.read_text()) == at_first
    coco = COCO(str(path))
    assert sorted(coco.anns) == [10, 11, 12] and coco.anns[12]["bbox"] == [0.0, 0.0, 10.0, 10.0]
    assert not coco.imgs[2].get("verified") and len(coco.cats) == 2


def test_edits_without_a_snapshot_copy_nothing():
    dataset = small_dataset()
    group = dataset._by_image[1]
    dataset.apply(update_object(dataset, 10, box=(3.0, 3.0, 50.0, 60.0)))
    assert dataset._by_image[1] is group


def test_new_image_id_is_the_largest_plus_one_however_images_were_added():
    dataset = small_dataset()
    assert dataset.new_image_id() == 3
    dataset.add_image_record(ImageRecord(id=7, file_name="c.jpg", width=5, height=5))
    assert dataset.new_image_id() == 8
    dataset.images[9] = ImageRecord(id=9, file_name="d.jpg", width=5, height=5)  # not via add
    assert dataset.new_image_id() == 10
    del dataset.images[9]
    dataset.images[10] = ImageRecord(id=10, file_name="e.jpg", width=5, height=5)
    assert dataset.new_image_id() == 11
    assert Dataset(images={4: dataset.images[1]}).new_image_id() == 5
