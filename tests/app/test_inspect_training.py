"""Training view: ground-truth masks reach the mask loss, the losses shown are
``detector.trace.training_view.training_view``'s, and the shared model is never put in training mode."""

from __future__ import annotations

import numpy as np
import pytest

from app.inspect.ground_truth import decode_mask
from app.inspect.stage_training import LOSS_NAMES


@pytest.fixture
def dock(inspect_dock):
    return inspect_dock


def computed_view(dock, qtbot):
    dock.select_stage("training")
    stage = dock.current_stage()
    qtbot.waitUntil(lambda: stage.view is not None and not stage.running, timeout=60000)
    return stage


def test_losses_shown_equal_training_view_with_gt_masks(dock, qtbot, small_model):
    from detector.trace.training_view import training_view

    stage = computed_view(dock, qtbot)
    truth = dock.context.truth()
    image = dock.window.current_image()
    masks = truth.binary_masks(*image.shape[:2])
    assert masks is not None and masks.shape == (len(truth), *image.shape[:2])
    assert masks.any(axis=(1, 2)).all()
    expected = training_view(small_model, image, truth.boxes_image, truth.labels, masks, seed=0)
    assert "loss_mask" in expected.losses
    assert stage.view.losses == pytest.approx(expected.losses, rel=0, abs=0)
    text = stage.info.text()
    for key, _name in LOSS_NAMES:
        assert f"{expected.losses[key]:.4f}" in text
    assert "n/a" not in text


def test_training_view_leaves_the_shared_module_alone(dock, qtbot, small_model):
    calls = []
    handle = small_model.module.register_forward_pre_hook(lambda module, args: calls.append(1))
    try:
        computed_view(dock, qtbot)
    finally:
        handle.remove()
    assert calls == [], "training_view ran on the window's module"
    assert not small_model.module.training


def test_decode_mask_reads_polygons_and_both_rle_forms():
    from pycocotools import mask as mask_utils

    polygon = [[2.0, 2.0, 8.0, 2.0, 8.0, 6.0, 2.0, 6.0]]
    square = decode_mask(polygon, 10, 12)
    assert square.shape == (10, 12) and square[3:6, 3:8].all() and not square[0].any()
    compressed = mask_utils.encode(np.asfortranarray(square))
    as_str = {"size": compressed["size"], "counts": compressed["counts"].decode()}
    np.testing.assert_array_equal(decode_mask(as_str, 10, 12), square)
    uncompressed = {"size": [10, 12], "counts": _run_lengths(square)}
    np.testing.assert_array_equal(decode_mask(uncompressed, 10, 12), square)
    with pytest.raises(ValueError, match="image"):
        decode_mask(as_str, 20, 12)


def _run_lengths(mask: np.ndarray) -> list[int]:
    """COCO uncompressed RLE counts (column-major, starting with a run of zeros)."""
    flat = mask.flatten(order="F")
    edges = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], edges, [len(flat)]])
    counts = np.diff(bounds).tolist()
    return counts if flat[0] == 0 else [0, *counts]


def test_objects_of_classes_the_model_lacks_are_skipped_and_named(dock, qtbot, small_model):  # noqa: F811
    from detector.data.dataset import Annotation, Category
    from detector.data.edits import AddCategory, AddObjects, Compound
    from detector.trace.training_view import training_view

    window = dock.window
    dataset = window.dataset
    dog = Category(dataset.new_category_id(), "dog", "#aa5500")
    stray = Annotation(dataset.new_object_id(), window.current_image_id, dog.id, (5, 5, 60, 50))
    window.undo.push(Compound((AddCategory(dog), AddObjects((stray,))), "add a dog"))
    stage = computed_view(dock, qtbot)
    assert "dog" in stage.info.text() and "lacks" in stage.info.text()
    truth = dock.context.truth()
    known = truth.labels > 0
    image = window.current_image()
    kept = [m for m, ok in zip(truth.masks, known, strict=True) if ok]
    masks = np.stack([decode_mask(m, *image.shape[:2]) for m in kept]).astype(np.uint8)
    expected = training_view(
        small_model,
        image,
        truth.boxes_image[known],
        truth.labels[known],
        masks,
        seed=0,
    )
    assert stage.view.losses == pytest.approx(expected.losses, rel=0, abs=0)
