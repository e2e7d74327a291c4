"""Issue 18: every way a checkpoint can be wrong is a ModelError naming the file and field."""

from __future__ import annotations

import pytest
import torch

from detector.errors import ModelError
from detector.models.zoo import load_model, save_checkpoint


@pytest.fixture(scope="module")
def good_payload(tmp_path_factory) -> dict:
    model = load_model("shapes", weights=None, device="cpu")
    path = tmp_path_factory.mktemp("ckpt") / "good.pth"
    save_checkpoint(model, path)
    return torch.load(path, weights_only=True)


def write(tmp_path, payload) -> str:
    path = tmp_path / "bad.pth"
    torch.save(payload, path)
    return str(path)


def test_good_checkpoint_still_loads(tmp_path, good_payload):
    model = load_model(write(tmp_path, good_payload), device="cpu")
    assert model.architecture == "shapes" and model.trained


@pytest.mark.parametrize("field", ["architecture", "categories", "model"])
def test_missing_fields_are_named(tmp_path, good_payload, field):
    payload = {k: v for k, v in good_payload.items() if k != field}
    with pytest.raises(ModelError, match=f"field '{field}'") as info:
        load_model(write(tmp_path, payload), device="cpu")
    assert "bad.pth" in str(info.value)


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("architecture", 7, "architecture"),
        ("architecture", "resnet9000", "architecture"),
        ("categories", "circle,square", "categories"),
        ("categories", [1, 2, 3, 4], "categories"),
        ("categories", ["a", "b"], "categories"),  # two names for a 4-class head
        ("settings", ["min_size", 5], "settings"),
        ("settings", {"min_size": -5}, "settings.min_size"),
        ("settings", {"box_nms_thresh": 7.5}, "settings.box_nms_thresh"),
        ("settings", {"no_such_keyword": 1}, "settings.no_such_keyword"),
        ("settings", {"rpn_post_nms_top_n_test": 10**12}, "settings.rpn_post_nms_top_n_test"),
        ("keypoint_names", 3, "keypoint_names"),
        ("model", [1, 2], "model"),
    ],
)
def test_wrongly_typed_fields_are_named(tmp_path, good_payload, field, value, named):
    payload = {**good_payload, field: value}
    with pytest.raises(ModelError, match=f"field '{named}'"):
        load_model(write(tmp_path, payload), device="cpu")


def test_non_tensor_weight_is_named(tmp_path, good_payload):
    state = dict(good_payload["model"])
    key = next(iter(state))
    state[key] = [1.0, 2.0]
    with pytest.raises(ModelError, match=f"model.{key}"):
        load_model(write(tmp_path, {**good_payload, "model": state}), device="cpu")


def test_wrong_tensor_shape_is_refused_before_loading(tmp_path, good_payload):
    state = dict(good_payload["model"])
    key = "rpn.head.conv.0.0.weight" if "rpn.head.conv.0.0.weight" in state else next(iter(state))
    state[key] = torch.zeros(1, 1)
    with pytest.raises(ModelError, match="does not fit"):
        load_model(write(tmp_path, {**good_payload, "model": state}), device="cpu")


def test_zero_width_class_head_of_300_million_rows_is_refused_at_once(tmp_path):
    """A 1.7 KB file whose (300000000, 0) tensor used to build 300 million class names."""
    payload = {"roi_heads.box_predictor.cls_score.weight": torch.zeros(300_000_000, 0)}
    path = write(tmp_path, payload)
    with pytest.raises(ModelError, match="cls_score.weight"):
        load_model("fasterrcnn_mobilenet_v3_large_320_fpn", weights=path, device="cpu")


def test_detscope_checkpoint_with_a_huge_zero_width_head_is_refused(tmp_path, good_payload):
    state = {**good_payload["model"]}
    state["roi_heads.box_predictor.cls_score.weight"] = torch.zeros(300_000_000, 0)
    with pytest.raises(ModelError, match="cls_score.weight"):
        load_model(write(tmp_path, {**good_payload, "model": state}), device="cpu")


def test_plain_state_dict_with_non_string_keys_is_refused(tmp_path):
    path = write(tmp_path, {1: torch.zeros(2)})
    with pytest.raises(ModelError, match="not a string"):
        load_model("fasterrcnn_mobilenet_v3_large_320_fpn", weights=path, device="cpu")


def test_truncated_checkpoint_is_a_model_error(tmp_path, good_payload):
    path = write(tmp_path, good_payload)
    data = open(path, "rb").read()
    with open(path, "wb") as handle:
        handle.write(data[: len(data) // 2])
    with pytest.raises(ModelError, match="not a loadable"):
        load_model(path, device="cpu")
