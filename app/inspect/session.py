"""The traces behind the Inspect dock: traced in workers, cached, rerun on slider moves.

``request(key, model, image)`` shows the trace of ``image`` (from the cache, else traced in
a worker). ``set_settings(...)`` changes the post-processing thresholds: score / NMS changes
are previewed at once in numpy (``preview.postprocess_preview``, no model) and then made
exact (masks included) by ``Trace.rerun`` in a worker; RPN changes go to the worker only.
Every job runs under one worker key (``TRACE``): a newer request supersedes the older
job, whose result never arrives. At most one rerun is in flight: a slider moved meanwhile
queues one more (the latest settings), so a slow drag never piles up workers that fight
the GUI thread for the GIL and the two CPU cores. Jobs hold the window's model lock
(``app.model_controller.MODEL_LOCK``) while they use the module.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from app.model_controller import MODEL_LOCK
from app.workers import Progress, describe_error

if TYPE_CHECKING:  # the preview needs torch: imported on first use, not at startup
    from detector.trace.preview import BoxPostprocess

MAX_CACHED = 4
MAX_PREVIEWS = 32  # slider positions remembered per trace (dragging back is instant)
RERUN_DELAY_MS = 150
BOX_SETTINGS = ("score_thresh", "nms_thresh")
RPN_SETTINGS = ("rpn_nms_thresh", "rpn_post_nms_top_n")
TRACE = "inspect.trace"
__all__ = ["MODEL_LOCK", "TraceSession"]  # MODEL_LOCK: the window's one model lock


def _trace_job(model, image, settings: dict):
    from detector.trace import trace_image

    yield Progress(0, 3, "backbone, RPN and heads…")
    with MODEL_LOCK:
        base = trace_image(model, image)
    yield Progress(1, 3, "NMS records…")
    _ = base.rpn.nms, base.roi.nms  # computed here, not on the GUI thread
    yield Progress(2, 3, "thresholds…")
    with MODEL_LOCK:
        return base, _rerun(base, settings)


def _rerun_job(base, settings: dict):
    with MODEL_LOCK:
        return base, _rerun(base, settings)


def _rerun(base, settings: dict):
    changes = {k: v for k, v in settings.items() if getattr(base.settings, k) != v}
    trace = base.rerun(**changes) if changes else base
    _ = trace.rpn.nms, trace.roi.nms
    return trace


class TraceSession(QObject):
    """Signals: trace_changed(trace or None), post_changed() (the detections drawn from the
    current box post-processing moved), busy_changed(bool, message), failed(message)."""

    trace_changed = Signal(object)
    post_changed = Signal()
    busy_changed = Signal(bool, str)
    failed = Signal(str)

    def __init__(self, pool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = pool
        self._cache: OrderedDict[tuple, object] = OrderedDict()
        self._running = 0
        self.key: tuple | None = None
        self.trace = None
        self.post: BoxPostprocess | None = None
        self.settings: dict[str, float] = {}
        self._previews: OrderedDict[tuple, BoxPostprocess] = OrderedDict()
        self._previews_of: object = None  # the RoiStage those previews were computed from
        self._rerun_running = False
        self._rerun_pending = False
        self._rerun_timer = QTimer(self, singleShot=True, interval=RERUN_DELAY_MS)
        self._rerun_timer.timeout.connect(self._start_rerun)

    @property
    def busy(self) -> bool:
        return self._running > 0 or self._rerun_timer.isActive()

    @property
    def exact(self) -> bool:
        """The shown trace was computed at the requested settings (not only previewed)."""
        return self.trace is not None and all(
            getattr(self.trace.settings, k) == v for k, v in self.settings.items()
        )

    def request(self, image_key: object, model, image) -> None:
        key = (image_key, id(model))
        if key == self.key and (self.trace is not None or self._running):
            return
        self.key = key
        base = self._cache.get(key)
        if base is not None:
            self._cache.move_to_end(key)
            self._start(_rerun_job, base, dict(self.settings), "applying thresholds…")
        else:
            self._start(_trace_job, model, image, dict(self.settings), "tracing…")

    def clear(self) -> None:
        self._pool.cancel(TRACE)
        self.key, self.trace, self.post = None, None, None
        self.trace_changed.emit(None)

    def set_settings(self, **changes: float) -> None:
        changed = {k: v for k, v in changes.items() if self.settings.get(k) != v}
        if not changed:
            return
        self.settings.update(changed)
        if self.trace is None:
            return
        if set(changed) <= set(BOX_SETTINGS) and self._rpn_settings_match():
            self.preview()
        self._rerun_timer.start()

    def preview(self) -> None:
        """Redo the box post-processing of the shown trace at the requested thresholds."""
        settings = self.trace.settings
        if self._previews_of is not self.trace.roi:
            self._previews_of, self._previews = self.trace.roi, OrderedDict()
        key = (
            self.settings.get("score_thresh", settings.score_thresh),
            self.settings.get("nms_thresh", settings.nms_thresh),
        )
        post = self._previews.get(key)
        if post is None:
            from detector.trace.preview import postprocess_preview

            post = postprocess_preview(self.trace.roi, *key, settings.detections_per_img)
            self._previews[key] = post
            while len(self._previews) > MAX_PREVIEWS:
                self._previews.popitem(last=False)
        self._previews.move_to_end(key)
        self.post = post
        self.post_changed.emit()

    def _rpn_settings_match(self) -> bool:
        return all(
            getattr(self.trace.settings, k) == self.settings.get(k, getattr(self.trace.settings, k))
            for k in RPN_SETTINGS
        )

    def _start_rerun(self) -> None:
        base = self._cache.get(self.key)
        if base is None:
            return
        if self._rerun_running:
            self._rerun_pending = True
            return
        self._rerun_running = True
        self._start(_rerun_job, base, dict(self.settings), "rerunning post-processing…", rerun=True)

    def _start(self, job, *args, rerun: bool = False) -> None:
        message = args[-1]
        self._running += 1
        self.busy_changed.emit(True, message)
        wanted = dict(self.settings)
        self._pool.start(
            job,
            *args[:-1],
            key=TRACE,
            on_returned=lambda result, k=self.key: self._finished(k, wanted, result, rerun),
            on_errored=lambda exc: self.failed.emit(describe_error(exc)),
            on_progress=lambda done, total, text: self.busy_changed.emit(True, text),
            on_finished=lambda: self._job_done(rerun),
        )

    def _finished(self, key: tuple, wanted: dict, result, rerun: bool) -> None:
        base, trace = result
        self._cache[key] = base
        self._cache.move_to_end(key)
        while len(self._cache) > MAX_CACHED:
            self._cache.popitem(last=False)
        if key != self.key or (rerun and wanted != self.settings):
            return  # another image, or a slider moved since: the queued rerun shows it
        self.trace = trace
        from detector.trace.preview import from_trace

        self.post = from_trace(trace)
        self.trace_changed.emit(trace)

    def _job_done(self, rerun: bool) -> None:
        """Every job ends here (also a superseded one): busy, and the queued rerun."""
        self._running -= 1
        self.busy_changed.emit(self._running > 0, "")
        if rerun:
            self._rerun_running = False
            if self._rerun_pending:
                self._rerun_pending = False
                self._start_rerun()
