"""The one worker API (app/workers.py): generators with progress and values, errors as
exceptions, keys whose newest job wins, cancel, and no thread left after shutdown."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtWidgets import QApplication

from app.workers import Progress, WorkerPool, describe_error, locked_steps


@pytest.fixture
def pool(qtbot):
    pool = WorkerPool()
    yield pool
    pool.shutdown()
    assert pool.active_threads() == 0


def counting(n: int, gate: threading.Event | None = None, pause: float = 0.0):
    for index in range(n):
        if gate is not None:
            gate.wait(5)
        time.sleep(pause)
        yield Progress(index + 1, n, f"step {index + 1}")
        yield index * 10
    return "done"


def test_generator_reports_progress_values_and_result_on_the_gui_thread(qtbot, pool):
    events, threads = [], set()

    def note(kind):
        def callback(*args):
            threads.add(threading.current_thread())
            events.append((kind, *args))

        return callback

    pool.start(
        counting,
        3,
        on_progress=note("progress"),
        on_yielded=note("value"),
        on_returned=note("returned"),
        on_finished=note("finished"),
    )
    qtbot.waitUntil(lambda: not pool.busy(), timeout=5000)
    assert events == [
        ("progress", 1, 3, "step 1"),
        ("value", 0),
        ("progress", 2, 3, "step 2"),
        ("value", 10),
        ("progress", 3, 3, "step 3"),
        ("value", 20),
        ("returned", "done"),
        ("finished",),
    ]
    assert threads == {threading.main_thread()}


def test_errors_arrive_as_exceptions_even_runtime_errors(qtbot, pool):
    """torch raises RuntimeError: it must reach on_errored (superqt 0.9 swallows it)."""

    def failing():
        yield Progress(0, 1, "")
        raise RuntimeError("CUDA out of memory")

    errors, finished = [], []
    pool.start(failing, on_errored=errors.append, on_finished=lambda: finished.append(1))
    qtbot.waitUntil(lambda: finished == [1], timeout=5000)
    assert len(errors) == 1 and isinstance(errors[0], RuntimeError)
    assert describe_error(errors[0]).startswith("RuntimeError: CUDA out of memory (at ")


def test_a_newer_job_with_the_same_key_supersedes_the_older(qtbot, pool):
    gate = threading.Event()
    results, finished = [], []
    pool.start(
        counting,
        3,
        gate,
        key="k",
        on_returned=lambda r: results.append(("old", r)),
        on_finished=lambda: finished.append("old"),
    )
    assert pool.running("k")
    pool.start(
        counting,
        1,
        key="k",
        on_returned=lambda r: results.append(("new", r)),
        on_finished=lambda: finished.append("new"),
    )
    gate.set()
    qtbot.waitUntil(lambda: sorted(finished) == ["new", "old"], timeout=5000)
    assert results == [("new", "done")]
    assert not pool.running("k") and not pool.busy()


def test_cancel_stops_a_generator_and_keeps_what_it_yielded_when_asked(qtbot, pool):
    gate, values, returned = threading.Event(), [], []
    pool.start(
        counting,
        100,
        gate,
        0.02,
        key="k",
        on_yielded=values.append,
        on_returned=returned.append,
    )
    gate.set()
    qtbot.waitUntil(lambda: len(values) >= 2, timeout=5000)
    pool.cancel("k", drop=False)
    qtbot.waitUntil(lambda: not pool.busy(), timeout=5000)
    assert 2 <= len(values) < 100 and returned == []


def test_locked_steps_holds_the_lock_only_while_a_step_computes():
    lock = threading.Lock()

    def steps():
        for index in range(3):
            assert lock.locked()
            yield index
        return "end"

    seen = []
    generator = locked_steps(steps(), lock)
    for value in generator:
        assert not lock.locked()
        seen.append(value)
    assert seen == [0, 1, 2]


def test_shutdown_waits_and_refuses_new_jobs(qtbot):
    pool = WorkerPool()
    gate = threading.Event()
    pool.start(counting, 1000, gate, 0.02)
    gate.set()
    started = time.perf_counter()
    pool.shutdown()
    assert time.perf_counter() - started < 5  # the generator stopped at its next yield
    assert pool.active_threads() == 0 and not pool.busy()
    assert pool.start(counting, 1) is None


def test_pools_come_and_go_without_shutdown(qtbot):
    """Regression: with one relay QObject per job parented to the pool, a pool freed while
    its relays awaited deleteLater crashed a later event loop turn (segfault)."""

    def one_round() -> list[int]:
        pool = WorkerPool()
        results: list[int] = []
        for index in range(20):
            pool.start(abs, -index, on_returned=results.append)
        while pool.busy():
            QApplication.processEvents()
        return results  # the pool is freed here, without shutdown

    for _round in range(5):
        assert sorted(one_round()) == list(range(20))
