"""Read any image a user has, as an H x W x 3 uint8 RGB numpy array.

Choices (documented because boxes must line up with what the person sees):

* **EXIF orientation is applied.** A phone photo stored sideways with an orientation tag
  is returned the way every image viewer shows it, and its width/height are those of the
  rotated image. Annotations are always in this oriented frame (COCO ``width``/``height``
  too), which is what COCO tools and annotators (labelme, CVAT) use.
* Grayscale is repeated to 3 channels; alpha is dropped (not blended); CMYK JPEGs are
  converted by libjpeg; 16-bit images are scaled linearly from 0..65535 to 0..255;
  float images in 0..1 are scaled by 255, other float ranges are min-max stretched.
* Files are read as bytes (``np.fromfile``) and decoded with ``cv2.imdecode``, so paths
  with non-ASCII characters work on every platform.

Pixel budget (``load_image``, what display and detection use):

* Images up to ``MAX_PIXELS`` (40 MP: every phone and most cameras) are decoded whole.
* Larger ones are decoded reduced by 2, 4 or 8: the smallest factor that brings them under
  ``REDUCED_MAX_PIXELS`` (16 MP, what a screen or a detector can use; a 20000 x 20000
  photo becomes 2500 x 2500, a 48 MP one 12 MP);
  JPEGs are reduced inside libjpeg (DCT scaling: the full image is never allocated, a
  20000 x 20000 JPEG decodes in about a second), other formats are decoded
  whole (up to ``FULL_DECODE_LIMIT``) and then shrunk. ``LoadedImage`` says by how much, so
  callers report boxes and masks in the original pixel frame.
* Decompression bombs are refused from the header, before anything is allocated: an image
  above the budget whose header declares more than ``MAX_PIXELS_PER_BYTE`` pixels per byte
  of file (deflate cannot compress more than ~1032:1, so even a 1-bit PNG needs a byte per
  ~8,300 pixels; a JPEG about one per 64), or more than ``HARD_MAX_PIXELS`` at all.
* PIL's own ``DecompressionBombError`` (raised on any ordinary 20000 x 20000 photo) is
  replaced by these checks; every problem is an ``ImageReadError`` naming the file.
"""

from __future__ import annotations

import os
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from detector.errors import ImageReadError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
MAX_PIXELS = 40_000_000  # above this, load_image decodes reduced ...
REDUCED_MAX_PIXELS = 16_000_000  # ... by the smallest factor 2, 4, 8 that fits this
FULL_DECODE_LIMIT = 250_000_000  # non-JPEG images above the budget are decoded whole up to this
HARD_MAX_PIXELS = 1 << 30  # OpenCV's own limit (CV_IO_MAX_IMAGE_PIXELS): refused above
MAX_PIXELS_PER_BYTE = 10_000  # above the budget, more pixels per file byte = a bomb
_REDUCTIONS = (2, 4, 8)
_JPEG_REDUCED = {
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}
_EXIF_ORIENTATION_TAG = 0x0112
# OpenCV prints its own warnings for broken files; ours (ImageReadError) name the file instead.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


@dataclass(frozen=True)
class ImageHeader:
    """What a file's header declares: the oriented ``width`` x ``height`` (EXIF orientation
    applied, as ``read_image`` returns the pixels) and PIL's ``format`` name (``JPEG``...)."""

    width: int
    height: int
    format: str

    @property
    def pixels(self) -> int:
        return self.width * self.height


@dataclass(frozen=True)
class LoadedImage:
    """An image decoded within the pixel budget.

    pixels (uint8[h, w, 3] RGB): the decoded image, possibly reduced. width / height: the
    original (oriented) size. A point (x, y) of ``pixels`` is (x * scale_x, y * scale_y) in
    the original image.
    """

    pixels: np.ndarray
    width: int
    height: int

    @property
    def reduced(self) -> bool:
        return self.pixels.shape[:2] != (self.height, self.width)

    @property
    def scale_x(self) -> float:
        return self.width / self.pixels.shape[1]

    @property
    def scale_y(self) -> float:
        return self.height / self.pixels.shape[0]

    def describe(self) -> str:
        """'' at full resolution, else e.g. 'shown at 1/8 (2500 x 2500 of 20000 x 20000)'."""
        if not self.reduced:
            return ""
        h, w = self.pixels.shape[:2]
        return f"shown at 1/{round(self.scale_x)} ({w} x {h} of {self.width} x {self.height})"


