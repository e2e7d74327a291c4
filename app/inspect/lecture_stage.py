"""What the lecture's stages share: a measurement job per (trace, settings), run in a worker.

A lecture stage measures things on the current image (Selective Search, timings) that take
seconds, so ``draw`` never computes: it asks for ``job(model, trace, image, truth, **params)``
in the window's worker pool, shows "measuring…" meanwhile, and draws the result when it
arrives (results for an older trace or other settings are kept in a small cache, never drawn
on the wrong image). Jobs hold ``MODEL_LOCK`` while they use the model.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict

from PySide6.QtGui import QColor

from app.inspect.stage import Stage
from app.workers import describe_error

POSITIVE_COLOR = QColor("#33ff66")
NEUTRAL_COLOR = QColor("#ffd400")
NEGATIVE_COLOR = QColor(255, 80, 80, 150)
MAX_RESULTS = 6


class LectureView(Stage):
    """Subclasses define ``job`` (a plain function run in a worker), ``params()`` (a dict of
    hashable values from the panel) and ``render(result)``."""

    job = None

    def __init__(self, context) -> None:
        self._results: OrderedDict[tuple, object] = OrderedDict()
        self._running: set[tuple] = set()
        self.failure: str | None = None
        super().__init__(context)

    def params(self) -> dict:
        return {}

    def _key(self) -> tuple:
        return (id(self.ctx.trace), tuple(sorted(self.params().items())))

    def result(self):
        """This trace's result at these settings, or None (an id reused by a newer trace
        after the old one was freed never matches: the cache checks identity)."""
        entry = self._results.get(self._key())
        if entry is None or entry[0]() is not self.ctx.trace:
            return None
        return entry[1]

    def draw(self) -> None:
        key = self._key()
        result = self.result()
        if result is None:
            self.ctx.draw_truth()
            if self.failure is not None:
                self.info.setText(f"<b>Could not measure:</b> {self.failure}")
            else:
                self.info.setText("<i>Measuring on this image (in the background)…</i>")
                self._start(key)
            return
        self.render(result)

    def _start(self, key: tuple) -> None:
        state = self.ctx.state
        model, image = state.models.model, state.current_image()
        if key in self._running or model is None or image is None:
            return
        truth = self.ctx.truth()
        self._running.add(key)
        trace_ref = weakref.ref(self.ctx.trace)
        state.pool.start(
            _locked,
            type(self).job,
            model,
            self.ctx.trace,
            image,
            truth.boxes_image.copy(),
            self.params(),
            on_returned=lambda result, k=key, r=trace_ref: self._done(k, r, result),
            on_errored=lambda error, k=key: self._failed(k, describe_error(error)),
        )

    def _done(self, key: tuple, trace_ref, result) -> None:
        self._running.discard(key)
        self._results[key] = (trace_ref, result)
        while len(self._results) > MAX_RESULTS:
            self._results.popitem(last=False)
        if key == self._key() and self.ctx.trace is not None and self.is_current():
            self.refresh()

    def _failed(self, key: tuple, message: str) -> None:
        self._running.discard(key)
        self.failure = message
        if key == self._key() and self.ctx.trace is not None and self.is_current():
            self.refresh()
        self.failure = None

    def is_current(self) -> bool:
        """The dock shows this stage (only the current stage may draw on the canvas)."""
        dock = self.ctx.window.docks.get("inspect_dock")
        return dock is not None and dock.current_stage() is self

    def render(self, result) -> None:
        """Draw ``result`` (this trace's, these settings') and fill ``self.info``."""

    def show_example(self) -> None:
        """The screenshot shows the measured numbers: nothing to hover."""


def _locked(job, model, trace, image, truth_boxes, params: dict):
    from app.inspect.session import MODEL_LOCK

    with MODEL_LOCK:
        return job(model, trace, image, truth_boxes, **params)


def seconds_text(seconds: float) -> str:
    """A duration a student can picture: ms, s, minutes, hours, days or years."""
    if seconds != seconds:  # nan
        return "n/a"
    for limit, unit, size in (
        (1.0, "ms", 1e-3),
        (120.0, "s", 1.0),
        (7200.0, "min", 60.0),
        (172800.0, "h", 3600.0),
        (3 * 365.25 * 86400, "days", 86400.0),
    ):
        if seconds < limit:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds / (365.25 * 86400):,.0f} years"
