"""``main.py weights list|get``: the cache as torch.hub sees it, failures exit non-zero."""

from __future__ import annotations

import pytest

import main
from detector.models.weights import MIRROR_ENV, find_weights
from tests.detector.weights_server import serve

ARCH = "fasterrcnn_mobilenet_v3_large_320_fpn"


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    return tmp_path / "torch_home"


def test_list_prints_every_weights_name_with_size_and_cache_state(torch_home, capsys):
    entry = find_weights(ARCH)
    entry.path.parent.mkdir(parents=True)
    entry.path.write_bytes(b"stands in for the cached file")  # list only looks at the name
    assert main.main(["weights", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    ours = [line for line in lines if line.startswith(ARCH + " ")]
    assert len(ours) == 1 and ours[0].rstrip().endswith(" cached") and "74.2 MB" in ours[0]
    keypoint = [line for line in lines if line.startswith("keypointrcnn_resnet50_fpn")]
    assert len(keypoint) == 2 and all(line.endswith("not cached") for line in keypoint)
    assert "box AP 37.0" in next(x for x in lines if x.startswith("fasterrcnn_resnet50_fpn "))
    assert lines[-1] == f"cache: {entry.path.parent}"


def test_get_already_cached_is_a_no_op(torch_home, capsys):
    entry = find_weights(ARCH)
    entry.path.parent.mkdir(parents=True)
    entry.path.write_bytes(b"x")
    assert main.main(["weights", "get", ARCH, "--weights", "COCO_V1"]) == 0
    assert "already cached" in capsys.readouterr().out


def test_get_refuses_a_mismatching_file_and_exits_non_zero(torch_home, capsys):
    entry = find_weights(ARCH)
    with serve({entry.file_name: b"not the real weights" * 1000}) as base:
        code = main.main(["weights", "get", ARCH, "--mirror", base])
    assert code == 1
    err = capsys.readouterr().err
    assert "error: refused" in err and entry.file_name in err
    assert not entry.path.parent.exists() or list(entry.path.parent.iterdir()) == []


def test_get_from_a_dead_mirror_names_url_file_and_folder(torch_home, capsys, monkeypatch):
    entry = find_weights(ARCH)
    with serve({}) as base:
        pass
    monkeypatch.setenv(MIRROR_ENV, base)
    assert main.main(["weights", "get", ARCH, "--timeout", "5"]) == 1
    err = capsys.readouterr().err
    assert f"{base}/{entry.file_name}" in err and str(entry.path.parent) in err
    assert main.main(["weights", "get", "yolo"]) == 1
    assert "unknown architecture 'yolo'" in capsys.readouterr().err