def is_image_file(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name (natural order for numbers)."""
    root = Path(folder)
    files = [p for p in root.iterdir() if p.is_file() and is_image_file(p)]
    return sorted(files, key=_natural_key)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Decode ``path`` whole to an H x W x 3 uint8 RGB array; raise ImageReadError naming
    the file (also for decompression bombs and images over ``HARD_MAX_PIXELS``)."""
    return load_image(path, whole=True).pixels


def load_image(
    path: str | os.PathLike, *, max_pixels: int | None = None, whole: bool = False
) -> LoadedImage:
    """Decode ``path`` whole up to ``max_pixels`` (default ``MAX_PIXELS``), else reduced
    under ``min(max_pixels, REDUCED_MAX_PIXELS)``; ``whole``: never reduced. See the
    module docstring."""
    budget = None if whole else (max_pixels or MAX_PIXELS)
    file = Path(path)
    data = _read_bytes(file)
    header = _header_or_none(file)
    if header is None:  # a format PIL cannot parse: OpenCV decodes it whole (or refuses)
        pixels = decode_image(data, name=str(file))
        return LoadedImage(pixels, pixels.shape[1], pixels.shape[0])
    check_declared_size(header, data.size, str(file))
    factor = _reduction(header, budget)
    if factor == 1:
        pixels = decode_image(data, name=str(file))
    elif header.format in ("JPEG", "MPO"):
        pixels = decode_image(data, name=str(file), flags=_JPEG_REDUCED[min(factor, 8)])
    else:
        if header.pixels > FULL_DECODE_LIMIT:
            raise ImageReadError(
                f"{file}: {header.width} x {header.height} {header.format} is too large to "
                f"decode ({header.pixels / 1e6:.0f} MP; the limit for non-JPEG images is "
                f"{FULL_DECODE_LIMIT / 1e6:.0f} MP)"
            )
        pixels = decode_image(data, name=str(file))
    target = (-(-header.width // factor), -(-header.height // factor))  # ceil, as libjpeg
    if pixels.shape[:2] != (target[1], target[0]) and factor > 1:
        pixels = cv2.resize(pixels, target, interpolation=cv2.INTER_AREA)
    return LoadedImage(pixels, header.width, header.height)


def check_declared_size(header: ImageHeader, file_bytes: int, name: str) -> None:
    """Refuse a header that declares an absurd size (a decompression bomb) before decoding."""
    if header.width < 1 or header.height < 1:
        raise ImageReadError(f"{name}: the header declares an empty image")
    if header.pixels > HARD_MAX_PIXELS or (
        header.pixels > MAX_PIXELS and header.pixels > MAX_PIXELS_PER_BYTE * max(file_bytes, 1)
    ):
        raise ImageReadError(
            f"{name}: refused: the header declares {header.width} x {header.height} "
            f"({header.pixels / 1e6:.0f} MP) in a {file_bytes:,}-byte file "
            "(a decompression bomb, or a corrupt header)"
        )


def _reduction(header: ImageHeader, max_pixels: int | None) -> int:
    if max_pixels is None or header.pixels <= max_pixels:
        return 1
    max_pixels = min(max_pixels, REDUCED_MAX_PIXELS)
    for factor in _REDUCTIONS:
        if header.pixels / factor**2 <= max_pixels:
            return factor
    factor = 8
    while header.pixels / factor**2 > max_pixels:
        factor *= 2
    return factor


def _read_bytes(file: Path) -> np.ndarray:
    try:
        return np.fromfile(str(file), dtype=np.uint8)
    except FileNotFoundError:
        raise ImageReadError(f"{file}: no such file") from None
    except IsADirectoryError:
        raise ImageReadError(f"{file}: is a folder, not an image") from None
    except (OSError, MemoryError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise ImageReadError(f"{file}: cannot read ({reason})") from None


def decode_image(
    data: bytes | np.ndarray, *, name: str = "<bytes>", flags: int | None = None
) -> np.ndarray:
    """Decode encoded image bytes (see module docstring for the conversions)."""
    buffer = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes) else data
    if buffer.size == 0:
        raise ImageReadError(f"{name}: the file is empty (0 bytes)")
    # IMREAD_COLOR applies EXIF orientation; ANYDEPTH keeps 16-bit/float so we scale them ourselves.
    try:
        decoded = cv2.imdecode(
            buffer, cv2.IMREAD_COLOR | cv2.IMREAD_ANYDEPTH if flags is None else flags
        )
    except (cv2.error, MemoryError) as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise ImageReadError(f"{name}: cannot decode ({reason})") from None
    if decoded is None or decoded.size == 0:
        raise ImageReadError(f"{name}: not a readable image (unknown format, or truncated/corrupt)")
    if _looks_truncated(buffer, name):
        raise ImageReadError(f"{name}: the image data is truncated")
    if decoded.ndim == 2:
        decoded = cv2.cvtColor(decoded, cv2.COLOR_GRAY2BGR)
    rgb = _to_uint8(decoded)
    cv2.cvtColor(rgb, cv2.COLOR_BGR2RGB, dst=rgb)  # in place: no second full-size copy
    return rgb


def read_header(path: str | os.PathLike) -> ImageHeader:
    """The oriented size and format from the file header, without decoding pixels."""
    file = Path(path)
    header = _header_or_none(file)
    if header is None:
        height, width = read_image(file).shape[:2]  # formats pillow cannot parse
        return ImageHeader(width, height, "")
    return header


def read_image_size(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) of the oriented image from the file header, without decoding pixels."""
    header = read_header(path)
    return header.width, header.height


_PIL_GLOBALS = threading.Lock()


def _header_or_none(file: Path) -> ImageHeader | None:
    """PIL's header parse; None when PIL cannot parse the format. Our own budget replaces
    PIL's decompression-bomb check (which raises on ordinary 20000 x 20000 photos)."""
    from PIL import Image, UnidentifiedImageError  # pillow comes with torchvision

    try:
        # PIL's limit and the warning filters are process-wide: decode-ahead threads read
        # headers at the same time, so one at a time, or a thread restores another's None
        with _PIL_GLOBALS, warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
            try:
                with Image.open(file) as image:
                    width, height = image.size
                    fmt = image.format or ""
                    orientation = _orientation(image)
            finally:
                Image.MAX_IMAGE_PIXELS = saved
    except FileNotFoundError:
        raise ImageReadError(f"{file}: no such file") from None
    except IsADirectoryError:
        raise ImageReadError(f"{file}: is a folder, not an image") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    # Pillow already swaps a TIFF's size for its orientation tag; for other formats it
    # reports the stored size and the EXIF tag says to rotate.
    if fmt != "TIFF" and orientation in (5, 6, 7, 8):
        width, height = height, width
    return ImageHeader(int(width), int(height), fmt)


def _orientation(image) -> int:
    """The EXIF orientation tag without loading pixels (PNG's ``getexif`` decodes the
    whole image to look for an eXIf chunk after the data; the one before it is in info)."""
    from PIL import Image

    if image.format == "PNG":
        raw = image.info.get("exif")
        if not raw:
            return 1
        exif = Image.Exif()
        exif.load(raw)
        return int(exif.get(_EXIF_ORIENTATION_TAG, 1))
    return int(image.getexif().get(_EXIF_ORIENTATION_TAG, 1))


def _to_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return (image.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)
    as_float = image.astype(np.float32)
    low, high = float(np.nanmin(as_float)), float(np.nanmax(as_float))
    if low >= 0.0 and high <= 1.0:
        scaled = as_float * 255.0
    else:
        scaled = (as_float - low) * (255.0 / max(high - low, 1e-12))
    return np.clip(np.nan_to_num(scaled) + 0.5, 0, 255).astype(np.uint8)


def _looks_truncated(data: np.ndarray, name: str) -> bool:
    """libjpeg/libpng fill a cut-off image with grey and only warn; catch the common cases."""
    head = data[:8].tobytes()
    if head[:2] == b"\xff\xd8":  # JPEG must end with EOI (allow trailing padding)
        return b"\xff\xd9" not in data[-1024:].tobytes()
    if head == b"\x89PNG\r\n\x1a\n":
        return b"IEND" not in data[-64:].tobytes()
    return False


def _natural_key(path: Path) -> list:
    import re

    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]
