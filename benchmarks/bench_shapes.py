"""CPU inference speed of the bundled ``shapes`` model on 512x512 images, side by side.

    python benchmarks/bench_shapes.py [--runs 40] [--threads 2] [--reference-runs 3]

Measures, in one run and one process: the median (and p90) wall time of
``detector.detect(model, [image])`` over many runs on generated 512x512 shapes images; the
same split by stage (transform, backbone + FPN, RPN, box + mask heads, paste to the image);
and, for scale, torchvision's ``fasterrcnn_mobilenet_v3_large_320_fpn`` and
``maskrcnn_resnet50_fpn`` (random init, 6 classes) on the same images. Prints ratios to the
100 ms budget and to the reference models.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detector.inference.run import detect, image_to_tensor  # noqa: E402
from detector.models import load_model  # noqa: E402
from detector.training.synthetic import make_sample  # noqa: E402

BUDGET_MS = 100.0


def time_detect(model, images, runs: int) -> list[float]:
    detect(model, [images[0]])  # warm-up (allocator, lazy init)
    detect(model, [images[1 % len(images)]])
    times = []
    for run in range(runs):
        start = time.perf_counter()
        detect(model, [images[run % len(images)]])
        times.append((time.perf_counter() - start) * 1000)
    return times


@torch.inference_mode()
def time_stages(model, images, runs: int) -> dict[str, float]:
    module = model.module
    stages: dict[str, list[float]] = {}

    def clock(name, fn):
        start = time.perf_counter()
        value = fn()
        stages.setdefault(name, []).append((time.perf_counter() - start) * 1000)
        return value

    for run in range(runs):
        tensor = image_to_tensor(images[run % len(images)])
        batch, _ = clock("transform", lambda t=tensor: module.transform([t]))
        features = clock("backbone + FPN", lambda b=batch: module.backbone(b.tensors))
        proposals, _ = clock("RPN", lambda b=batch, f=features: module.rpn(b, f))
        found, _ = clock(
            "box + mask heads",
            lambda b=batch, f=features, p=proposals: module.roi_heads(f, p, b.image_sizes),
        )
        clock(
            "paste to image",
            lambda b=batch, d=found, t=tensor: module.transform.postprocess(
                d, b.image_sizes, [tuple(t.shape[-2:])]
            ),
        )
    return {name: statistics.median(values) for name, values in stages.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reference-runs", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    images = [make_sample(424242, i).image for i in range(10)]
    model = load_model("shapes", device="cpu")
    print(
        f"model: {model.describe()}; {sum(p.numel() for p in model.module.parameters()):,} "
        f"parameters; torch {torch.__version__}, {args.threads} threads"
    )
    if not model.trained:
        print("WARNING: no bundled checkpoint; random weights make more detections (slower)")
    times = time_detect(model, images, args.runs)
    median = statistics.median(times)
    p90 = sorted(times)[int(0.9 * (len(times) - 1))]
    print(
        f"shapes 512x512: median {median:.1f} ms, p90 {p90:.1f} ms over {len(times)} runs; "
        f"{median / BUDGET_MS:.2f} x the {BUDGET_MS:.0f} ms budget"
    )
    stages = time_stages(model, images, args.runs)
    total = sum(stages.values())
    for name, ms in stages.items():
        print(f"  {name:<18} {ms:7.1f} ms  {ms / total:6.1%}")
    for name in ("fasterrcnn_mobilenet_v3_large_320_fpn", "maskrcnn_resnet50_fpn"):
        reference = load_model(name, weights=None, num_classes=6, device="cpu")
        ref_median = statistics.median(time_detect(reference, images, args.reference_runs))
        print(
            f"{name} (random init): median {ref_median:.1f} ms; {ref_median / median:.1f} x shapes"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
