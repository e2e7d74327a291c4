"""Long work off the GUI thread: one worker API for every job of the window.

It matches superqt's ``thread_worker`` (napari's base): a job is a plain function or a
generator; the worker runs it in a thread pool and reports through signals named as in
superqt (``started``, ``yielded(value)``, ``returned(value)``, ``errored(exception)``,
``aborted``, ``finished``); ``quit()`` asks a generator to stop at its next ``yield``. Two
additions: a yielded :class:`Progress` (or a ``(done, total, message)`` tuple) goes to
``on_progress`` instead of ``on_yielded``, and a ``key``: starting a job under a key
supersedes the job running under it (it is asked to quit and its callbacks are dropped),
so "the newest request wins" needs no counters in the callers.

Why not superqt's workers themselves: superqt 0.9's ``GeneratorWorker`` swallows a
``RuntimeError`` raised by the job (the error torch raises) without ``errored`` or
``finished``, which would leave a busy indicator on forever, and its ``run`` replaces
``warnings.showwarning`` process-wide from the worker thread. The pool here owns its
``QThreadPool`` so ``shutdown`` waits for every thread and leaves none running.
"""

from __future__ import annotations

import inspect
import threading
import traceback
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

MAX_THREADS = 16  # jobs rarely wait on each other: decoding never queues behind a model run


@dataclass(frozen=True)
class Progress:
    """What a generator job yields to report progress: ``done`` of ``total`` steps."""

    done: int
    total: int
    message: str = ""


class _Aborted(Exception):
    """The job was asked to quit (internal)."""


class WorkerSignals(QObject):
    """Each signal carries the worker first, so one receiver serves every worker."""

    started = Signal(object)
    yielded = Signal(object, object)
    returned = Signal(object, object)
    errored = Signal(object, object)  # the exception the job raised
    aborted = Signal(object)
    finished = Signal(object)  # last, whatever happened


class Worker(QRunnable):
    """Runs ``job(*args, **kwargs)`` once in a pool thread (see the module docstring)."""

    def __init__(self, job: Callable[..., Any], args: tuple, kwargs: dict, key: Hashable) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the pool keeps it until ``finished`` reached the GUI
        self.signals = WorkerSignals()
        self.key = key
        self._job, self._args, self._kwargs = job, args, kwargs
        self._abort = threading.Event()

    def quit(self) -> None:
        """Ask the job to stop at its next ``yield`` (a plain function runs to its end,
        but its result is not reported)."""
        self._abort.set()

    @property
    def abort_requested(self) -> bool:
        return self._abort.is_set()

    def run(self) -> None:
        signals = self.signals
        signals.started.emit(self)
        try:
            result = self._job(*self._args, **self._kwargs)
            if inspect.isgenerator(result):
                result = self._drain(result)
            if self.abort_requested:
                raise _Aborted
            signals.returned.emit(self, result)
        except _Aborted:
            signals.aborted.emit(self)
        except Exception as exc:  # noqa: BLE001 - every error reaches the GUI as an exception
            signals.errored.emit(self, exc)
        finally:
            signals.finished.emit(self)

    def _drain(self, generator) -> Any:
        try:
            while True:
                if self.abort_requested:
                    raise _Aborted
                try:
                    value = next(generator)
                except StopIteration as stop:
                    return stop.value
                self.signals.yielded.emit(self, value)
        finally:
            generator.close()


def locked_steps(generator: Iterator, lock) -> Iterator:
    """Yield what ``generator`` yields, holding ``lock`` only while it computes a step
    (a long job shares the model with other jobs between its images)."""
    while True:
        with lock:
            try:
                value = next(generator)
            except StopIteration as stop:
                return stop.value
        yield value


def describe_error(exc: BaseException) -> str:
    """A message for the user: the project's errors as they are, others with type and place."""
    from detector.errors import DetScopeError

    if isinstance(exc, DetScopeError):
        return str(exc)
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" (at {last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"


@dataclass
class _Job:
    """The GUI-thread side of one worker: its callbacks, and whether they are dropped."""

    callbacks: dict[str, Callable | None]
    dropped: bool = False  # superseded or cancelled: only on_finished still runs

    def call(self, name: str, *args) -> None:
        callback = self.callbacks.get(name)
        if callback is not None and not self.dropped:
            callback(*args)


def _as_progress(value: object) -> Progress | None:
    if isinstance(value, Progress):
        return value
    if (
        isinstance(value, tuple)
        and len(value) == 3
        and isinstance(value[0], int)
        and isinstance(value[1], int)
        and isinstance(value[2], str)
    ):
        return Progress(*value)
    return None


