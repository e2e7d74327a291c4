"""Train or fine-tune a registry architecture: the loop that makes the bundled ``shapes`` model.

``train(config)`` runs AdamW with a linear warm-up and a cosine decay, writes a resumable
checkpoint (model, optimizer, scheduler, RNG, step) every ``checkpoint_every`` steps and on
Ctrl+C, and at the end a slim checkpoint (model, recipe, held-out metrics) evaluated with
COCOeval on a held-out split. Every write is atomic, every file loads with
``weights_only=True``. Batches are a pure function of ``(seed, step)``, so a resumed run sees
the same data as an uninterrupted one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from detector.errors import AnnotationError, DetScopeError, ModelError
from detector.models import DetModel, load_model, read_checkpoint, save_checkpoint
from detector.training.branches import MASKS_OFF_MESSAGE, mask_branch_off
from detector.training.data import CocoFolder, SyntheticStream, Target, split_indices
from detector.training.evaluate import evaluate_coco, format_metrics

ProgressFn = Callable[["TrainProgress"], None]


class TrainingInterrupted(DetScopeError):
    """Training stopped early (Ctrl+C or a stop request); a resumable checkpoint was saved."""


@dataclass
class TrainConfig:
    """A training recipe. ``data`` is a COCO folder, or None with ``synthetic_seed`` set."""

    architecture: str
    out: str
    data: str | None = None
    synthetic_seed: int | None = None
    synthetic_size: int = 256  # side of streamed synthetic training images
    weights: str | None = None  # start from this checkpoint / torchvision weights name
    steps: int = 1000
    batch_size: int = 4
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 200
    checkpoint_every: int = 250
    log_every: int = 20
    seed: int = 0
    device: str = "auto"
    threads: int | None = None
    split: str | None = None  # split of ``data`` when its layout has several
    val_dir: str | None = None  # a dataset folder to evaluate on at the end
    val_split: str | None = None  # its split
    val_fraction: float = 0.1  # else held out from ``data``
    val_count: int = 100  # synthetic held-out images (another seed) when streaming
    val_size: int = 512  # side of those images
    resume: bool = False
    settings: dict = field(default_factory=dict)  # builder keywords (min_size ...)


@dataclass
class TrainProgress:
    step: int
    steps: int
    losses: dict[str, float]
    lr: float
    seconds_per_step: float
    message: str = ""

    def line(self) -> str:
        if self.message:
            return self.message
        parts = " ".join(f"{k.removeprefix('loss_')} {v:.3f}" for k, v in self.losses.items())
        eta = (self.steps - self.step) * self.seconds_per_step / 60
        return (
            f"step {self.step}/{self.steps} loss {sum(self.losses.values()):.3f} "
            f"({parts}) lr {self.lr:.2e} {self.seconds_per_step:.2f} s/step ETA {eta:.1f} min"
        )


@dataclass
class TrainResult:
    checkpoint: Path
    steps_done: int
    seconds: float
    metrics: dict[str, float]
    first_loss: float
    last_loss: float


class _Data:
    """The training source, its held-out split and ``--val`` folder, all read up front."""

    def __init__(self, config: TrainConfig) -> None:
        from detector.training.synthetic import SynthConfig

        self.stream: SyntheticStream | None = None
        self.folder: CocoFolder | None = None
        self.val_indices: list[int] = []
        if config.synthetic_seed is not None:
            size = config.synthetic_size
            self.stream = SyntheticStream(
                config.synthetic_seed, SynthConfig(height=size, width=size)
            )
            self.category_names = list(self.stream.category_names)
            self.train_indices: list[int] = []
        elif config.data is not None:
            self.folder = CocoFolder(config.data, config.split)
            if not len(self.folder):
                raise AnnotationError("holds no images", file=self.folder.path)
            self.category_names = self.folder.category_names
            if config.val_dir is None:
                self.train_indices, self.val_indices = split_indices(
                    len(self.folder), config.val_fraction, config.seed
                )
            else:
                self.train_indices = list(range(len(self.folder)))
        else:
            raise DetScopeError("give a COCO folder, or --synthetic SEED to stream shapes")
        self.val_folder = (
            None if config.val_dir is None else CocoFolder(config.val_dir, config.val_split)
        )

    def batch(
        self, step: int, size: int, seed: int, masks: bool
    ) -> list[tuple[np.ndarray, Target]]:
        flat = [step * size + j for j in range(size)]
        if self.stream is not None:
            return [self.stream.item(k, masks) for k in flat]
        count = len(self.train_indices)
        items = []
        for k in flat:
            order = np.random.default_rng([seed, k // count]).permutation(count)
            items.append(self.folder.item(self.train_indices[order[k % count]], masks))
        return items


def _schedule(config: TrainConfig) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < config.warmup_steps:
            return 0.01 + 0.99 * step / max(1, config.warmup_steps)
        span = max(1, config.steps - config.warmup_steps)
        return 0.02 + 0.98 * 0.5 * (
            1 + math.cos(math.pi * min(1.0, (step - config.warmup_steps) / span))
        )

    return factor


def build_start_model(config: TrainConfig, categories: list[str]) -> DetModel:
    """A model for ``categories`` (background first): random, or started from ``weights``.

    Start weights with another class count keep everything but the class-specific predictors.
    """
    model = load_model(
        config.architecture,
        weights=None,
        categories=categories,
        device=config.device,
        seed=config.seed,
        **config.settings,
    )
    if model.kind == "keypoint":
        raise ModelError(f"{config.architecture}: training keypoint models is not supported")
    if config.weights is None:
        return model
    if Path(config.weights).is_file():
        payload = read_checkpoint(Path(config.weights))
        state = payload.get("model", payload)
    else:
        start = load_model(config.architecture, weights=config.weights, device="cpu")
        state = start.module.state_dict()
    own = model.module.state_dict()
    fitting = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if len(fitting) < len(own) // 2:
        raise ModelError(
            f"{config.weights}: does not fit {config.architecture} "
            f"({len(fitting)} of {len(own)} weights match)"
        )
    model.module.load_state_dict(fitting, strict=False)
    model.source = f"fine-tuned from {config.weights}"
    return model


def train(
    config: TrainConfig,
    progress: ProgressFn | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainResult:
    """Run the recipe; raises :class:`TrainingInterrupted` after saving on Ctrl+C / stop."""
    report = progress or (lambda p: None)
    if config.threads:
        torch.set_num_threads(config.threads)
    data = _Data(config)
    torch.manual_seed(config.seed)
    model = build_start_model(config, ["__background__", *data.category_names])
    module = model.module
    train_size = config.synthetic_size if data.stream is not None else None
    optimizer = torch.optim.AdamW(
        [p for p in module.parameters() if p.requires_grad],
        lr=config.lr,
        weight_decay=config.weight_decay,
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _schedule(config))
    step = _maybe_resume(config, model, optimizer, scheduler, report)
    losses_seen: list[float] = []
    started = time.perf_counter()
    window: dict[str, list[float]] = {}
    masks_off = model.kind == "mask" and data.folder is not None and not data.folder.has_masks
    if masks_off:
        message = MASKS_OFF_MESSAGE.format(arch=config.architecture)
        report(TrainProgress(step, config.steps, {}, config.lr, 0.0, message))
    try:
        with _training_size(module, train_size), mask_branch_off(module, masks_off):
            while step < config.steps:
                if should_stop is not None and should_stop():
                    raise KeyboardInterrupt
                losses = _train_step(model, optimizer, data, step, config)
                scheduler.step()
                step += 1
                losses_seen.append(sum(losses.values()))
                for k, v in losses.items():
                    window.setdefault(k, []).append(v)
                if step % config.log_every == 0 or step == config.steps:
                    rate = (time.perf_counter() - started) / max(1, len(losses_seen))
                    report(
                        TrainProgress(
                            step,
                            config.steps,
                            {k: float(np.mean(v)) for k, v in window.items()},
                            optimizer.param_groups[0]["lr"],
                            rate,
                        )
                    )
                    window = {}
                if step % config.checkpoint_every == 0 and step < config.steps:
                    _save_state(model, config, optimizer, scheduler, step)
    except KeyboardInterrupt:
        _save_state(model, config, optimizer, scheduler, step)
        raise TrainingInterrupted(
            f"stopped at step {step}; resumable checkpoint saved to "
            f"{config.out} (continue with --resume)"
        ) from None
    seconds = time.perf_counter() - started
    metrics = evaluate_held_out(model, data, config, report)
    path = save_checkpoint(
        model, config.out, training=_recipe(config, step, seconds, True), metrics=metrics
    )
    first = float(np.mean(losses_seen[:5])) if losses_seen else float("nan")
    last = float(np.mean(losses_seen[-5:])) if losses_seen else float("nan")
    return TrainResult(path, step, seconds, metrics, first, last)


def _train_step(
    model: DetModel, optimizer: torch.optim.Optimizer, data: _Data, step: int, config: TrainConfig
) -> dict[str, float]:
    from detector.inference.run import image_to_tensor

    masks = model.kind == "mask" and model.module.roi_heads.has_mask()
    batch = data.batch(step, config.batch_size, config.seed, masks)
    images = [image_to_tensor(image, model.device) for image, _ in batch]
    targets = [{k: v.to(model.device) for k, v in target.items()} for _, target in batch]
    model.module.train()
    loss_dict = model.module(images, targets)
    total = sum(loss_dict.values())
    if not torch.isfinite(total):
        raise DetScopeError(f"step {step}: the loss is {float(total)}; lower --lr")
    optimizer.zero_grad(set_to_none=True)
    total.backward()
    torch.nn.utils.clip_grad_norm_(model.module.parameters(), 10.0)
    optimizer.step()
    return {k: float(v.detach()) for k, v in loss_dict.items()}


class _training_size:
    """Train streamed images at their own size (scale 1), then restore the inference size."""

    def __init__(self, module: torch.nn.Module, size: int | None) -> None:
        self.transform = module.transform
        self.size = size
        self.saved = (self.transform.min_size, self.transform.max_size)

    def __enter__(self) -> None:
        if self.size is not None:
            self.transform.min_size, self.transform.max_size = (self.size,), self.size

    def __exit__(self, *exc: object) -> None:
        self.transform.min_size, self.transform.max_size = self.saved
        self.transform.eval()


def _recipe(config: TrainConfig, step: int, seconds: float, finished: bool) -> dict:
    return {
        "config": asdict(config),
        "step": step,
        "seconds": round(seconds, 1),
        "finished": finished,
        "torch": str(torch.__version__),
        "threads": torch.get_num_threads(),
    }


def _save_state(
    model: DetModel,
    config: TrainConfig,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    step: int,
) -> None:
    save_checkpoint(
        model,
        config.out,
        training=_recipe(config, step, 0.0, False),
        optimizer=optimizer.state_dict(),
        scheduler=scheduler.state_dict(),
        rng=torch.get_rng_state(),
    )


def _maybe_resume(
    config: TrainConfig,
    model: DetModel,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    report: ProgressFn,
) -> int:
    if not config.resume:
        return 0
    payload = read_checkpoint(Path(config.out))
    if payload.get("architecture") != config.architecture:
        raise ModelError(
            f"{config.out}: a {payload.get('architecture')} checkpoint, not {config.architecture}"
        )
    if "optimizer" not in payload:
        raise ModelError(
            f"{config.out}: a finished (slim) checkpoint, nothing to resume; "
            f"use --weights {config.out} to fine-tune from it"
        )
    model.module.load_state_dict(payload["model"])
    optimizer.load_state_dict(payload["optimizer"])
    scheduler.load_state_dict(payload["scheduler"])
    torch.set_rng_state(payload["rng"])
    step = int(payload["training"]["step"])
    report(TrainProgress(step, config.steps, {}, 0.0, 0.0, f"resumed at step {step}"))
    return step


def evaluate_held_out(
    model: DetModel, data: _Data, config: TrainConfig, report: ProgressFn
) -> dict[str, float]:
    """COCOeval on ``val_dir``, the held-out split, or fresh synthetic images (another seed)."""
    ground_truth, load = held_out_set(data, config)
    if not ground_truth["images"]:
        return {}
    metrics = evaluate_coco(model, ground_truth, load)
    report(
        TrainProgress(
            config.steps,
            config.steps,
            {},
            0.0,
            0.0,
            f"held-out ({len(ground_truth['images'])} images): {format_metrics(metrics)}",
        )
    )
    return metrics


def held_out_set(data: _Data, config: TrainConfig) -> tuple[dict, Callable[[dict], np.ndarray]]:
    from detector.io.images import read_image

    if data.val_folder is not None:
        return data.val_folder.coco_ground_truth(), lambda info: read_image(info["path"])
    if data.stream is not None:
        from detector.training.synthetic import SynthConfig, make_sample, to_coco

        val_config = SynthConfig(height=config.val_size, width=config.val_size)
        samples = [
            make_sample(data.stream.seed + 1_000_003, i, val_config)
            for i in range(config.val_count)
        ]
        names = [f"{i}.png" for i in range(len(samples))]
        by_name = {n: s.image for n, s in zip(names, samples, strict=True)}
        return to_coco(samples, names), lambda info: by_name[info["file_name"]]
    return data.folder.coco_ground_truth(data.val_indices), lambda info: read_image(info["path"])
