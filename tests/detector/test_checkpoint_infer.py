"""A user's plain state dict: architecture from names and shapes, class names from sidecars."""

from __future__ import annotations

import json

import pytest
import torch

from detector.errors import ModelError
from detector.models import load_model
from detector.models.infer import AmbiguousArchitectureError, infer_architecture
from detector.models.registry import ARCHITECTURES
from detector.models.sidecars import resolve_plain_checkpoint, write_sidecar

SMALL = {"min_size": 128, "max_size": 160}
MOBILE = ("fasterrcnn_mobilenet_v3_large_fpn", "fasterrcnn_mobilenet_v3_large_320_fpn")


def _state(name: str, num_classes: int) -> dict[str, torch.Tensor]:
    return load_model(name, weights=None, num_classes=num_classes, device="cpu").module.state_dict()


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_every_zoo_architecture_is_inferred_from_its_state_dict(name):
    num_classes = 2 if ARCHITECTURES[name].kind == "keypoint" else 4
    state = _state(name, num_classes)
    match = infer_architecture(state)
    assert match.num_classes == num_classes
    expected = MOBILE if name in MOBILE else (name,)  # the two MobileNets share every tensor
    assert match.candidates == expected
    # torchvision's pretrained files use FrozenBatchNorm2d: no num_batches_tracked buffers
    frozen = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    assert infer_architecture(frozen).candidates == expected


def test_no_fit_names_the_closest_architecture():
    state = _state("fasterrcnn_resnet50_fpn", 3)
    del state["rpn.head.conv.0.0.weight"]
    match = infer_architecture(state)
    assert match.candidates == () and match.closest == "fasterrcnn_resnet50_fpn"
    assert "rpn.head.conv.0.0.weight missing" in match.mismatch
    assert infer_architecture({"weight": torch.zeros(3)}).num_classes is None


def test_unambiguous_plain_state_dict_loads_with_classes_txt(tmp_path):
    model = load_model("shapes", weights=None, num_classes=3, seed=2, **SMALL)
    path = tmp_path / "mine.pth"
    torch.save(model.module.state_dict(), path)
    loaded = load_model(str(path), **SMALL)
    assert loaded.architecture == "shapes" and loaded.trained
    assert loaded.categories == ["__background__", "class_1", "class_2"]
    (tmp_path / "classes.txt").write_text("cat\ndog\n\n")
    loaded = load_model(str(path), **SMALL)
    assert loaded.categories == ["__background__", "cat", "dog"]
    key = "roi_heads.box_predictor.cls_score.weight"
    assert torch.equal(loaded.module.state_dict()[key], model.module.state_dict()[key])
    (tmp_path / "classes.txt").write_text("cat\ndog\nbird\n")
    with pytest.raises(ModelError, match=r"classes.txt: 3 class names, but mine.pth has 2"):
        load_model(str(path), **SMALL)


def test_ambiguous_state_dict_asks_and_a_json_sidecar_answers(tmp_path):
    model = load_model(MOBILE[1], weights=None, num_classes=3, **SMALL)
    path = tmp_path / "mobile.pth"
    torch.save(model.module.state_dict(), path)
    with pytest.raises(AmbiguousArchitectureError) as info:
        load_model(str(path))
    assert info.value.candidates == MOBILE and str(path) in str(info.value)
    given = load_model(MOBILE[0], weights=path, **SMALL)  # the user said which
    assert given.architecture == MOBILE[0] and given.num_classes == 3
    sidecar = write_sidecar(path, MOBILE[1], ["apple", "pear"])
    assert sidecar.name == "mobile.pth.json"
    loaded = load_model(str(path), **SMALL)
    assert loaded.architecture == MOBILE[1]
    assert loaded.categories == ["__background__", "apple", "pear"]
    sidecar.unlink()
    (tmp_path / "mobile.json").write_text(
        json.dumps({"architecture": MOBILE[0], "categories": [{"name": "a"}, {"name": "b"}]})
    )
    plain = resolve_plain_checkpoint(path, torch.load(path, weights_only=True))
    assert plain.architecture == MOBILE[0] and plain.categories[1:] == ["a", "b"]
    assert plain.architecture_from == "sidecar mobile.json" and plain.names_from == "mobile.json"
    (tmp_path / "mobile.json").write_text('{"architecture": "yolo"}')
    with pytest.raises(ModelError, match="mobile.json: architecture 'yolo' is not in the zoo"):
        load_model(str(path))


def test_torchvision_file_name_gives_architecture_and_coco_names(tmp_path):
    state = _state(MOBILE[1], 91)
    path = tmp_path / "fasterrcnn_mobilenet_v3_large_320_fpn-907ea3f9.pth"
    frozen = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    torch.save(frozen, path)
    loaded = load_model(str(path), **SMALL)
    assert loaded.architecture == MOBILE[1]
    assert loaded.categories[1] == "person" and loaded.num_classes == 91


def test_detect_cli_takes_a_plain_state_dict_and_classes_txt(tmp_path):
    """``main.py detect --model mine.pth``: architecture inferred, names from classes.txt."""
    import numpy as np
    from PIL import Image

    import main

    model = load_model("shapes", weights=None, num_classes=3, seed=4, **SMALL)
    checkpoint = tmp_path / "weights" / "mine.pth"
    checkpoint.parent.mkdir()
    torch.save(model.module.state_dict(), checkpoint)
    (checkpoint.parent / "classes.txt").write_text("apple\npear\n")
    image = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (96, 128, 3), np.uint8)).save(image)
    out = tmp_path / "detections.json"
    code = main.main(["detect", str(image), "--model", str(checkpoint), "--out", str(out)])
    assert code == 0
    names = [c["name"] for c in json.loads(out.read_text())["categories"]]
    assert names == ["apple", "pear"]  # background is not a COCO category
