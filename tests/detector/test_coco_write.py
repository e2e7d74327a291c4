"""The one COCO writer: detections, model categories and documents load in pycocotools."""

from __future__ import annotations

import contextlib
import io

import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from detector.data.dataset import ImageRecord
from detector.formats.coco_write import (
    coco_document,
    detection_dicts,
    image_dict,
    model_category_dicts,
    write_coco,
)
from detector.inference.detections import Detections


def _detections() -> Detections:
    # the mask head's 28 x 28 probabilities over each box of a 30 x 20 image
    probs = np.stack([np.full((28, 28), value, np.float32) for value in (0.9, 0.7, 0.4)])
    return Detections(  # the last mask is never above the threshold: empty
        boxes=np.array([[3, 2, 9, 6], [10, 10, 20, 12], [0, 0, 5, 5]], np.float32),
        labels=np.array([1, 3, 2]),
        scores=np.array([0.912345678, 0.5, 0.25], np.float32),
        mask_probs=probs,
        image_size=(20, 30),
    )


def test_detections_map_labels_and_keep_their_masks():
    found = _detections()
    entries = detection_dicts(found, 7, first_id=4, category_ids=[-1, 11, -1, 13])
    assert [(e["id"], e["image_id"], e["category_id"]) for e in entries] == [(4, 7, 11), (5, 7, 13)]
    assert entries[0]["bbox"] == [3.0, 2.0, 6.0, 4.0]
    np.testing.assert_array_equal(
        mask_utils.decode(_bytes(entries[1]["segmentation"])), found.masks[1] > 0.5
    )
    assert entries[1]["area"] == int(found.mask(1).sum()) > 0
    rounded = detection_dicts(found, 7, rounded=True)
    assert rounded[0]["score"] == round(float(found.scores[0]), 5)
    assert [e["category_id"] for e in rounded] == [1, 3, 2]  # no map: the label itself


def _bytes(rle: dict) -> dict:
    return {"size": rle["size"], "counts": rle["counts"].encode("ascii")}


def test_a_written_detection_file_loads_as_dataset_and_as_results(tmp_path):
    categories = model_category_dicts(["__background__", "cat", "N/A", "dog"])
    assert [(c["id"], c["name"]) for c in categories] == [(1, "cat"), (3, "dog")]
    found = _detections()
    keep = found.select(found.labels != 2)
    document = coco_document(
        [image_dict(ImageRecord(id=7, file_name="a.png", width=30, height=20))],
        categories,
        detection_dicts(keep, 7),
        info={"description": "test"},
    )
    path = write_coco(tmp_path / "out.json", document)
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(path))
        results = coco.loadRes(detection_dicts(keep, 7))
    assert len(coco.getAnnIds()) == 2 and len(results.getAnnIds()) == 2
    assert list(document) == ["info", "images", "annotations", "categories"]
