"""mask_from_box equals torchvision's own mask branch run on that box, before thresholding."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.models.detection.roi_heads import maskrcnn_inference

from detector.errors import ModelError
from detector.inference.run import image_to_tensor
from detector.models import load_model
from detector.trace import trace_image
from detector.trace.mask_from_box import ImageFeatures, image_features, mask_from_box


def _image(height: int, width: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    image[height // 4 : height // 2, width // 4 : width // 2] = (250, 30, 30)
    return image


def _torchvision_reference(model, image, box_image, label) -> np.ndarray:
    """torchvision's modules, in RoIHeads.forward's order, on one given box; pasted probs."""
    module = model.module
    with torch.inference_mode():
        tensor = image_to_tensor(image, model.device)
        original = (int(tensor.shape[-2]), int(tensor.shape[-1]))
        images, _ = module.transform([tensor])
        features = module.backbone(images.tensors)
        size = images.image_sizes[0]
        boxes = torch.tensor([box_image], dtype=torch.float32)
        ratio = torch.tensor([size[1] / original[1], size[0] / original[0]] * 2)
        boxes_resized = boxes * ratio
        heads = module.roi_heads
        pooled = heads.mask_roi_pool(features, [boxes_resized], images.image_sizes)
        logits = heads.mask_predictor(heads.mask_head(pooled))
        labels = torch.tensor([label])
        probs = maskrcnn_inference(logits, [labels])[0]
        result = {"boxes": boxes_resized, "labels": labels, "scores": torch.ones(1), "masks": probs}
        output = module.transform.postprocess([result], images.image_sizes, [original])[0]
    return output["masks"][0, 0].numpy(), logits[0, label].numpy()


@pytest.fixture(scope="module")
def random_maskrcnn():
    torch.manual_seed(0)
    return load_model(
        "maskrcnn_resnet50_fpn", weights=None, num_classes=3, min_size=128, max_size=160
    )


@pytest.fixture(scope="module")
def shapes_model():
    return load_model("shapes")


@pytest.mark.parametrize(
    "box", [(20.0, 30.0, 120.0, 90.0), (3.5, 4.25, 40.0, 140.0), (0, 0, 230, 150)]
)
def test_random_maskrcnn_equals_torchvision_mask_head(random_maskrcnn, box):
    image = _image(150, 230, 1)
    result = mask_from_box(random_maskrcnn, box, image=image, label=2)
    expected, logits = _torchvision_reference(random_maskrcnn, image, box, 2)
    assert result.probs_image.shape == (150, 230)
    np.testing.assert_allclose(result.logits, logits, rtol=0, atol=1e-5)
    np.testing.assert_allclose(result.probs_image, expected, rtol=0, atol=1e-5)
    assert result.label == 2 and result.logits.shape == (28, 28)


def test_shapes_model_cached_features_equal_cold_and_reference(shapes_model):
    image = _image(300, 400, 2)
    box = (90.0, 70.0, 260.0, 200.0)
    cold = mask_from_box(shapes_model, box, image=image, label=1)
    cached = mask_from_box(shapes_model, box, features=image_features(shapes_model, image), label=1)
    expected, _ = _torchvision_reference(shapes_model, image, box, 1)
    np.testing.assert_allclose(cold.probs_image, expected, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(cached.probs_image, cold.probs_image)
    assert cold.binary().dtype == bool and cold.binary().shape == (300, 400)


def test_trace_features_reproduce_the_traces_own_masks(shapes_model):
    """Same code path as the final stage: a detection's box and label give its mask again."""
    image = _image(240, 320, 3)
    trace = trace_image(shapes_model, image)
    features = ImageFeatures.from_trace(trace)
    detections = trace.detections
    assert len(detections) > 0
    for index in range(min(len(detections), 3)):
        result = mask_from_box(
            shapes_model,
            detections.boxes[index],
            features=features,
            label=int(detections.labels[index]),
        )
        assert result.pool_level == int(trace.masks.pool_level[index])
        np.testing.assert_allclose(result.probs, trace.masks.mask_probs[index], atol=1e-4)
        np.testing.assert_allclose(result.probs_image, detections.masks[index], atol=1e-3)


def test_label_none_takes_the_box_heads_best_class(shapes_model):
    image = _image(200, 200, 4)
    result = mask_from_box(shapes_model, (50, 50, 150, 150), image=image)
    assert 1 <= result.label < shapes_model.num_classes


def test_bad_inputs_raise_model_errors(shapes_model):
    image = _image(100, 100, 5)
    with pytest.raises(ModelError, match="empty"):
        mask_from_box(shapes_model, (50, 50, 50, 80), image=image, label=1)
    with pytest.raises(ModelError, match="four finite"):
        mask_from_box(shapes_model, (1, 2, 3), image=image, label=1)
    with pytest.raises(ModelError, match="needs the image"):
        mask_from_box(shapes_model, (1, 2, 30, 40), label=1)
    faster = load_model("fasterrcnn_mobilenet_v3_large_320_fpn", weights=None, num_classes=3)
    with pytest.raises(ModelError, match="no mask head"):
        mask_from_box(faster, (1, 2, 30, 40), image=image, label=1)


def test_fast_features_equal_exact_up_to_rounding_and_crop_polygons_equal_full(shapes_model):
    from detector.geometry.polygons import mask_to_polygons

    image = _image(600, 800, 6)
    box = (150.0, 140.0, 420.0, 330.0)
    exact = mask_from_box(shapes_model, box, features=image_features(shapes_model, image), label=2)
    fast_features = image_features(shapes_model, image, exact=False)
    assert fast_features.resized_size == image_features(shapes_model, image).resized_size
    fast = mask_from_box(shapes_model, box, features=fast_features, label=2)
    np.testing.assert_allclose(fast.logits, exact.logits, atol=1e-4)
    np.testing.assert_allclose(fast.probs_image, exact.probs_image, atol=1e-5)
    assert exact.polygons(1.0) == mask_to_polygons(exact.binary(), 1.0)
    x0, y0 = exact.crop_origin
    assert (
        exact.probs_image[:y0].max(initial=0) == 0 and exact.probs_image[:, :x0].max(initial=0) == 0
    )
