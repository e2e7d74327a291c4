"""Pretrained weights: listing, the torch.hub cache, verified downloads from a loopback server."""

from __future__ import annotations

import dataclasses
import io

import pytest
import torch

from detector.errors import ModelError
from detector.models.weights import (
    MIRROR_ENV,
    DownloadCancelled,
    WeightsDownloadError,
    cache_dir,
    download_url,
    download_weights,
    find_weights,
    iter_download,
    list_weights,
)
from tests.detector.weights_server import hash8, serve

SMALL_ARCH = "fasterrcnn_mobilenet_v3_large_320_fpn"


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """A private, empty torch hub cache."""
    home = tmp_path / "torch_home"
    monkeypatch.setenv("TORCH_HOME", str(home))
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    return home


@pytest.fixture(scope="module")
def state_bytes() -> bytes:
    """A random-init state dict (the bundled shapes model: a few MB, several chunks)."""
    from detector.models import load_model

    model = load_model("shapes", weights=None, device="cpu")
    buffer = io.BytesIO()
    torch.save(model.module.state_dict(), buffer)
    return buffer.getvalue()


def _entry_for(data: bytes):
    """The real COCO_V1 entry, renamed so its hash prefix is that of ``data``."""
    real = find_weights(SMALL_ARCH, "COCO_V1")
    url = real.url.rsplit("/", 1)[0] + f"/{SMALL_ARCH}-{hash8(data)}.pth"
    return dataclasses.replace(real, url=url)


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_list_covers_every_torchvision_architecture_with_sizes_and_ap(torch_home):
    entries = list_weights()
    archs = {e.architecture for e in entries}
    assert "fasterrcnn_resnet50_fpn" in archs and "maskrcnn_resnet50_fpn_v2" in archs
    assert "shapes" not in archs
    coco = find_weights("fasterrcnn_resnet50_fpn", "DEFAULT")
    assert coco.name == "COCO_V1" and coco.is_default
    assert coco.file_name == "fasterrcnn_resnet50_fpn_coco-258fb6c6.pth"
    assert coco.sha256_prefix == "258fb6c6"
    assert coco.size_mb > 100 and coco.metrics["box_map"] == pytest.approx(37.0)
    mask = find_weights("maskrcnn_resnet50_fpn")
    assert "mask AP 34.6" in mask.describe() and "not cached" in mask.describe()
    assert coco.path == torch_home / "hub" / "checkpoints" / coco.file_name
    with pytest.raises(ModelError, match="known: DEFAULT, COCO_V1"):
        find_weights("fasterrcnn_resnet50_fpn", "IMAGENET")


def test_download_reaches_100_percent_and_lands_verified_in_the_cache(torch_home, state_bytes):
    entry = _entry_for(state_bytes)
    seen: list[tuple[int, int]] = []
    with serve({entry.file_name: state_bytes}) as base:
        path = download_weights(entry, mirror=base, progress=lambda d, t, _m: seen.append((d, t)))
    assert path == cache_dir() / entry.file_name and entry.cached
    assert path.read_bytes() == state_bytes
    assert len(seen) > 2 and seen[-1] == (len(state_bytes), len(state_bytes))
    assert _leftovers(path.parent) == [entry.file_name]  # no temp file left
    assert torch.load(path, weights_only=True).keys()


def test_mirror_variable_replaces_the_download_folder(torch_home, state_bytes, monkeypatch):
    entry = _entry_for(state_bytes)
    monkeypatch.setenv(MIRROR_ENV, "http://mirror.example/weights/")
    assert download_url(entry) == f"http://mirror.example/weights/{entry.file_name}"
    with serve({entry.file_name: state_bytes}) as base:
        monkeypatch.setenv(MIRROR_ENV, base)
        assert download_weights(entry).read_bytes() == state_bytes


def test_cancel_leaves_no_file(torch_home, state_bytes):
    entry = _entry_for(state_bytes)
    calls = []
    with serve({entry.file_name: state_bytes}) as base:
        with pytest.raises(DownloadCancelled):
            download_weights(
                entry,
                mirror=base,
                progress=lambda d, t, m: calls.append(d),
                cancelled=lambda: len(calls) >= 2,
            )
    assert len(calls) == 2 and not entry.cached
    assert _leftovers(cache_dir()) == []


def test_closing_the_generator_midway_leaves_no_file(torch_home, state_bytes):
    entry = _entry_for(state_bytes)
    with serve({entry.file_name: state_bytes}) as base:
        steps = iter_download(entry, mirror=base)
        next(steps), next(steps)
        assert len(_leftovers(cache_dir())) == 1  # the .part file exists while downloading
        steps.close()  # what a cancelled worker does
    assert _leftovers(cache_dir()) == []


def test_hash_mismatch_is_refused_and_leaves_nothing(torch_home, state_bytes):
    real = find_weights(SMALL_ARCH, "COCO_V1")  # its name promises torchvision's hash
    with serve({real.file_name: state_bytes}) as base:
        with pytest.raises(WeightsDownloadError, match="refused .*907ea3f9.*nothing was saved"):
            download_weights(real, mirror=base)
    assert not real.cached and _leftovers(cache_dir()) == []


def test_dead_mirror_names_url_file_and_cache_folder(torch_home, state_bytes):
    entry = _entry_for(state_bytes)
    with serve({}) as base:
        pass  # the server is gone: its port refuses connections now
    with pytest.raises(WeightsDownloadError) as failure:
        download_weights(entry, mirror=base, timeout=5)
    message = str(failure.value)
    assert f"{base}/{entry.file_name}" in message
    assert f"Copy the file {entry.file_name} into {cache_dir()}" in message
    assert _leftovers(cache_dir()) == []
    with serve({}) as base:  # a live server without the file: HTTP 404
        with pytest.raises(WeightsDownloadError, match="HTTP 404"):
            download_weights(entry, mirror=base)


def test_cached_weights_load_offline_with_coco_names(torch_home):
    """A file under torchvision's name in the cache is used as is: no network, COCO names."""
    from detector.models import load_model

    entry = find_weights(SMALL_ARCH, "COCO_V1")
    with pytest.raises(ModelError, match=f"weights get {SMALL_ARCH}"):
        load_model(SMALL_ARCH, weights="COCO_V1", device="cpu")
    random_init = load_model(SMALL_ARCH, weights=None, num_classes=91, device="cpu")
    entry.path.parent.mkdir(parents=True)
    torch.save(random_init.module.state_dict(), entry.path)
    model = load_model(SMALL_ARCH, weights="COCO_V1", device="cpu", min_size=128, max_size=160)
    assert model.trained and model.source == "torchvision COCO_V1"
    assert model.categories[1] == "person" and len(model.categories) == 91
    state = model.module.state_dict()
    key = "roi_heads.box_predictor.cls_score.weight"
    assert torch.equal(state[key], random_init.module.state_dict()[key])


def test_a_file_url_mirror_works(torch_home, state_bytes, tmp_path):
    entry = _entry_for(state_bytes)
    shared = tmp_path / "shared weights"
    shared.mkdir()
    (shared / entry.file_name).write_bytes(state_bytes)
    path = download_weights(entry, mirror=shared.as_uri())
    assert path.read_bytes() == state_bytes
