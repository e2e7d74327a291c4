"""COCO JSON import and export.

Import accepts what real exporters write: category ids from 0, sparse or unsorted; bbox
``[x, y, w, h]`` in pixels; segmentation as polygons, compressed RLE (``counts`` str) or
uncompressed RLE (``counts`` list, crowd regions); empty ``segmentation`` lists; images
with no annotations. Fields DetScope does not use (``info``, ``licenses``, ``attributes``,
extra keys on images/categories/annotations) are kept and written back. Problems in the
data are flagged in ``dataset.issues`` (see :mod:`detector.data.issues`), not fatal.

Export (``to_coco_dict``, ``save_coco``, ``coco_bytes``) lives in :mod:`.coco_write`, the
one place every COCO document DetScope writes is built; they are re-exported here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from detector.data.dataset import Dataset
from detector.data.issues import box_issues
from detector.data.masks import decode_rle_counts as decode_rle_counts  # re-exported
from detector.data.masks import mask_area as mask_area  # re-exported
from detector.data.masks import rle_from_binary_mask as rle_from_binary_mask  # re-exported
from detector.errors import AnnotationError
from detector.formats.coco_reader import ANNOTATION_KEYS as ANNOTATION_KEYS  # re-exported
from detector.formats.coco_reader import CATEGORY_KEYS as CATEGORY_KEYS  # re-exported
from detector.formats.coco_reader import IMAGE_KEYS as IMAGE_KEYS  # re-exported
from detector.formats.coco_reader import Reader
from detector.formats.coco_write import coco_bytes as coco_bytes  # re-exported
from detector.formats.coco_write import dumps_in_chunks as dumps_in_chunks  # re-exported
from detector.formats.coco_write import paused_gc
from detector.formats.coco_write import save_coco as save_coco  # re-exported
from detector.formats.coco_write import to_coco_dict as to_coco_dict  # re-exported
from detector.io.documents import parse_json, read_bytes


# --------------------------------------------------------------------------- import
def load_coco(path: str | os.PathLike, *, image_root: str | os.PathLike | None = None) -> Dataset:
    """Read a COCO JSON file; ``image_root`` (default: the file's folder) resolves file names."""
    from detector.io.files import state_of

    file = Path(path)
    try:
        stat_before = file.stat()  # before reading: a change during the read is noticed later
    except OSError:
        stat_before = None
    data = read_bytes(file)
    root = file.parent if image_root is None else Path(image_root)
    with paused_gc():
        doc = parse_json(data, file=file)
        dataset = from_coco_dict(doc, image_root=root, file=file)
    dataset.annotation_path = file
    dataset.file_state = state_of(file, stat_before, data)
    return dataset


def from_coco_dict(
    doc: Any, *, image_root: str | os.PathLike = ".", file: str | os.PathLike | None = None
) -> Dataset:
    """Build a Dataset from a parsed COCO document (not modified)."""
    if not isinstance(doc, dict):
        raise AnnotationError(
            f"not a COCO file: the top level is a {type(doc).__name__}, "
            "expected an object with 'images'",
            file=file,
        )
    if "shapes" in doc and "images" not in doc:
        raise AnnotationError("this is a LabelMe file, not COCO; use --from labelme", file=file)
    if not isinstance(doc.get("images"), list):
        raise AnnotationError("not a COCO file: no 'images' list", file=file)
    for key in ("annotations", "categories"):
        if not isinstance(doc.get(key, []), list):
            raise AnnotationError(f"'{key}' must be a list", file=file)
    reader = Reader(Dataset(root=Path(image_root)), None if file is None else str(file))
    reader.dataset.extra = {
        k: v for k, v in doc.items() if k not in ("images", "annotations", "categories")
    }
    reader.check_kept(reader.dataset.extra, "top level")
    reader.read_images(doc["images"])
    reader.read_categories(doc.get("categories", []))
    reader.read_annotations(doc.get("annotations", []))
    reader.dataset.issues += box_issues(reader.dataset, reader.file)
    return reader.dataset
