"""trace_image equals model.module([tensor]) for every architecture, and its stages agree."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from detector.geometry.boxes import clip_boxes, decode_boxes
from detector.inference.run import image_to_tensor
from detector.models import ARCHITECTURES, load_model
from detector.trace import trace_image

SMALL = dict(
    min_size=96,
    max_size=128,
    box_score_thresh=0.001,
    box_detections_per_img=12,
    rpn_pre_nms_top_n_test=300,
    rpn_post_nms_top_n_test=100,
)
HEAVY_HEADS = {"keypointrcnn_resnet50_fpn": dict(box_detections_per_img=4)}  # 8 convs x 512


def _image(height: int, width: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    image[height // 4 : height // 2, width // 4 : width // 2] = (250, 30, 30)  # something solid
    return image


IMAGES = {
    "non_square": _image(150, 230, 1),
    "smaller_than_min_size": _image(60, 90, 2),
    "very_wide": _image(40, 400, 3),
}


def _architectures() -> list[str]:
    from detector.models import shapes  # noqa: F401  (registers the bundled model)

    return sorted(ARCHITECTURES)


@pytest.fixture(scope="module", params=_architectures())
def model(request):
    settings = {**SMALL, **HEAVY_HEADS.get(request.param, {})}
    return load_model(request.param, weights=None, device="cpu", **settings)


@pytest.fixture(scope="module")
def runs(model) -> dict:
    """Each test image traced once and run once through the module, per architecture."""
    return {
        case: (trace_image(model, image), reference(model, image)) for case, image in IMAGES.items()
    }


def reference(model, image: np.ndarray) -> dict:
    with torch.inference_mode():
        return model.module([image_to_tensor(image, model.device)])[0]


def assert_same_output(trace, expected: dict) -> None:
    found = trace.detections
    pairs = [("boxes", found.boxes), ("labels", found.labels), ("scores", found.scores)]
    if "keypoints" in expected:
        pairs += [("keypoints", found.keypoints), ("keypoints_scores", found.keypoint_scores)]
    assert set(expected) - {"masks"} == {name for name, _ in pairs}
    for name, value in pairs:
        np.testing.assert_array_equal(value, expected[name].numpy(), err_msg=name)
    assert found.has_masks == ("masks" in expected)
    if "masks" in expected:  # pasted one at a time, equal to torchvision's paste of all N
        assert len(expected["masks"]) == len(found)
        for index, pasted in enumerate(expected["masks"][:, 0].numpy()):
            np.testing.assert_array_equal(found.mask_values(index), pasted, err_msg="masks")


@pytest.mark.parametrize("case", sorted(IMAGES))
def test_trace_equals_model_output(runs, case):
    image = IMAGES[case]
    trace, expected = runs[case]
    assert_same_output(trace, expected)
    assert len(trace.detections) > 0  # the lowered threshold leaves real work for NMS
    assert trace.input.original_size == image.shape[:2]


def test_trace_with_zero_detections(model):
    roi_heads = model.module.roi_heads
    saved = roi_heads.score_thresh
    roi_heads.score_thresh = 1.0  # no probability is > 1
    try:
        trace = trace_image(model, IMAGES["non_square"])
        expected = reference(model, IMAGES["non_square"])
    finally:
        roi_heads.score_thresh = saved
    assert len(trace.detections) == 0 and trace.provenance.proposal.shape == (0,)
    assert_same_output(trace, expected)


@pytest.mark.parametrize("case", sorted(IMAGES))
def test_stages_are_consistent(runs, case):
    trace = runs[case][0]
    inp, anchors, rpn, roi, chain = (
        trace.input,
        trace.anchors,
        trace.rpn,
        trace.roi,
        trace.provenance,
    )
    assert inp.padded_size[0] % 32 == 0 and inp.padded_size[0] >= inp.resized_size[0]
    for level, feature in zip(anchors.levels, trace.features, strict=True):
        assert feature.stride == (
            inp.padded_size[0] // feature.shape[1],
            inp.padded_size[1] // feature.shape[2],
        )
        assert level.grid_size == feature.shape[1:]
        y, x, k = level.grid_size[0] - 1, level.grid_size[1] - 1, level.num_per_location - 1
        index = anchors.flat_index(anchors.levels.index(level), y, x, k)
        np.testing.assert_array_equal(anchors.locations[index][1:], [y, x, k])
        shift = np.array([x * level.stride[1], y * level.stride[0]] * 2, dtype=np.float32)
        np.testing.assert_allclose(anchors.anchors_resized[index], level.cell_anchors[k] + shift)
    count = anchors.anchors_resized.shape[0]
    assert rpn.objectness_logits.shape == (count,) and rpn.deltas.shape == (count, 4)
    np.testing.assert_allclose(
        rpn.decoded_resized, decode_boxes(rpn.deltas, anchors.anchors_resized), rtol=1e-5, atol=1e-3
    )
    assert len(rpn.proposals_resized) <= rpn.post_nms_top_n
    assert np.all(np.diff(rpn.proposal_scores[rpn.proposal_level == 0]) <= 0)
    np.testing.assert_array_equal(rpn.nms.keep, rpn.nms_keep)
    assert rpn.nms.matches_model and roi.nms.matches_model
    np.testing.assert_array_equal(roi.proposals_resized, rpn.proposals_resized)
    np.testing.assert_allclose(roi.class_probs.sum(axis=1), 1.0, rtol=1e-5)
    assert (roi.over_scores > roi.score_thresh).all()
    np.testing.assert_array_equal(trace.detections.labels, chain.label)
    np.testing.assert_array_equal(trace.detections.boxes, inp.boxes_to_image(chain.boxes_resized))
    height, width = inp.resized_size
    rebuilt = clip_boxes(
        decode_boxes(chain.proposal_to_box, chain.proposal_boxes_resized, (1.0, 1.0, 1.0, 1.0)),
        height,
        width,
    )
    np.testing.assert_allclose(rebuilt, chain.boxes_resized, rtol=1e-5, atol=1e-3)
    proposal = clip_boxes(
        decode_boxes(chain.anchor_to_proposal, chain.anchor_boxes_resized), height, width
    )
    np.testing.assert_allclose(proposal, chain.proposal_boxes_resized, rtol=1e-5, atol=1e-3)
    np.testing.assert_array_equal(roi.nms.keep, roi.nms_keep)
    if trace.masks is not None:
        assert trace.masks.mask_probs.shape[0] == len(trace.detections)
        assert trace.detections.image_size == inp.original_size
        assert trace.detections.mask_probs is trace.masks.mask_probs or np.array_equal(
            trace.detections.mask_probs, trace.masks.mask_probs
        )


def test_rerun_with_own_thresholds_is_identical(runs):
    trace, expected = runs["very_wide"]
    again = trace.rerun(
        score_thresh=trace.settings.score_thresh, rpn_nms_thresh=trace.settings.rpn_nms_thresh + 0.0
    )
    assert_same_output(again, expected)
    rpn_again = trace.rerun(rpn_post_nms_top_n=trace.settings.rpn_post_nms_top_n + 1)
    rpn_again = rpn_again.rerun(rpn_post_nms_top_n=trace.settings.rpn_post_nms_top_n)
    assert_same_output(rpn_again, expected)
