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
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from detector.errors import ImageReadError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
_EXIF_ORIENTATION_TAG = 0x0112
# OpenCV prints its own warnings for broken files; ours (ImageReadError) name the file instead.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


def is_image_file(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name (natural order for numbers)."""
    root = Path(folder)
    files = [p for p in root.iterdir() if p.is_file() and is_image_file(p)]
    return sorted(files, key=_natural_key)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Decode ``path`` to an H x W x 3 uint8 RGB array; raise ImageReadError naming the file."""
    file = Path(path)
    try:
        data = np.fromfile(str(file), dtype=np.uint8)
    except FileNotFoundError:
        raise ImageReadError(f"{file}: no such file") from None
    except OSError as exc:
        raise ImageReadError(f"{file}: cannot read ({exc.strerror or exc})") from None
    return decode_image(data.tobytes(), name=str(file))


def decode_image(data: bytes, *, name: str = "<bytes>") -> np.ndarray:
    """Decode encoded image bytes (see module docstring for the conversions)."""
    if len(data) == 0:
        raise ImageReadError(f"{name}: the file is empty (0 bytes)")
    buffer = np.frombuffer(data, dtype=np.uint8)
    # IMREAD_COLOR applies EXIF orientation; ANYDEPTH keeps 16-bit/float so we scale them ourselves.
    decoded = cv2.imdecode(buffer, cv2.IMREAD_COLOR | cv2.IMREAD_ANYDEPTH)
    if decoded is None or decoded.size == 0:
        raise ImageReadError(f"{name}: not a readable image (unknown format, or truncated/corrupt)")
    if _looks_truncated(data, name):
        raise ImageReadError(f"{name}: the image data is truncated")
    rgb = cv2.cvtColor(_to_uint8(decoded), cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(rgb)


def read_image_size(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) of the oriented image from the file header, without decoding pixels."""
    from PIL import Image, UnidentifiedImageError  # pillow comes with torchvision

    file = Path(path)
    try:
        with Image.open(file) as image:
            width, height = image.size
            orientation = image.getexif().get(_EXIF_ORIENTATION_TAG, 1)
    except FileNotFoundError:
        raise ImageReadError(f"{file}: no such file") from None
    except Image.DecompressionBombError:
        raise ImageReadError(
            f"{file}: declares far more pixels than any real image (a decompression bomb?)"
        ) from None
    except (UnidentifiedImageError, OSError, ValueError):
        height, width = read_image(file).shape[:2]  # formats pillow cannot parse
        return width, height
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


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


def _looks_truncated(data: bytes, name: str) -> bool:
    """libjpeg/libpng fill a cut-off image with grey and only warn; catch the common cases."""
    head = data[:8]
    if head[:2] == b"\xff\xd8":  # JPEG must end with EOI (allow trailing padding)
        return b"\xff\xd9" not in data[-1024:]
    if head == b"\x89PNG\r\n\x1a\n":
        return b"IEND" not in data[-64:]
    return False


def _natural_key(path: Path) -> list:
    import re

    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]
