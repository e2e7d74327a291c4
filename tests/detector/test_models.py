"""The model zoo: every architecture builds and runs; checkpoints load safely or fail clearly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision

from detector.errors import ModelError
from detector.inference.run import detect, image_to_tensor
from detector.models import ARCHITECTURES, load_model, resolve_device, save_checkpoint

SMALL = {"min_size": 128, "max_size": 160}


def test_torchvision_ops_work_after_install():
    """The install trap: a CPU-only torch without matching torchvision breaks this op."""
    boxes = torch.tensor([[0.0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]])
    keep = torchvision.ops.nms(boxes, torch.tensor([0.9, 0.8, 0.7]), 0.5)
    assert keep.tolist() == [0, 2]


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_every_architecture_builds_and_runs(name):
    model = load_model(name, weights=None, device="cpu", box_score_thresh=0.0, **SMALL)
    image = np.random.default_rng(0).integers(0, 255, (100, 140, 3), dtype=np.uint8)
    (result,) = detect(model, [image])
    assert len(result) > 0 and result.boxes.shape[1] == 4
    assert result.boxes[:, [0, 2]].max() <= 140 and result.boxes[:, [1, 3]].max() <= 100
    assert model.num_classes == len(model.categories) and model.categories[0] == "__background__"
    if model.kind == "mask":
        assert result.mask_probs.shape == (len(result), 28, 28)
        assert result.mask(0).shape == (100, 140) and result.mask(0).dtype == bool
    if model.kind == "keypoint":
        assert result.keypoints.shape == (len(result), 17, 3)


def test_random_init_is_seeded():
    first = load_model("fasterrcnn_mobilenet_v3_large_320_fpn", weights=None, seed=3)
    second = load_model("fasterrcnn_mobilenet_v3_large_320_fpn", weights=None, seed=3)
    other = load_model("fasterrcnn_mobilenet_v3_large_320_fpn", weights=None, seed=4)
    key = "roi_heads.box_predictor.cls_score.weight"
    assert torch.equal(first.module.state_dict()[key], second.module.state_dict()[key])
    assert not torch.equal(first.module.state_dict()[key], other.module.state_dict()[key])
    assert not first.trained and "random" in first.describe()


def test_detscope_checkpoint_round_trip(tmp_path):
    model = load_model("shapes", weights=None, seed=5, **SMALL)
    path = save_checkpoint(model, tmp_path / "shapes.pth", step=7)
    loaded = load_model(str(path))
    assert loaded.architecture == "shapes" and loaded.trained
    assert loaded.categories == model.categories and loaded.settings == model.settings
    image = np.random.default_rng(1).integers(0, 255, (90, 120, 3), dtype=np.uint8)
    tensor = image_to_tensor(image)
    with torch.inference_mode():
        expected, got = model.module([tensor])[0], loaded.module([tensor])[0]
    assert torch.equal(expected["boxes"], got["boxes"])
    assert torch.load(path, weights_only=True)["step"] == 7


def test_plain_state_dict_needs_and_checks_architecture(tmp_path):
    model = load_model("fasterrcnn_mobilenet_v3_large_320_fpn", weights=None, num_classes=4)
    path = tmp_path / "plain.pth"
    torch.save(model.module.state_dict(), path)
    loaded = load_model("fasterrcnn_mobilenet_v3_large_320_fpn", weights=path)
    assert loaded.num_classes == 4
    with pytest.raises(ModelError, match="say which architecture"):
        load_model(str(path))
    with pytest.raises(ModelError, match="4 classes, 91 expected"):
        load_model("fasterrcnn_mobilenet_v3_large_320_fpn", weights=path, num_classes=91)
    with pytest.raises(ModelError, match="does not fit fasterrcnn_resnet50_fpn"):
        load_model("fasterrcnn_resnet50_fpn", weights=path)


class _Payload:
    def __reduce__(self):
        return (print, ("this would run code",))


@pytest.mark.parametrize("kind", ["missing", "text", "truncated", "code", "list"])
def test_bad_checkpoints_give_one_clear_error(tmp_path, kind):
    path = tmp_path / f"{kind}.pth"
    if kind == "text":
        path.write_text("hello, not a checkpoint")
    elif kind == "truncated":
        model = load_model("fasterrcnn_mobilenet_v3_large_320_fpn", weights=None)
        save_checkpoint(model, path)
        path.write_bytes(path.read_bytes()[:5000])
    elif kind == "code":
        torch.save({"model": _Payload()}, path)
    elif kind == "list":
        torch.save([1, 2, 3], path)
    with pytest.raises(ModelError) as info:
        load_model("fasterrcnn_mobilenet_v3_large_320_fpn", weights=path)
    assert str(path) in str(info.value)


def test_unknown_names_and_devices():
    with pytest.raises(ModelError, match="unknown model 'yolo'"):
        load_model("yolo")
    with pytest.raises(ModelError, match="not in the torch hub cache"):
        load_model("fasterrcnn_resnet50_fpn", weights="COCO_V1")
    with pytest.raises(ModelError, match="no weights 'NOPE'"):
        load_model("fasterrcnn_resnet50_fpn", weights="NOPE")
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ModelError, match="unknown device"):
        resolve_device("tpu-9000")


def test_random_shapes_model_knows_its_class_names():
    from detector.models.shapes import SHAPE_CLASSES

    model = load_model("shapes", weights=None, **SMALL)
    assert model.categories == SHAPE_CLASSES and not model.trained
    assert load_model("shapes", weights=None, num_classes=3).categories[1] == "class_1"
