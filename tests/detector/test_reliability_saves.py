"""Issue 18: saves never change a file's mode, never leave temp files, never follow a umask wrongly."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from detector.data.dataset import Category, Dataset, ImageRecord
from detector.io.files import atomic_write_bytes, atomic_write_json, remove_stale_temps
from detector.store import save_dataset

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX modes and PIDs")


def mode(path) -> int:
    return os.stat(path).st_mode & 0o7777


def temps(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.suffix == ".tmp")


def test_existing_file_keeps_its_mode(tmp_path):
    target = tmp_path / "annotations.json"
    target.write_text("{}")
    os.chmod(target, 0o664)
    atomic_write_bytes(target, b'{"a": 1}', backup=True)
    assert mode(target) == 0o664
    assert mode(tmp_path / "annotations.json~") == 0o664
    os.chmod(target, 0o640)
    atomic_write_json(target, {"b": 2})
    assert mode(target) == 0o640


def test_dataset_save_keeps_a_group_readable_file_group_readable(tmp_path):
    dataset = Dataset(root=tmp_path)
    dataset.add_image_record(ImageRecord(id=1, file_name="a.png", width=10, height=10))
    dataset.add_category_record(Category(1, "cat"))
    target = save_dataset(dataset)
    os.chmod(target, 0o644)
    dataset.add_category_record(Category(2, "dog"))
    save_dataset(dataset)
    assert mode(target) == 0o644


def test_new_files_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write_bytes(tmp_path / "new.json", b"{}")
    finally:
        os.umask(old)
    assert mode(tmp_path / "new.json") == 0o640
    atomic_write_bytes(tmp_path / "new2.json", b"{}")
    assert mode(tmp_path / "new2.json") == 0o666 & ~old


def test_a_failed_write_leaves_no_temp_file_and_the_old_content(tmp_path):
    target = tmp_path / "annotations.json"
    target.write_bytes(b"old")
    with pytest.raises(TypeError):
        atomic_write_bytes(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert temps(tmp_path) == []


def test_stale_temp_files_of_dead_processes_are_removed_by_the_next_save(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead_pid = int(dead.stdout)
    target = tmp_path / "annotations.json"
    stale = [
        tmp_path / f".annotations.json.{dead_pid}.abcd1234.tmp",
        tmp_path / ".annotations.json.k2j3h4g5.tmp",  # the older naming, no PID
        tmp_path / f".annotations.json~.{dead_pid}.zz99yy88.tmp",
    ]
    live = tmp_path / f".annotations.json.{os.getppid()}.live0000.tmp"  # a running process
    other = tmp_path / ".other.json.abc.tmp"
    for path in [*stale, live, other]:
        path.write_bytes(b"x" * 1000)
    atomic_write_bytes(target, b"{}", backup=True)
    atomic_write_bytes(target, b"{}", backup=True)
    assert sorted(temps(tmp_path)) == sorted([live.name, other.name])
    assert remove_stale_temps(target) == []


def test_a_symlinked_file_stays_a_symlink(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("{}")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    atomic_write_bytes(link, b'{"x": 1}')
    assert link.is_symlink() and real.read_text() == '{"x": 1}'


def test_convert_output_follows_the_umask_not_0600(tmp_path):
    """``convert`` (and ``detect --out``) write through atomic_write_*: 0666 less the umask."""
    from main import main

    source = tmp_path / "in.json"
    doc = {"images": [{"id": 1, "file_name": "a.png", "width": 10, "height": 10}],
           "categories": [{"id": 1, "name": "cat"}], "annotations": []}  # fmt: skip
    source.write_text(json.dumps(doc))
    old = os.umask(0o022)
    try:
        assert main(["convert", str(source), str(tmp_path / "out.json")]) == 0
    finally:
        os.umask(old)
    assert mode(tmp_path / "out.json") == 0o644
