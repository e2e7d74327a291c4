"""Trace overhead, rerun speed and Trace memory, measured side by side in one run.

    .venv/bin/python benchmarks/bench_trace.py [--arch fasterrcnn_resnet50_fpn] [--repeats 3]

Prints, for the model's default score threshold and a lowered one (more post-processing):
the time of ``model.module([tensor])`` and of ``trace_image`` on the same 800 x 1067 image
(interleaved, best of ``repeats``) and their ratio (target <= 1.10); the time of
``trace.rerun`` with a new score threshold and a new NMS threshold against the forward
(target <= 20 ms, >= 100x faster); and the memory one Trace holds with and without features
(target < 400 MB).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from detector.inference.run import image_to_tensor  # noqa: E402
from detector.models import load_model  # noqa: E402
from detector.trace import trace_image  # noqa: E402


def best_time(function, repeats: int) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        best = min(best, time.perf_counter() - start)
    return best, value


def bench(arch: str, image: np.ndarray, repeats: int, **settings) -> None:
    model = load_model(arch, weights=None, device="cpu", **settings)
    tensor = image_to_tensor(image, model.device)

    def forward():
        with torch.inference_mode():
            return model.module([tensor])

    forward()  # warm-up (allocator, oneDNN kernels)
    forward_times, trace_times = [], []
    trace = None
    for _ in range(repeats):  # interleaved, so machine load hits both alike
        forward_times.append(best_time(forward, 1)[0])
        elapsed, trace = best_time(lambda: trace_image(model, image), 1)
        trace_times.append(elapsed)
    t_forward, t_trace = min(forward_times), min(trace_times)
    label = ", ".join(f"{k}={v}" for k, v in settings.items()) or "model defaults"
    print(
        f"\n{arch} on {image.shape[1]}x{image.shape[0]} ({label}); "
        f"{len(trace.detections)} detections, {len(trace.rpn.proposals_resized)} proposals"
    )
    print(f"  model.module([tensor])  {t_forward * 1000:9.1f} ms")
    print(
        f"  trace_image             {t_trace * 1000:9.1f} ms   ratio {t_trace / t_forward:.3f}"
        f"  (target <= 1.10)"
    )
    score = trace.settings.score_thresh
    for name, kwargs in [
        ("rerun(score_thresh)", dict(score_thresh=score * 2 + 0.01)),
        ("rerun(nms_thresh=0.3)", dict(nms_thresh=0.3)),
        ("rerun(rpn_nms_thresh=0.6)", dict(rpn_nms_thresh=0.6)),
    ]:
        elapsed, _ = best_time(lambda kw=kwargs: trace.rerun(**kw), max(repeats, 10))
        print(
            f"  {name:<24}{elapsed * 1000:9.1f} ms   {t_forward / elapsed:7.0f}x faster "
            "than a forward"
        )
    elapsed, _ = best_time(lambda: (trace.rpn.__dict__.pop("nms", None), trace.rpn.nms), 1)
    print(f"  RPN NMS step record (lazy, first access)  {elapsed * 1000:.1f} ms")
    elapsed, _ = best_time(lambda: (trace.roi.__dict__.pop("nms", None), trace.roi.nms), 1)
    print(f"  box NMS step record (lazy, first access)  {elapsed * 1000:.1f} ms")
    print(f"  Trace memory with features   {trace.nbytes() / 2**20:8.1f} MiB  (target < 400 MB)")
    trace.drop_features()
    print(f"  after trace.drop_features()  {trace.nbytes() / 2**20:8.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="fasterrcnn_resnet50_fpn")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    image = np.random.default_rng(0).integers(0, 256, (800, 1067, 3), dtype=np.uint8)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    bench(args.arch, image, args.repeats)
    bench(args.arch, image, args.repeats, box_score_thresh=0.001)


if __name__ == "__main__":
    main()
