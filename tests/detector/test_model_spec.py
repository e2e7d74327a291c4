"""One string per model choice: ARCH, ARCH@WEIGHTS, ARCH@none, ARCH@path, a bare path."""

from __future__ import annotations

import pytest

from detector.models import load_model
from detector.models.spec import (
    ModelChoice,
    choice_from_arguments,
    load_choice,
    model_label,
    parse_model_spec,
)


@pytest.mark.parametrize(
    ("spec", "architecture", "weights"),
    [
        ("shapes", "shapes", "default"),
        ("fasterrcnn_resnet50_fpn@COCO_V1", "fasterrcnn_resnet50_fpn", "COCO_V1"),
        ("fasterrcnn_resnet50_fpn@none", "fasterrcnn_resnet50_fpn", "none"),
        ("maskrcnn_resnet50_fpn@/data/my@model.pth", "maskrcnn_resnet50_fpn", "/data/my@model.pth"),
        ("/data/runs/best.pth", None, "/data/runs/best.pth"),
        ("C:\\runs\\a@b.pth", None, "C:\\runs\\a@b.pth"),
    ],
)
def test_specs_round_trip(spec, architecture, weights):
    choice = parse_model_spec(spec)
    assert (choice.architecture, choice.weights) == (architecture, weights)
    assert choice.spec == spec


def test_command_line_arguments_and_labels():
    assert choice_from_arguments(None, None) is None
    coco = choice_from_arguments("fasterrcnn_resnet50_fpn", "COCO_V1")
    assert coco.label() == "fasterrcnn_resnet50_fpn · COCO_V1"
    assert choice_from_arguments("shapes", "NONE").is_random
    assert choice_from_arguments("shapes", "x/y.pth").label() == "shapes · y.pth"
    assert choice_from_arguments(None, "x/y.pth") == ModelChoice(None, "x/y.pth")
    assert ModelChoice("shapes", "runs/weights.bin").is_file
    assert not ModelChoice("shapes", "COCO_V1").is_file


def test_random_init_is_labelled_untrained():
    model = load_choice(parse_model_spec("shapes@none"), "cpu", min_size=128, max_size=160)
    assert not model.trained and model_label(model) == "shapes · RANDOM INIT (untrained)"
    bundled = load_model("shapes", device="cpu")
    if bundled.trained:  # the bundled checkpoint is present in a full checkout
        assert model_label(bundled) == "shapes · shapes.pth"
