"""The bundled ``shapes`` architecture: a small Mask R-CNN built from torchvision's own classes.

Every piece is standard torchvision (``BackboneWithFPN``, ``AnchorGenerator``,
``MultiScaleRoIAlign``, ``TwoMLPHead``, ``MaskRCNN``), so everything the trace shows is what
torchvision computes; only the sizes are small enough to train on a CPU.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from detector.models.registry import Architecture, register_architecture

SHAPE_CLASSES = ["__background__", "circle", "square", "triangle", "star", "hexagon"]
MASK_WIDTH = 32  # mask head channels: RoIAlign backward + the mask head dominate a CPU step
ANCHOR_SIZES = ((12, 17), (24, 34), (48, 68), (96, 136), (192, 272))  # per FPN level P2..P6


def _stage(in_channels: int, out_channels: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class SmallBody(nn.Module):
    """A 5-stage conv body; stages 2-5 have strides 4, 8, 16, 32 like ResNet's C2-C5."""

    def __init__(self, widths: tuple[int, ...] = (16, 32, 48, 64, 96)) -> None:
        super().__init__()
        self.stem = _stage(3, widths[0], 2)
        self.layer1 = _stage(widths[0], widths[1], 2)
        self.layer2 = _stage(widths[1], widths[2], 2)
        self.layer3 = _stage(widths[2], widths[3], 2)
        self.layer4 = _stage(widths[3], widths[4], 2)

    def forward(self, x):  # IntermediateLayerGetter calls the children in order instead
        for child in self.children():
            x = child(x)
        return x


def build_shapes_model(num_classes: int = len(SHAPE_CLASSES), **settings: Any) -> nn.Module:
    from torchvision.models.detection import MaskRCNN
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.models.detection.backbone_utils import BackboneWithFPN
    from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
    from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
    from torchvision.ops import MultiScaleRoIAlign

    widths = (16, 32, 48, 64, 96)
    fpn_channels = 64
    body = SmallBody(widths)
    backbone = BackboneWithFPN(
        body,
        return_layers={"layer1": "0", "layer2": "1", "layer3": "2", "layer4": "3"},
        in_channels_list=list(widths[1:]),
        out_channels=fpn_channels,
    )
    # shapes span ~12-190 px: two sizes an octave/2 apart per level, so every object
    # overlaps some anchor with IoU >= 0.7 (one size per level leaves ~0.5 in between)
    anchors = AnchorGenerator(sizes=ANCHOR_SIZES, aspect_ratios=((0.5, 1.0, 2.0),) * 5)
    box_pool = MultiScaleRoIAlign(["0", "1", "2", "3"], output_size=7, sampling_ratio=2)
    mask_pool = MultiScaleRoIAlign(["0", "1", "2", "3"], output_size=14, sampling_ratio=2)
    defaults: dict[str, Any] = dict(
        min_size=512,
        max_size=512,
        rpn_pre_nms_top_n_train=500,
        rpn_post_nms_top_n_train=300,
        rpn_pre_nms_top_n_test=500,
        rpn_post_nms_top_n_test=300,
        rpn_batch_size_per_image=256,
        box_batch_size_per_image=64,
    )
    defaults.update(settings)
    return MaskRCNN(
        backbone,
        num_classes=None,
        rpn_anchor_generator=anchors,
        box_roi_pool=box_pool,
        box_head=TwoMLPHead(fpn_channels * 7 * 7, 256),
        box_predictor=FastRCNNPredictor(256, num_classes),
        mask_roi_pool=mask_pool,
        mask_head=MaskRCNNHeads(fpn_channels, (MASK_WIDTH,) * 4, 1),
        mask_predictor=MaskRCNNPredictor(MASK_WIDTH, MASK_WIDTH, num_classes),
        **defaults,
    )


register_architecture(
    Architecture(
        name="shapes",
        build=build_shapes_model,
        kind="mask",
        default_num_classes=len(SHAPE_CLASSES),
        description="the bundled small Mask R-CNN for synthetic shapes (trains on a CPU)",
        categories=tuple(SHAPE_CLASSES),
    )
)
