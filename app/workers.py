"""Long work off the GUI thread: one QThread per job, a generator that yields progress.

napari's ``thread_worker`` pattern, reduced to what DetScope needs: the job is a plain
function; if it is a generator, each ``yield (done, total, message)`` becomes a progress
signal and ``return value`` becomes ``finished``. ``cancel()`` asks a generator job to stop
at its next yield. Every failure reaches the GUI as ``failed(message)``, never a crash.
"""

from __future__ import annotations

import inspect
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot


class Cancelled(Exception):
    """Raised inside a job when the user cancelled it."""


class Worker(QObject):
    progress = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(str)
    done = Signal()  # after finished/failed, whatever happened

    def __init__(self, job: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self._job, self._args, self._kwargs = job, args, kwargs
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def run(self) -> None:
        try:
            result = self._job(*self._args, **self._kwargs)
            if inspect.isgenerator(result):
                result = self._drain(result)
            if not self._cancelled:
                self.finished.emit(result)
        except Cancelled:
            pass
        except Exception as exc:  # noqa: BLE001 - every error becomes a message for the user
            self.failed.emit(_describe(exc))
        finally:
            self.done.emit()

    def _drain(self, generator) -> Any:
        while True:
            if self._cancelled:
                generator.close()
                raise Cancelled
            try:
                update = next(generator)
            except StopIteration as stop:
                return stop.value
            if isinstance(update, tuple) and len(update) == 3:
                self.progress.emit(int(update[0]), int(update[1]), str(update[2]))


def _describe(exc: Exception) -> str:
    from detector.errors import DetScopeError

    if isinstance(exc, DetScopeError):
        return str(exc)
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" (at {last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"


class _Relay(QObject):
    """Lives in the GUI thread, so the callbacks it calls run there (queued connection).

    A plain Python callable connected to a worker's signal would run in the worker thread.
    """

    def __init__(self, on_finished, on_failed, on_progress, parent: QObject) -> None:
        super().__init__(parent)
        self._on_finished, self._on_failed, self._on_progress = on_finished, on_failed, on_progress

    @Slot(object)
    def finished(self, result: object) -> None:
        if self._on_finished is not None:
            self._on_finished(result)

    @Slot(str)
    def failed(self, message: str) -> None:
        if self._on_failed is not None:
            self._on_failed(message)

    @Slot(int, int, str)
    def progress(self, done: int, total: int, message: str) -> None:
        if self._on_progress is not None:
            self._on_progress(done, total, message)


class WorkerPool(QObject):
    """Owns running workers and their threads; ``shutdown`` waits for all (window close, tests)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running: dict[Worker, QThread] = {}
        self._relays: dict[Worker, _Relay] = {}
        self._closed = False

    def start(
        self,
        job: Callable[..., Any],
        *args: Any,
        on_finished=None,
        on_failed=None,
        on_progress=None,
        **kwargs: Any,
    ) -> Worker | None:
        """Run ``job`` in a new thread; None once the pool has shut down (window closing)."""
        if self._closed:
            return None
        worker = Worker(job, *args, **kwargs)
        thread = QThread()
        worker.moveToThread(thread)
        relay = _Relay(on_finished, on_failed, on_progress, self)
        worker.finished.connect(relay.finished)
        worker.failed.connect(relay.failed)
        worker.progress.connect(relay.progress)
        worker.done.connect(thread.quit)
        self._relays[worker] = relay
        thread.finished.connect(self._reap)
        thread.started.connect(worker.run)
        self._running[worker] = thread
        thread.start()
        return worker

    def busy(self) -> bool:
        return bool(self._running)

    @Slot()
    def _reap(self) -> None:
        """Forget every worker whose thread has ended (runs in the GUI thread)."""
        for worker, thread in list(self._running.items()):
            if thread.isFinished():
                del self._running[worker]
                self._relays.pop(worker).deleteLater()
                thread.wait()
                thread.deleteLater()
                worker.deleteLater()

    def shutdown(self, timeout_ms: int = 30000) -> None:
        self._closed = True
        for worker, thread in list(self._running.items()):
            worker.cancel()
            thread.quit()
            thread.wait(timeout_ms)
        self._reap()
