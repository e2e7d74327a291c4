"""Stage 9, Training view: with ground truth, the sampled positive / negative anchors and
proposals of one training step and the five losses for this image (``detector.trace.training_view``)."""

from __future__ import annotations

import copy
from dataclasses import replace

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QPushButton

from app.inspect.session import MODEL_LOCK
from app.inspect.stage import Stage
from app.inspect.widgets import combo_row, table
from app.overlays import BoxSet

LOSS_NAMES = [
    ("loss_objectness", "objectness (RPN)"),
    ("loss_rpn_box_reg", "RPN box"),
    ("loss_classifier", "classifier"),
    ("loss_box_reg", "box regression"),
    ("loss_mask", "mask"),
]


def _training_job(model, image, boxes_image, labels, masks):
    """``training_view`` on a private copy of the model: it flips the module to training
    mode while it runs, and the window's Detect may use the shared module meanwhile."""
    from detector.trace.training_view import training_view

    with MODEL_LOCK:  # Inspect's own traces wait; the copy is made from settled weights
        private = replace(model, module=copy.deepcopy(model.module))
    return training_view(private, image, boxes_image, labels, masks, seed=0)


def _known_to(truth, num_classes: int):
    """(the ground truth of classes the model has, the names of the others, or "")."""
    known = (truth.labels > 0) & (truth.labels < num_classes)
    if known.all():
        return truth, ""
    lacking = sorted({name for name, ok in zip(truth.names, known, strict=True) if not ok})
    kept = type(truth)(
        truth.boxes_image[known],
        truth.labels[known],
        [n for n, ok in zip(truth.names, known, strict=True) if ok],
        [m for m, ok in zip(truth.masks, known, strict=True) if ok] if truth.masks else [],
    )
    return kept, ", ".join(lacking)


class TrainingStage(Stage):
    key = "training"
    title = "9 Training view"
    help = (
        "What one training step on this image would use: anchors labelled by the RPN "
        "rule and sampled (up to 256, half positive), proposals (plus the ground truth) "
        "labelled at IoU 0.5 and sampled, and the losses. Needs ground truth."
    )

    def build(self) -> None:
        self.compute_button = QPushButton("Compute training view")
        self.compute_button.clicked.connect(self.compute)
        self.layout.addWidget(self.compute_button)
        self.kind = combo_row(
            self.layout, "Show", ["sampled anchors", "sampled proposals"], self.refresh
        )
        self.view = None
        self._view_trace = None
        self.running = False
        self.skipped = ""  # the classes of this image's objects that the model lacks

    def compute(self) -> None:
        trace, truth = self.ctx.trace, self.ctx.truth()
        model = self.ctx.window.models.model
        if trace is None or model is None or len(truth) == 0 or self.running:
            return
        truth, skipped = _known_to(truth, model.num_classes)
        if len(truth) == 0:
            self.info.setText(f"No object of this image is of a class the model knows ({skipped}).")
            return
        image = self.ctx.window.current_image()
        try:
            masks = truth.binary_masks(*image.shape[:2])
        except ValueError as error:
            masks = None
            self.ctx.window.show_error("Ground-truth mask ignored", str(error))
        self.running = True
        self.skipped = f"Skipped objects of classes the model lacks: {skipped}." if skipped else ""
        self.info.setText("Computing the training view…")
        self.ctx.window.pool.start(
            _training_job,
            model,
            image,
            truth.boxes_image,
            truth.labels,
            masks,
            on_returned=lambda view, t=trace: self._done(t, view),
            on_errored=lambda exc: self._failed(str(exc)),
        )

    def _done(self, trace, view) -> None:
        self.running = False
        self.view, self._view_trace = view, trace
        self.refresh()

    def _failed(self, message: str) -> None:
        self.running = False
        self.info.setText(f"Training view failed: {message}")

    def draw(self) -> None:
        truth = self.ctx.truth()
        self.ctx.draw_truth()
        if len(truth) == 0:
            self.info.setText("This image has no ground truth: draw some boxes first.")
            return
        if self.view is None or self._view_trace is not self.ctx.trace:
            if not self.running:
                self.compute()
            return
        view = self.view
        if self.kind.currentIndex() == 0:
            boxes = self.ctx.trace.anchors.anchors_resized
            positive, negative = view.rpn.sampled_positive, view.rpn.sampled_negative
        else:
            boxes = view.roi.proposals_resized
            sampled = view.roi.sampled
            positive = sampled[view.roi.labels[sampled] > 0]
            negative = sampled[view.roi.labels[sampled] == 0]
        self.ctx.boxes("training.negative", 22).set_boxes(
            BoxSet(
                self.ctx.to_image(boxes[negative]),
                [QColor(255, 80, 80, 110)] * len(negative),
                width=1,
            )
        )
        self.ctx.boxes("training.positive", 24).set_boxes(
            BoxSet(self.ctx.to_image(boxes[positive]), [QColor("#33ff66")] * len(positive), width=1)
        )
        rows = [
            (
                "sampled anchors +/-",
                f"{len(view.rpn.sampled_positive)} / {len(view.rpn.sampled_negative)}",
            ),
            (
                "sampled proposals +/-",
                f"{int((view.roi.labels[view.roi.sampled] > 0).sum())}"
                f" / {int((view.roi.labels[view.roi.sampled] == 0).sum())}",
            ),
        ]
        rows += loss_rows(view.losses, self._model_has_masks())
        self.info.setText(table(rows) + (f"<p>{self.skipped}</p>" if self.skipped else ""))

    def _model_has_masks(self) -> bool:
        model = self.ctx.window.models.model
        return model is not None and getattr(model.module.roi_heads, "has_mask", lambda: False)()


def loss_rows(losses: dict[str, float], model_has_masks: bool) -> list[tuple[str, str]]:
    """The five losses as table rows (4 decimals), with why one is missing, and their sum."""
    missing = "n/a (no GT masks)" if model_has_masks else "n/a (model has no mask head)"
    rows = [
        (f"loss: {name}", missing if key not in losses else f"{losses[key]:.4f}")
        for key, name in LOSS_NAMES
    ]
    rows.append(("total (what training minimises)", f"{sum(losses.values()):.4f}"))
    return rows