class WorkerPool(QObject):
    """Starts workers, remembers them by key, and waits for all on ``shutdown``.

    The pool lives in the GUI thread and receives every worker's signals (queued), so the
    callbacks run there: a plain Python callable connected to a worker's signal would run
    in the worker thread.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._threads = QThreadPool(self)
        self._threads.setMaxThreadCount(MAX_THREADS)
        self._live: dict[Worker, _Job] = {}
        self._keys: dict[Hashable, Worker] = {}
        self._retired: list[Worker] = []  # finished; dropped at the next start (see _reap)
        self._closed = False

    def start(
        self,
        job: Callable[..., Any],
        *args: Any,
        key: Hashable = None,
        on_returned: Callable[[Any], None] | None = None,
        on_yielded: Callable[[Any], None] | None = None,
        on_progress: Callable[[int, int, str], None] | None = None,
        on_errored: Callable[[Exception], None] | None = None,
        on_finished: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> Worker | None:
        """Run ``job(*args, **kwargs)`` in a thread; callbacks run on the GUI thread.

        ``key``: the job supersedes the one running under the same key. ``on_finished()``
        runs last whatever happened (also when superseded or cancelled); the others only
        for the newest job of a key. None once the pool has shut down (window closing).
        """
        if self._closed:
            return None
        self._retired.clear()
        if key is not None:
            self.cancel(key)
        worker = Worker(job, args, kwargs, key)
        self._live[worker] = _Job(
            {
                "on_returned": on_returned,
                "on_yielded": on_yielded,
                "on_progress": on_progress,
                "on_errored": on_errored,
                "on_finished": on_finished,
            }
        )
        signals = worker.signals
        signals.yielded.connect(self._on_yielded)
        signals.returned.connect(self._on_returned)
        signals.errored.connect(self._on_errored)
        signals.finished.connect(self._on_finished)
        if key is not None:
            self._keys[key] = worker
        self._threads.start(worker)
        return worker

    def cancel(self, key: Hashable, *, drop: bool = True) -> None:
        """Ask the job under ``key`` to quit; ``drop``: its callbacks are dropped too (but
        ``on_finished``), else what it yielded before it stopped still arrives."""
        worker = self._keys.pop(key, None)
        if worker is not None:
            self.stop(worker, drop=drop)

    def stop(self, worker: Worker, *, drop: bool = True) -> None:
        """Ask ``worker`` to quit (see :meth:`cancel`)."""
        worker.quit()
        job = self._live.get(worker)
        if job is not None and drop:
            job.dropped = True
        if self._keys.get(worker.key) is worker:
            del self._keys[worker.key]

    def running(self, key: Hashable) -> bool:
        """A job runs under ``key`` (and was not cancelled)."""
        return key in self._keys

    def busy(self) -> bool:
        """Any job has not reported ``finished`` yet (cancelled ones included)."""
        return bool(self._live)

    def active_threads(self) -> int:
        """Pool threads running a job now (0 after ``shutdown``)."""
        return self._threads.activeThreadCount()

    # ----- the workers' signals, on the GUI thread ---------------------------------------
    @Slot(object, object)
    def _on_yielded(self, worker: Worker, value: object) -> None:
        job = self._live.get(worker)
        if job is None:
            return
        progress = _as_progress(value)
        if progress is None:
            job.call("on_yielded", value)
        else:
            job.call("on_progress", progress.done, progress.total, progress.message)

    @Slot(object, object)
    def _on_returned(self, worker: Worker, value: object) -> None:
        job = self._live.get(worker)
        if job is not None:
            job.call("on_returned", value)

    @Slot(object, object)
    def _on_errored(self, worker: Worker, exc: object) -> None:
        job = self._live.get(worker)
        if job is not None:
            job.call("on_errored", exc)

    @Slot(object)
    def _on_finished(self, worker: Worker) -> None:
        job = self._reap(worker)
        if job is not None and job.callbacks["on_finished"] is not None:
            job.callbacks["on_finished"]()

    def _reap(self, worker: Worker) -> _Job | None:
        """Forget a finished worker. Its Python object (and signals) is kept until the
        next start: the pool thread may still be returning from its last emit."""
        if self._keys.get(worker.key) is worker:
            del self._keys[worker.key]
        self._retired.append(worker)
        return self._live.pop(worker, None)

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Ask every job to quit, wait for all of them; no pool thread is left running."""
        self._closed = True
        for worker in list(self._live):
            self.stop(worker)
        self._threads.waitForDone(timeout_ms)
        for worker in list(self._live):
            self._reap(worker)
        self._retired.clear()
