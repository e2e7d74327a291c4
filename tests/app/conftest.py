"""Shared GUI fixtures: the real main window, opened on a folder like a person would,
folders of images, the small random-weight model, and docks in a known state."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples" / "shapes"


@pytest.fixture
def sample_folder(tmp_path) -> Path:
    """A private copy of the bundled sample set: autosave never touches the repository."""
    target = tmp_path / "shapes"
    shutil.copytree(SAMPLES, target)
    return target


@pytest.fixture
def copy_samples(tmp_path):
    """``copy_samples(name)`` -> another private copy of the sample set (same image ids)."""

    def factory(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(SAMPLES, target)
        return target

    return factory


@pytest.fixture
def image_folder(tmp_path):
    """``image_folder(name, count=3, size=(120, 160), seed=0, coco=None)`` -> a folder of
    random RGB PNGs ``img_0.png``...; with ``coco`` (a dict) also its annotations.json."""
    from PIL import Image

    def factory(name: str, count: int = 3, size=(120, 160), seed: int = 0, coco=None) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        rng = np.random.default_rng(seed)
        for index in range(count):
            pixels = rng.integers(0, 255, (*size, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"img_{index}.png")
        if coco is not None:
            (folder / "annotations.json").write_text(json.dumps(coco))
        return folder

    return factory


@pytest.fixture
def open_window(qtbot):
    """``open_window(folder=None, size=None)`` -> a shown MainWindow, first image drawn."""
    from app.main_window import MainWindow

    windows = []

    def factory(folder: Path | None = None, size: tuple[int, int] | None = None):
        window = MainWindow()
        qtbot.addWidget(window)
        if size is not None:
            window.resize(*size)
        window.show()
        windows.append(window)
        if folder is not None:
            window.open_folder(folder)
            qtbot.waitUntil(lambda: window.canvas.image is not None, timeout=20000)
        return window

    yield factory
    for window in windows:
        window.close()
        pool = window.state.pool
        assert not pool.busy() and pool.active_threads() == 0, "a worker outlived its window"


@pytest.fixture(scope="session")
def small_model():
    """The bundled shapes architecture (Mask R-CNN) with random weights, small inputs."""
    from detector.models import load_model

    return load_model(
        "shapes", weights=None, device="cpu", min_size=256, max_size=256, box_score_thresh=0.05
    )


@pytest.fixture
def inspect_dock(qtbot, small_model, open_window, sample_folder):
    """The Inspect dock shown on the sample set's first image, traced by ``small_model``."""
    window = open_window(sample_folder)
    window.state.models.set_model(small_model)
    dock = window.docks["inspect_dock"]
    window.workspaces.switch("inspect")  # Ctrl+I: the Inspect workspace shows the dock
    qtbot.waitUntil(lambda: dock.session.trace is not None and not dock.session.busy, timeout=60000)
    return dock


@pytest.fixture
def evaluated_dock(qtbot):
    """``evaluated_dock(window)`` -> its Evaluate dock after a finished evaluation of the
    open set; detections come precomputed (``fakes.fake_detections``) from the dock's cache."""
    from fakes import FakeModel, fake_detections

    from app.evaluate.inputs import file_signature, model_key

    def factory(window):
        dock = window.docks["EvaluateDock"]
        window.workspaces.switch("evaluate")  # Ctrl+Shift+E
        dataset, model = window.state.dataset, FakeModel()
        window.state.models.model = model
        for image_id, dets in fake_detections(dataset).items():
            signature = file_signature(dataset.image_path(image_id))
            dock.runner.cache.put(image_id, signature, model_key(model), dets)
        with qtbot.waitSignal(dock.view_updated, timeout=20000):
            dock.run()
        qtbot.waitUntil(lambda: not window.state.pool.busy(), timeout=10000)
        return dock

    return factory
