"""Shared test set-up: headless Qt, QSettings in a temp dir, small seeded models."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


def pytest_configure(config):
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ.setdefault("DETSCOPE_NO_AUTOLOAD", "1")


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory, monkeypatch):
    """Point QSettings (and anything keyed on it) at a fresh temp folder per test."""
    folder = tmp_path_factory.mktemp("settings")
    monkeypatch.setenv("DETSCOPE_SETTINGS_DIR", str(folder))
    yield folder
