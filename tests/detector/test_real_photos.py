"""Real photographs (scikit-image's samples, written at several sizes, orientations and
formats): they decode as a viewer shows them, open as a dataset, and detect with masks that
equal torchvision's pasted masks, without image-sized masks held N at a time."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from pycocotools import mask as mask_utils

from detector.formats.coco_write import detection_dicts
from detector.inference.run import detect, image_to_tensor
from detector.io.images import load_image, read_image, read_image_size
from detector.models import load_model
from detector.store import open_dataset
from detector.trace import trace_image
from tests.detector.real_photos import write_corpus

SMALL = {"min_size": 128, "max_size": 160, "box_score_thresh": 0.0}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    return folder, write_corpus(folder)


@pytest.fixture(scope="module")
def model():
    return load_model("shapes", weights=None, device="cpu", seed=1, **SMALL)


def test_every_photo_decodes_as_a_viewer_shows_it(corpus):
    for photo in corpus[1]:
        decoded = read_image(photo.path)
        assert decoded.shape == photo.expected.shape, photo.path.name
        assert read_image_size(photo.path) == (decoded.shape[1], decoded.shape[0])
        difference = np.abs(decoded.astype(int) - photo.expected.astype(int))
        if photo.lossy:
            assert difference.mean() < 4, photo.path.name
        else:
            assert difference.max() == 0, photo.path.name


def test_the_photo_folder_opens_with_oriented_sizes(corpus):
    folder, photos = corpus
    dataset = open_dataset(folder)
    sizes = {r.file_name: (r.height, r.width) for r in dataset.images.values()}
    assert sizes == {p.path.name: p.expected.shape[:2] for p in photos}


def test_masks_on_a_real_photo_equal_torchvision_one_at_a_time(corpus, model):
    photo = next(p for p in corpus[1] if p.path.name == "coffee_o6.jpg")
    image = read_image(photo.path)
    with torch.inference_mode():
        expected = model.module([image_to_tensor(image)])[0]
    for found in (detect(model, [image])[0], trace_image(model, image).detections):
        np.testing.assert_array_equal(found.boxes, expected["boxes"].numpy())
        pasted = expected["masks"][:, 0].numpy()
        assert len(found) == len(pasted) > 0
        for index in range(len(found)):
            np.testing.assert_array_equal(found.mask_values(index), pasted[index])
    rows = detection_dicts(found, 1, first_id=1, rounded=True)
    decoded = mask_utils.decode([row["segmentation"] for row in rows]).transpose(2, 0, 1)
    np.testing.assert_array_equal(decoded, pasted > 0.5)


def test_a_photo_over_the_budget_detects_in_original_pixels(corpus, model):
    photo = next(p for p in corpus[1] if p.path.name == "astronaut_1536.png")
    loaded = load_image(photo.path, max_pixels=1536 * 1536 // 4)
    assert loaded.pixels.shape[:2] == (768, 768) and loaded.scale_x == 2.0
    found = detect(model, [loaded.pixels])[0]
    big = found.scaled(loaded.scale_x, loaded.scale_y, (loaded.height, loaded.width))
    np.testing.assert_allclose(big.boxes, found.boxes * 2)
    assert big.mask(0).shape == (1536, 1536)
    assert abs(big.mask_area(0) - 4 * found.mask_area(0)) <= 0.05 * 4 * found.mask_area(0) + 50


def test_a_big_photo_is_prepared_one_plane_at_a_time_equal_to_torchvision(corpus, model):
    """Above 4 MP the input is normalised and resized per colour plane (a third of the
    float memory); at 2+ torch threads that equals torchvision's transform exactly."""
    from detector.inference.run import PLANE_AT_A_TIME_PIXELS, prepare

    photo = next(p for p in corpus[1] if p.path.name == "coffee_o6.jpg")
    image = cv2.resize(read_image(photo.path), (2600, 1700), interpolation=cv2.INTER_CUBIC)
    assert image.shape[0] * image.shape[1] > PLANE_AT_A_TIME_PIXELS
    transform = model.module.transform
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with torch.inference_mode():
            expected = transform([image_to_tensor(image)])[0].tensors
            found = prepare(transform, [image], "cpu")[0].tensors
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(found, expected)
