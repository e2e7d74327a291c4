"""Help > Getting started: a guided tour of the lecture, each step opened on this image.

The tour walks the lecture in order (IoU, sliding windows, proposals, R-CNN, Fast R-CNN,
anchors, RPN, RoI pooling, box head, NMS, Mask R-CNN, the PR curve). Each step names the
concept in a sentence, opens the Inspect stage (or the Evaluate dock's PR walk) that shows it
on the current image, and says which numbers to look at. Non-modal: the person keeps using
the window. Shown once on a person's first start (not for ``--screenshot``). The Inspect dock's
extension module installs it (it is not a dock of its own).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

SEEN_KEY = "tour_seen"


@dataclass(frozen=True)
class TourStep:
    """title; text: the concept and where to look; stage: an Inspect stage key or "pr_walk"."""

    title: str
    text: str
    stage: str


STEPS = [
    TourStep(
        "IoU of two boxes",
        "Detectors compare boxes by Intersection over Union. Look at "
        "the table: intersection / union with the areas filled in, and the lecture's "
        "verdict (> 0.5 decent, > 0.7 pretty good, > 0.9 almost perfect).",
        "iou",
    ),
    TourStep(
        "Sliding windows",
        "Classify every crop? Read 'every box of every size': "
        "H(H+1)/2 · W(W+1)/2 for this image, and the measured time per 1,000 windows "
        "extrapolated to all of them.",
        "sliding_windows",
    ),
    TourStep(
        "Region proposals",
        "Selective Search finds ~2000 blob-like boxes without "
        "learning; the RPN learns them. Compare time, recall@N and the proposals each "
        "needs for the same recall.",
        "selective_search",
    ),
    TourStep(
        "R-CNN",
        "Each proposal is labelled positive / neutral / negative (IoU 0.5 / "
        "0.3), warped to 224 x 224 (the crop grid) and run through the CNN. The box "
        "target shows t_x, t_y, t_w, t_h with the numbers filled in.",
        "rcnn",
    ),
    TourStep(
        "Fast R-CNN",
        "Same panel, lower half: the backbone runs once and RoIPool / "
        "RoIAlign crop every proposal from the shared features. Read the measured "
        "'R-CNN / Fast R-CNN' ratio.",
        "rcnn",
    ),
    TourStep(
        "Anchors",
        "Faster R-CNN: K anchor boxes at every feature-map cell, labelled "
        "for the RPN at IoU 0.7 / 0.3.",
        "anchors",
    ),
    TourStep(
        "Region Proposal Network",
        "The RPN scores every anchor (object or not) and "
        "regresses it to a proposal; NMS keeps the top few hundred.",
        "rpn",
    ),
    TourStep(
        "RoI pooling",
        "Each proposal is cropped from one FPN level: RoIPool's snapped "
        "bins (red) next to RoIAlign's exact bins and bilinear samples (green).",
        "roi",
    ),
    TourStep(
        "Box head",
        "Per proposal: class scores and a per-class transform (t_x, t_y, "
        "t_w, t_h) that refines the box.",
        "boxhead",
    ),
    TourStep(
        "Non-max suppression",
        "Step through greedy NMS: keep the best box, remove "
        "boxes of its class with IoU above the threshold, repeat.",
        "nms",
    ),
    TourStep(
        "Mask R-CNN",
        "The final detections; a Mask R-CNN also predicts a 28 x 28 "
        "mask per box and pastes it into the image.",
        "final",
    ),
    TourStep(
        "The PR curve, step by step",
        "Evaluate dock, PR walk tab: detections from "
        "highest to lowest score, each TP or FP, precision and recall as fractions; "
        "press Next, then Last for AP as the area.",
        "pr_walk",
    ),
]


def open_stage(window, stage: str) -> None:
    """Show ``stage`` on the current image: an Inspect stage, or the PR walk tab."""
    if stage == "pr_walk":
        dock = window.docks["EvaluateDock"]
        window.workspaces.switch("evaluate")
        dock.tabs.setCurrentWidget(dock.walk)
        if dock.live.result() is None and not dock.runner.running:
            dock.run()
        return
    dock = window.docks["inspect_dock"]
    window.workspaces.switch("inspect")
    dock.select_stage(stage)
    dock.trace_current()


class GettingStarted(QDialog):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.setWindowTitle("Getting started: the lecture on your image")
        self.setModal(False)
        self.window_ = window
        self.index = 0
        layout = QVBoxLayout(self)
        self.counter = QLabel("")
        self.title = QLabel("", textFormat=Qt.TextFormat.RichText)
        self.text = QLabel("", wordWrap=True)
        self.text.setMinimumWidth(380)
        layout.addWidget(self.counter)
        layout.addWidget(self.title)
        layout.addWidget(self.text, 1)
        buttons = QHBoxLayout()
        self.back_button = QPushButton("◀ Back")
        self.next_button = QPushButton("Next ▶")
        self.close_button = QPushButton("Close")
        for button in (self.back_button, self.next_button, self.close_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self.back_button.clicked.connect(lambda: self.go(self.index - 1))
        self.next_button.clicked.connect(lambda: self.go(self.index + 1))
        self.close_button.clicked.connect(self.close)

    def start(self) -> None:
        self.show()
        self.go(0)

    def go(self, index: int) -> None:
        self.index = min(max(index, 0), len(STEPS) - 1)
        step = STEPS[self.index]
        self.counter.setText(f"Step {self.index + 1} of {len(STEPS)}")
        self.title.setText(f"<h3>{step.title}</h3>")
        self.text.setText(step.text)
        self.back_button.setEnabled(self.index > 0)
        self.next_button.setEnabled(self.index < len(STEPS) - 1)
        if self.window_.state.current_image() is None:
            self.text.setText(step.text + "\n\nOpen a folder of images first (File > Open).")
            return
        open_stage(self.window_, step.stage)


# ----- installed by the Inspect dock's extension module (app/inspect/dock.py) -------------------
def install(window) -> None:
    """Help > Getting started (the window's Help menu exists before the docks install)."""
    window.tour = GettingStarted(window)
    window.help_menu.addAction("&Getting Started (the lecture tour)", window.tour.start)


def first_run(window, args) -> None:
    """On a person's first start (never for a screenshot), open the tour once."""
    from app.settings import settings

    if getattr(args, "screenshot", None):
        return
    store = settings()
    if not store.value(SEEN_KEY, False, type=bool):
        store.setValue(SEEN_KEY, True)
        QTimer.singleShot(500, window.tour.start)
