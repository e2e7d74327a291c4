"""read_image: every format and oddity a user's folder holds, and clear errors for bad files."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from detector.errors import ImageReadError
from detector.io.images import list_images, read_image, read_image_size


def _gradient(height: int = 40, width: int = 60) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 4 % 256, y * 6 % 256, (x + y) % 256], axis=-1).astype(np.uint8)


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tiff", ".webp"])
def test_lossless_formats_round_trip_exactly(tmp_path, suffix):
    rgb = _gradient()
    path = tmp_path / f"image{suffix}"
    params = [cv2.IMWRITE_WEBP_QUALITY, 101] if suffix == ".webp" else []
    assert cv2.imwrite(str(path), rgb[..., ::-1], params)
    decoded = read_image(path)
    assert decoded.dtype == np.uint8 and decoded.shape == (40, 60, 3)
    np.testing.assert_array_equal(decoded, rgb)


def test_jpeg_is_rgb_not_bgr(tmp_path):
    path = tmp_path / "red.jpg"
    red = np.zeros((32, 32, 3), np.uint8)
    red[..., 0] = 255
    Image.fromarray(red).save(path, quality=95)
    decoded = read_image(path)
    assert decoded[..., 0].mean() > 240 and decoded[..., 2].mean() < 15


def test_grayscale_rgba_and_16bit(tmp_path):
    gray = _gradient()[..., 0]
    Image.fromarray(gray).save(tmp_path / "gray.png")
    assert np.array_equal(read_image(tmp_path / "gray.png"), np.repeat(gray[..., None], 3, -1))

    rgba = np.dstack([_gradient(), np.full((40, 60), 7, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    np.testing.assert_array_equal(read_image(tmp_path / "rgba.png"), _gradient())

    deep = np.arange(40 * 60, dtype=np.uint16).reshape(40, 60) * 27
    cv2.imwrite(str(tmp_path / "deep.png"), deep)
    decoded = read_image(tmp_path / "deep.png")
    expected = np.round(deep / 257.0).astype(np.uint8)
    assert decoded.dtype == np.uint8
    assert np.abs(decoded[..., 0].astype(int) - expected).max() <= 1


def test_cmyk_jpeg(tmp_path):
    rgb = np.zeros((20, 30, 3), np.uint8)
    rgb[..., 2] = 200
    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=95)
    decoded = read_image(tmp_path / "cmyk.jpg")
    assert decoded.shape == (20, 30, 3)
    assert decoded[..., 2].mean() > 150 and decoded[..., 0].mean() < 60


def test_exif_orientation_is_applied(tmp_path):
    stored = np.zeros((20, 40, 3), np.uint8)  # stored landscape, left half white
    stored[:, :20] = 255
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = tmp_path / "phone.jpg"
    Image.fromarray(stored).save(path, exif=exif, quality=95)
    shown = read_image(path)
    assert shown.shape[:2] == (40, 20)  # displayed portrait
    assert shown[:20].mean() > 200 and shown[20:].mean() < 50  # left half became the top
    assert read_image_size(path) == (20, 40)


def test_non_ascii_path(tmp_path):
    folder = tmp_path / "日本語 фото"
    folder.mkdir()
    path = folder / "zdjęcie.png"
    Image.fromarray(_gradient()).save(path)
    assert read_image(path).shape == (40, 60, 3)
    assert list_images(folder) == [path]


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "empty"), (b"this is not an image at all", "not a readable image")],
)
def test_bad_files_raise_clear_errors(tmp_path, content, reason):
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    with pytest.raises(ImageReadError, match=reason) as info:
        read_image(path)
    assert str(path) in str(info.value)


def test_truncated_and_missing_files(tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(_gradient(200, 200)).save(buffer, "JPEG")
    (tmp_path / "cut.jpg").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageReadError, match="cut.jpg"):
        read_image(tmp_path / "cut.jpg")
    with pytest.raises(ImageReadError, match="no such file"):
        read_image(tmp_path / "missing.png")


def test_list_images_natural_order(tmp_path):
    for name in ["img10.png", "img2.png", "img1.png", "notes.txt"]:
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in list_images(tmp_path)] == ["img1.png", "img2.png", "img10.png"]
