"""Stage 6, Box head: a proposal's class probabilities and its (tx, ty, tw, th) refinement."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from app.inspect.items import LinesItem
from app.inspect.stage import Stage
from app.inspect.widgets import combo_row, set_items, set_range, spin_row, table
from app.overlays import BoxSet
from app.palette import class_color
from detector.geometry.boxes import BBOX_XFORM_CLIP, decode_boxes, xyxy_to_cxcywh


def refinement(
    proposal: np.ndarray, deltas: np.ndarray, weights: tuple[float, float, float, float]
) -> dict[str, float]:
    """The lecture's transform for one proposal (float32[4] xyxy) and the network's
    ``deltas`` (float32[4]): (px, py, pw, ph), t = deltas / weights and the refined
    (bx, by, bw, bh), decoded by ``detector.geometry.boxes.decode_boxes`` (torchvision's
    BoxCoder: tw, th clamped at ``BBOX_XFORM_CLIP`` before exp; ``clamped`` says so)."""
    px, py, pw, ph = (float(v) for v in xyxy_to_cxcywh(proposal[None])[0])
    decoded = decode_boxes(deltas[None], proposal[None], weights)
    bx, by, bw, bh = (float(v) for v in xyxy_to_cxcywh(decoded)[0])
    t = np.asarray(deltas, np.float32) / np.asarray(weights, np.float32)
    clamped = bool((t[2:] > BBOX_XFORM_CLIP).any())
    return dict(px=px, py=py, pw=pw, ph=ph, bx=bx, by=by, bw=bw, bh=bh, clamped=clamped)


class BoxHeadView(Stage):
    key = "boxhead"
    title = "6 Box head"
    help = (
        "For each proposal the box head outputs C+1 class scores (softmax) and, per class, "
        "a transform t = (tx, ty, tw, th): bx = px + pw tx, by = py + ph ty, "
        "bw = pw exp(tw), bh = ph exp(th)."
    )

    def build(self) -> None:
        self.proposal = spin_row(self.layout, "Proposal", 0, self.refresh)
        self.klass = combo_row(self.layout, "Class", [], self.refresh)
        self.plot = pg.PlotWidget()
        self.plot.setMinimumHeight(150)
        self.plot.setMaximumHeight(190)
        self.plot.setYRange(0, 1)
        self.plot.setLabel("left", "probability")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush="#4363d8")
        self.plot.addItem(self.bars)
        self.layout.addWidget(self.plot)

    def select(self, proposal: int, label: int | None = None) -> None:
        """Show ``proposal`` (and class ``label``, default its best non-background class)."""
        set_range(self.proposal, len(self.ctx.trace.roi.proposals_resized) - 1)
        self.proposal.setValue(proposal)
        if label is not None:
            self.klass.setCurrentIndex(label - 1)

    def chosen_class(self) -> int:
        return max(self.klass.currentIndex(), 0) + 1

    def show_example(self) -> None:
        chain = self.ctx.trace.provenance
        if len(chain.proposal):
            self.select(int(chain.proposal[0]), int(chain.label[0]))
            self.ctx.focus(
                self.ctx.to_image(self.ctx.trace.roi.proposals_resized[chain.proposal[:1]])
            )

    def draw(self) -> None:
        trace = self.ctx.trace
        roi = trace.roi
        set_range(self.proposal, len(roi.proposals_resized) - 1)
        set_items(self.klass, trace.categories[1:])
        if len(roi.proposals_resized) == 0:
            self.info.setText("No proposals.")
            return
        index = self.proposal.value()
        probs = roi.class_probs[index]
        self.bars.setOpts(x=np.arange(len(probs)), height=probs)
        ticks = [(i, name[:8]) for i, name in enumerate(trace.categories)]
        self.plot.getAxis("bottom").setTicks([ticks])
        label = self.chosen_class()
        weights = np.asarray(roi.box_coder_weights, np.float32)
        t = roi.box_regression[index, label] / weights
        proposal = roi.proposals_resized[index]
        refined = roi.boxes_per_class_resized[index, label]
        self._draw_boxes(proposal, refined, label)
        self.info.setText(self._numbers(index, label, t, proposal, refined, weights))

    def _draw_boxes(self, proposal: np.ndarray, refined: np.ndarray, label: int) -> None:
        pair = self.ctx.to_image(np.stack([proposal, refined]))
        self.ctx.boxes("boxhead.boxes", 30).set_boxes(
            BoxSet(pair, [QColor("#ffd400"), class_color(label)], ["proposal", "refined"], width=2)
        )
        centres = (pair[:, :2] + pair[:, 2:]) / 2
        self.ctx.item("boxhead.shift", LinesItem, z=31).set_lines(
            centres.reshape(1, 4), QColor("#ffffff"), width=2
        )

    def _numbers(
        self,
        index: int,
        label: int,
        t: np.ndarray,
        proposal: np.ndarray,
        refined: np.ndarray,
        weights: np.ndarray,
    ) -> str:
        roi = self.ctx.trace.roi
        v = refinement(proposal, roi.box_regression[index, label], tuple(weights))
        probs = roi.class_probs[index]
        rows = [
            ("proposal objectness", f"{self.ctx.trace.rpn.proposal_scores[index]:.3f}"),
            ("best class", f"{self.ctx.category(int(np.argmax(probs)))} {probs.max():.3f}"),
            (f"p({self.ctx.category(label)})", f"{probs[label]:.4f}"),
            ("network output / weights", " ".join(f"{w:g}" for w in weights)),
            ("tx, ty, tw, th", ", ".join(f"{x:+.4f}" for x in t)),
            ("px, py, pw, ph", f"{v['px']:.1f}, {v['py']:.1f}, {v['pw']:.1f}, {v['ph']:.1f}"),
        ]
        formulas = (
            f"bx = {v['px']:.1f} + {v['pw']:.1f} × {t[0]:+.4f} = <b>{v['bx']:.1f}</b><br>"
            f"by = {v['py']:.1f} + {v['ph']:.1f} × {t[1]:+.4f} = <b>{v['by']:.1f}</b><br>"
            f"bw = {v['pw']:.1f} × exp({t[2]:+.4f}) = <b>{v['bw']:.1f}</b><br>"
            f"bh = {v['ph']:.1f} × exp({t[3]:+.4f}) = <b>{v['bh']:.1f}</b>"
        )
        if v["clamped"]:
            formulas += f"<br>(tw, th above {BBOX_XFORM_CLIP:.3f} = log(1000/16) are clamped)"
        box = ", ".join(f"{x:.1f}" for x in refined)
        return (
            table(rows)
            + "<br>"
            + formulas
            + f"<br>refined box after clipping (resized px, xyxy): {box}"
        )
