"""A corpus of real photographs for tests: scikit-image's bundled samples (astronaut, coffee,
chelsea, rocket, camera), written at several sizes, EXIF orientations and formats.

Nothing is shipped in the repository: ``write_corpus(folder)`` writes the files from the
``scikit-image`` package (a dev dependency) and returns what each should decode to.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Photo:
    """A written file and the oriented H x W x 3 RGB it must decode to (``lossy``: JPEG/WebP,
    compare loosely)."""

    path: Path
    expected: np.ndarray
    lossy: bool


def sample(name: str) -> np.ndarray:
    """H x W x 3 uint8 RGB of a scikit-image sample (grayscale ones repeated to 3 channels)."""
    import skimage.data

    image = getattr(skimage.data, name)()
    return np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image


_ROTATE = {  # EXIF orientation -> what a viewer shows, from the stored pixels
    1: lambda a: a,
    3: lambda a: np.rot90(a, 2),
    6: lambda a: np.rot90(a, -1),
    8: lambda a: np.rot90(a, 1),
}


def write_corpus(folder: Path) -> list[Photo]:
    """Write the corpus into ``folder``; returns every file with its expected pixels."""
    folder.mkdir(parents=True, exist_ok=True)
    photos = []
    astronaut, coffee, chelsea, rocket = (
        sample(n) for n in ("astronaut", "coffee", "chelsea", "rocket")
    )
    for orientation in (1, 3, 6, 8):  # stored sideways / upside down, shown upright by its tag
        path = folder / f"coffee_o{orientation}.jpg"
        _save_with_orientation(coffee, path, orientation)
        photos.append(Photo(path, coffee, True))
    big = cv2.resize(astronaut, (1536, 1536), interpolation=cv2.INTER_CUBIC)
    small = cv2.resize(chelsea, (113, 75), interpolation=cv2.INTER_AREA)
    for image, name in ((big, "astronaut_1536"), (small, "chelsea_small"), (rocket, "rocket")):
        for suffix in (".png", ".tiff", ".bmp"):
            path = folder / f"{name}{suffix}"
            cv2.imwrite(str(path), image[..., ::-1])
            photos.append(Photo(path, image, False))
    path = folder / "chelsea.webp"
    cv2.imwrite(str(path), chelsea[..., ::-1], [cv2.IMWRITE_WEBP_QUALITY, 90])
    photos.append(Photo(path, chelsea, True))
    camera = sample("camera")
    path = folder / "camera_gray.png"
    cv2.imwrite(str(path), camera[..., 0])
    photos.append(Photo(path, camera, False))
    path = folder / "rocket_16bit.png"
    cv2.imwrite(str(path), rocket[..., ::-1].astype(np.uint16) * 257)
    photos.append(Photo(path, rocket, False))
    return photos


def _save_with_orientation(image: np.ndarray, path: Path, orientation: int) -> None:
    """Store the pixels that, rotated by ``orientation``, show ``image``."""
    undo = {1: 1, 3: 3, 6: 8, 8: 6}[orientation]
    stored = Image.fromarray(np.ascontiguousarray(_ROTATE[undo](image)))
    exif = stored.getexif()
    exif[0x0112] = orientation
    stored.save(path, quality=95, exif=exif.tobytes())
