"""The pixel budget: huge images decoded reduced, bombs refused from the header, every image
problem an ImageReadError naming the file, sizes right for every EXIF orientation."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from detector.errors import ImageReadError
from detector.io.images import load_image, read_header, read_image, read_image_size


def _bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width x height (a few rows of zeros follow)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 4096, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_png_declaring_50000_squared_is_refused_before_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(_bomb_png(50000, 50000))
    assert path.stat().st_size < 600
    for reader in (read_image, load_image):
        with pytest.raises(ImageReadError, match="bomb.png.*50000 x 50000"):
            reader(path)
    assert read_image_size(path) == (50000, 50000)  # the header alone is fine to report


def test_pil_decompression_bomb_error_never_escapes(tmp_path):
    path = tmp_path / "huge.png"
    path.write_bytes(_bomb_png(30000, 30000))  # PIL raises DecompressionBombError on this
    with pytest.raises(Image.DecompressionBombError):
        Image.open(path)
    assert read_header(path).pixels == 900_000_000
    with pytest.raises(ImageReadError, match="huge.png"):
        read_image(path)


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".tiff"])
def test_over_budget_images_are_decoded_reduced(tmp_path, suffix):
    y, x = np.mgrid[0:400, 0:600]
    rgb = np.stack([x % 256, y % 256, (x // 3) % 256], -1).astype(np.uint8)
    path = tmp_path / f"big{suffix}"
    assert cv2.imwrite(str(path), rgb[..., ::-1])
    loaded = load_image(path, max_pixels=20_000)  # 240 000 pixels: 1/4 fits
    assert loaded.pixels.shape == (100, 150, 3)
    assert (loaded.width, loaded.height) == (600, 400)
    assert loaded.reduced and loaded.scale_x == 4.0 and loaded.scale_y == 4.0
    assert "1/4" in loaded.describe()
    expected = cv2.resize(rgb, (150, 100), interpolation=cv2.INTER_AREA).astype(int)
    assert np.abs(loaded.pixels.astype(int) - expected).mean() < 6
    whole = load_image(path)
    assert not whole.reduced and whole.describe() == ""


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("suffix", [".jpg", ".tiff", ".png", ".webp"])
def test_header_size_matches_decoded_size_for_every_orientation(tmp_path, suffix, orientation):
    image = Image.fromarray(np.zeros((30, 50, 3), np.uint8))
    path = tmp_path / f"o{orientation}{suffix}"
    if suffix == ".tiff":
        image.save(path, tiffinfo={0x0112: orientation})
    else:
        exif = image.getexif()
        exif[0x0112] = orientation
        image.save(path, exif=exif.tobytes())
    height, width = read_image(path).shape[:2]
    assert read_image_size(path) == (width, height)
    assert (width, height) == ((30, 50) if orientation >= 5 else (50, 30))
    reduced = load_image(path, max_pixels=100)  # 1/4 keeps the orientation
    assert reduced.pixels.shape[:2] == (-(-height // 4), -(-width // 4))


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"GIF89a" + b"\0" * 20, "not a readable image"), (b"\xff\xd8\xff" + b"\0" * 40, "bad.jpg")],
)
def test_every_problem_is_an_image_read_error(tmp_path, content, reason):
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    with pytest.raises(ImageReadError, match=reason):
        load_image(path)
    with pytest.raises(ImageReadError, match="is a folder"):
        load_image(tmp_path)


@pytest.mark.parametrize(
    ("width", "height", "factor"),
    [(4000, 3000, 1), (7300, 5475, 1), (8000, 6000, 2), (12000, 9000, 4), (20000, 20000, 8)],
)
def test_reduction_factors_of_the_documented_budget(width, height, factor):
    from detector.io.images import ImageHeader, _reduction

    assert _reduction(ImageHeader(width, height, "JPEG"), None) == 1
    from detector.io.images import MAX_PIXELS, REDUCED_MAX_PIXELS

    assert _reduction(ImageHeader(width, height, "JPEG"), MAX_PIXELS) == factor
    if factor > 1:
        assert width * height / factor**2 <= REDUCED_MAX_PIXELS


def test_reading_headers_from_many_threads_leaves_pil_limit_alone(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "small.png"
    Image.new("RGB", (32, 24)).save(path)
    limit = Image.MAX_IMAGE_PIXELS
    with ThreadPoolExecutor(8) as pool:
        sizes = list(pool.map(lambda _i: read_header(path).pixels, range(400)))
    assert sizes == [32 * 24] * 400
    assert Image.MAX_IMAGE_PIXELS == limit  # no thread restored another thread's None
