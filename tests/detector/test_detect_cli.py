"""``main.py detect`` end to end: a folder in, a COCO file pycocotools loads out."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

import main


@pytest.fixture
def folder(tmp_path):
    images = tmp_path / "photos"
    images.mkdir()
    rng = np.random.default_rng(0)
    for index, size in enumerate([(90, 120), (130, 100), (64, 200)]):
        Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)).save(
            images / f"img_{index}.jpg"
        )
    (images / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (images / "empty.png").write_bytes(b"")
    return images


def _random_model_args(source: str, model: str, out) -> list[str]:
    """A seeded random-weight model keeping every detection (score threshold 0)."""
    return [source, "--model", model, "--weights", "none", "--score-thresh", "0", "--out", str(out)]


def _run(args: list[str]) -> int:
    return main.main(["detect", *args])


def test_detect_folder_writes_coco_that_pycocotools_loads(folder, tmp_path, capsys):
    out = tmp_path / "detections.json"
    code = _run(_random_model_args(str(folder), "fasterrcnn_mobilenet_v3_large_320_fpn", out))
    assert code == 0
    captured = capsys.readouterr()
    assert "broken.jpg" in captured.err and "empty.png" in captured.err
    coco = COCO(str(out))
    assert sorted(img["file_name"] for img in coco.dataset["images"]) == [
        "img_0.jpg",
        "img_1.jpg",
        "img_2.jpg",
    ]
    sizes = {img["file_name"]: (img["width"], img["height"]) for img in coco.dataset["images"]}
    assert sizes["img_1.jpg"] == (100, 130)
    assert len(coco.anns) > 0
    for ann in coco.anns.values():
        assert 0.0 <= ann["score"] <= 1.0 and ann["category_id"] in coco.cats
        x, y, w, h = ann["bbox"]
        image = coco.imgs[ann["image_id"]]
        assert w >= 0 and h >= 0 and x + w <= image["width"] + 0.01


def test_detect_mask_model_writes_rle(folder, tmp_path):
    out = tmp_path / "masks.json"
    code = _run(_random_model_args(str(folder / "img_0.jpg"), "shapes", out))
    assert code == 0
    coco = COCO(str(out))
    ann = next(iter(coco.anns.values()))
    assert isinstance(ann["segmentation"]["counts"], str)
    assert coco.annToMask(ann).shape == (90, 120)


def test_interrupt_leaves_previous_output_intact(folder, tmp_path, monkeypatch):
    out = tmp_path / "detections.json"
    out.write_text(json.dumps({"previous": True}))
    import detector.inference.batch

    def interrupted(*_args, **_kwargs):
        yield from ()
        raise KeyboardInterrupt

    monkeypatch.setattr(detector.inference.batch, "detect_files", interrupted)
    code = _run(
        [
            str(folder),
            "--model",
            "fasterrcnn_mobilenet_v3_large_320_fpn",
            "--weights",
            "none",
            "--out",
            str(out),
        ]
    )
    assert code == 130
    assert json.loads(out.read_text()) == {"previous": True}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_missing_input_is_a_clear_error(tmp_path, capsys):
    assert _run([str(tmp_path / "nowhere"), "--out", str(tmp_path / "x.json")]) == 1
    assert "no such file or folder" in capsys.readouterr().err


def test_detect_skips_bombs_and_reports_huge_images_in_original_pixels(
    folder, tmp_path, capsys, monkeypatch
):
    import cv2

    from detector.io import images as image_io
    from tests.detector.test_image_budget import _bomb_png

    (folder / "bomb.png").write_bytes(_bomb_png(50000, 50000))
    y, x = np.mgrid[0:400, 0:600]
    big = np.stack([x % 256, y % 256, (x * y) % 256], -1).astype(np.uint8)
    cv2.imwrite(str(folder / "zbig.png"), big)
    monkeypatch.setattr(image_io, "MAX_PIXELS", 20_000)  # zbig.png (240 000 px) is over it
    out = tmp_path / "out.json"
    assert _run(_random_model_args(str(folder), "shapes", out)) == 0
    err = capsys.readouterr().err
    assert "bomb.png" in err and "50000 x 50000" in err and "1/4" in err
    coco = COCO(str(out))
    big_image = next(i for i in coco.dataset["images"] if i["file_name"] == "zbig.png")
    assert (big_image["width"], big_image["height"]) == (600, 400)
    anns = coco.imgToAnns[big_image["id"]]
    assert anns and max(a["bbox"][0] + a["bbox"][2] for a in anns) > 150  # not the 150 px frame
    assert all(coco.annToMask(a).shape == (400, 600) for a in anns)
