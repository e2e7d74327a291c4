"""The bundled ``shapes`` model: pure torchvision parts, the committed checkpoint, the samples."""

from __future__ import annotations

import json

import numpy as np
import torch
from pycocotools.coco import COCO
from torchvision.models.detection import MaskRCNN
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.ops import box_iou

from detector.inference.run import detect
from detector.io.images import read_image
from detector.models import BUNDLED_CHECKPOINTS, RESOURCES, load_model
from detector.models.shapes import ANCHOR_SIZES, SHAPE_CLASSES, build_shapes_model

SAMPLES = RESOURCES / "samples" / "shapes"
CHECKPOINT = BUNDLED_CHECKPOINTS["shapes"]


def test_the_architecture_is_made_of_torchvision_classes():
    module = build_shapes_model()
    assert type(module) is MaskRCNN and type(module.backbone) is BackboneWithFPN
    assert module.rpn.anchor_generator.sizes == ANCHOR_SIZES
    assert module.roi_heads.box_predictor.cls_score.out_features == len(SHAPE_CLASSES)
    assert sum(p.numel() for p in module.parameters()) < 3_000_000
    assert module.transform.min_size == (512,)


def test_random_init_outputs_follow_torchvision_contract():
    model = load_model("shapes", weights=None, device="cpu", min_size=128, max_size=128)
    [found] = detect(model, [np.zeros((100, 120, 3), np.uint8)])
    assert not found.has_masks or (len(found) == 0 or found.mask(0).shape == (100, 120))
    assert not model.trained


def test_the_bundled_checkpoint_is_committed_small_and_weights_only():
    assert CHECKPOINT.is_file(), "resources/models/shapes.pth must be committed"
    assert CHECKPOINT.stat().st_size < 20 * 1024 * 1024
    payload = torch.load(CHECKPOINT, map_location="cpu", weights_only=True)
    assert payload["architecture"] == "shapes" and payload["categories"] == SHAPE_CLASSES
    assert payload["training"]["finished"]
    assert payload["metrics"]["bbox_AP50"] > 0.5  # the card states the measured figures


def test_the_sample_set_is_a_coco_folder_of_the_shape_classes():
    coco = COCO(str(SAMPLES / "annotations.json"))
    images = coco.loadImgs(coco.getImgIds())
    assert 15 <= len(images) <= 30
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == SHAPE_CLASSES[1:]
    for info in images:
        assert read_image(SAMPLES / info["file_name"]).shape == (512, 512, 3)


def test_the_bundled_model_finds_the_shapes_of_a_sample_with_their_class():
    model = load_model("shapes", device="cpu")
    assert model.trained and str(CHECKPOINT) in model.source
    gt = json.loads((SAMPLES / "annotations.json").read_text())
    hits = total = 0
    for info in gt["images"][:3]:
        [found] = detect(model, [read_image(SAMPLES / info["file_name"])])
        confident = found.select(found.scores > 0.5)
        for ann in (a for a in gt["annotations"] if a["image_id"] == info["id"]):
            x, y, w, h = ann["bbox"]
            total += 1
            if len(confident) == 0:
                continue
            iou = box_iou(torch.tensor([[x, y, x + w, y + h]]), torch.from_numpy(confident.boxes))[
                0
            ]
            best = int(iou.argmax())
            hits += bool(iou[best] >= 0.5 and confident.labels[best] == ann["category_id"])
    assert total >= 10
    assert hits / total >= 0.8, f"{hits} of {total} shapes found with their class"
