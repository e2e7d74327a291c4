"""Atomic writes: the target is replaced whole or not at all; the backup is the old file."""

from __future__ import annotations

import json

import pytest

from detector.io.files import atomic_write_bytes, atomic_write_json, backup_path


def test_atomic_write_replaces_and_keeps_a_backup(tmp_path):
    target = tmp_path / "a.json"
    atomic_write_json(target, {"v": 1})
    atomic_write_json(target, {"v": 2}, backup=True)
    assert json.loads(target.read_text()) == {"v": 2}
    assert json.loads(backup_path(target).read_text()) == {"v": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "a.json~"]


def test_a_serialisation_error_touches_nothing(tmp_path):
    target = tmp_path / "a.json"
    atomic_write_json(target, {"v": 1})
    with pytest.raises(TypeError):
        atomic_write_json(target, {"v": object()}, backup=True)
    assert json.loads(target.read_text()) == {"v": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "a.bin"
    atomic_write_bytes(target, b"old")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("detector.io.files.os.replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]
