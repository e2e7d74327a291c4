"""A seeded fuzzer for every file a user can open: COCO, LabelMe, VOC, YOLO, checkpoints.

Each case builds a real-looking document from its seed, mutates it (types, bounds, deep
nesting, huge numbers, lone surrogates, truncation, byte flips) and loads it with the
product's own loader, then serialises what loaded (which runs pycocotools on every mask).
The outcome is ``loaded``, ``clean`` (the project's own error) or ``unexpected`` (any other
exception: a bug). Used by tests/detector/test_fuzz_formats.py (a few thousand cases) and
benchmarks/fuzz_formats.py (100,000 a format, in a memory-capped subprocess).
"""

from __future__ import annotations

import base64
import io
import json
import random
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMATS = ("coco", "labelme", "voc", "yolo", "checkpoint")
IMAGE_SIZES = {"a.png": (64, 48), "b.png": (40, 40)}


@dataclass
class Tally:
    """Counts of outcomes, and the first few unexpected ones (seed, error)."""

    loaded: int = 0
    clean: int = 0
    unexpected: list[tuple[int, str]] = field(default_factory=list)

    def add(self, seed: int, outcome: str, detail: str = "") -> None:
        if outcome == "loaded":
            self.loaded += 1
        elif outcome == "clean":
            self.clean += 1
        else:
            self.unexpected.append((seed, detail))


# --------------------------------------------------------------------------- mutation
HUGE_VALUES: list[Any] = [
    10**400, -(10**400), 2**32, 2**63, 2**64, 1e308, -1e300, 1e15 + 1, 1e20, -1, 0, 0.5,
    float("nan"), float("inf"), float("-inf"), True, None, "", "1", "0.9", "\ud800",
    "x\ndup", [], {}, [1], {"a": 1}, "é" * 200, 100000, 200000, 3e9,
]  # fmt: skip


def mutate_value(rng: random.Random, value: Any) -> Any:
    """One mutation of a parsed JSON value (recursing into a random child)."""
    if isinstance(value, dict) and value and rng.random() < 0.7:
        key = rng.choice(list(value))
        out = dict(value)
        roll = rng.random()
        if roll < 0.1:
            del out[key]
        elif roll < 0.15:
            out[key + "\ud800" if rng.random() < 0.5 else key + "_x"] = out[key]
        else:
            out[key] = mutate_value(rng, value[key])
        return out
    if isinstance(value, list) and value and rng.random() < 0.7:
        index = rng.randrange(len(value))
        out = list(value)
        roll = rng.random()
        if roll < 0.1:
            out.pop(index)
        elif roll < 0.2:
            out.append(out[index])  # duplicate entry
        else:
            out[index] = mutate_value(rng, value[index])
        return out
    roll = rng.random()
    if roll < 0.6:
        return rng.choice(HUGE_VALUES)
    if roll < 0.7:
        for _ in range(rng.choice([70, 500, 5000])):
            value = [value]
        return value
    if roll < 0.8 and type(value) in (int, float) and abs(value) < 1e300:
        return value * rng.choice([1e6, -1e9, 1e12, 1e300])
    if roll < 0.9:
        return rng.choice([1, 1.5, "s", None, [0, 0, 1e12, 0, 1e12, 1e12], {"counts": "0"}])
    return value


def mutate_text(rng: random.Random, data: bytes) -> bytes:
    """Byte-level mutations: truncation, flips, long digit runs, surrogate escapes."""
    roll = rng.random()
    if roll < 0.3 and data:
        return data[: rng.randrange(len(data))]
    if roll < 0.5 and data:
        at = rng.randrange(len(data))
        return data[:at] + bytes([rng.randrange(256)]) + data[at + 1 :]
    digits = [i for i, b in enumerate(data) if 48 <= b <= 57]
    if roll < 0.7 and digits:
        at = rng.choice(digits)
        return data[:at] + b"9" * rng.choice([400, 5000]) + data[at:]
    if roll < 0.8 and digits:
        at = rng.choice(digits)
        return data[:at] + rng.choice([b"-", b"1e309", b"nan", b"inf", b"0x"]) + data[at + 1 :]
    if roll < 0.9:
        at = rng.randrange(len(data) + 1)
        return data[:at] + rng.choice([b"\\ud800", b"\xff\xfe", b"\x00", b"\n", b"["]) + data[at:]
    return data


def mutated_json(rng: random.Random, doc: Any) -> bytes:
    for _ in range(rng.choice([1, 1, 2, 3])):
        doc = mutate_value(rng, doc)
    try:
        data = json.dumps(doc).encode("utf-8")  # ensure_ascii: surrogates become escapes
    except (ValueError, RecursionError):
        data = b"[" * 5000
    return mutate_text(rng, data) if rng.random() < 0.3 else data


# --------------------------------------------------------------------------- base documents
def coco_doc(rng: random.Random) -> dict:
    import numpy as np
    from pycocotools import mask as mask_utils

    images, annotations = [], []
    for image_id, (name, (w, h)) in enumerate(IMAGE_SIZES.items(), 1):
        images.append({"id": image_id, "file_name": name, "width": w, "height": h})
        for _ in range(rng.randrange(4)):
            x, y = rng.uniform(0, w / 2), rng.uniform(0, h / 2)
            ann = {"id": len(annotations) + 1, "image_id": image_id, "category_id": 1,
                   "bbox": [x, y, 10, 8], "iscrowd": 0, "area": 80.0,
                   "segmentation": [[x, y, x + 10, y, x + 10, y + 8]]}  # fmt: skip
            kind = rng.random()
            if kind < 0.25:
                mask = np.zeros((h, w), np.uint8, order="F")
                mask[int(y) : int(y) + 8, int(x) : int(x) + 10] = 1
                rle = mask_utils.encode(mask)
                ann["segmentation"] = {"size": [h, w], "counts": rle["counts"].decode()}
            elif kind < 0.4:
                ann["segmentation"] = {"size": [h, w], "counts": [w * h - 5, 5]}
                ann["iscrowd"] = 1
            if rng.random() < 0.2:
                ann["score"] = rng.random()
            annotations.append(ann)
    categories = [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog", "supercategory": "x"}]
    return {"info": {"year": 2024}, "images": images, "annotations": annotations,
            "categories": categories}  # fmt: skip


def _png_b64(w: int, h: int) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (w, h), 255).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def labelme_doc(rng: random.Random) -> dict:
    shapes = [
        {"label": "cat", "shape_type": "rectangle", "points": [[1, 2], [20, 30]], "group_id": None},
        {"label": "dog", "shape_type": "polygon", "points": [[5, 5], [30, 5], [20, 25]],
         "group_id": 1, "flags": {}},
        {"label": "dog", "shape_type": "circle", "points": [[30, 30], [35, 30]], "group_id": 1},
        {"label": "cat", "shape_type": "mask", "points": [[2, 2], [12, 12]],
         "mask": _png_b64(10, 10)},
        {"label": "x", "shape_type": "line", "points": [[0, 0], [5, 5]]},
    ]  # fmt: skip
    rng.shuffle(shapes)
    return {"version": "5.4.1", "imagePath": "a.png", "imageWidth": 64, "imageHeight": 48,
            "shapes": shapes[: rng.randrange(1, 6)], "flags": {}}  # fmt: skip


def voc_xml(rng: random.Random) -> bytes:
    objects = "".join(
        f"<object><name>{rng.choice(['cat', 'dog'])}</name><difficult>0</difficult><bndbox>"
        f"<xmin>{rng.randrange(1, 20)}</xmin><ymin>{rng.randrange(1, 20)}</ymin>"
        f"<xmax>{rng.randrange(21, 64)}</xmax><ymax>{rng.randrange(21, 48)}</ymax></bndbox>"
        "</object>"
        for _ in range(rng.randrange(1, 4))
    )
    text = (
        "<annotation><folder>x</folder><filename>a.png</filename><size><width>64</width>"
        f"<height>48</height><depth>3</depth></size>{objects}</annotation>"
    )
    data = text.encode()
    if rng.random() < 0.1:
        data = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "eeeeeeeeee">]>' + data
    if rng.random() < 0.05:
        data = data.replace(b"<folder>", b"<folder>" + b"<x>" * 3000, 1)
    return data


def voc_mutated(rng: random.Random) -> bytes:
    data = voc_xml(rng)
    for _ in range(rng.choice([1, 2, 3])):
        data = mutate_text(rng, data)
    return data


def yolo_lines(rng: random.Random) -> bytes:
    lines = [
        f"{rng.randrange(2)} {rng.random():.4f} {rng.random():.4f} {rng.random():.3f} "
        f"{rng.random():.3f}" + (f" {rng.random():.3f}" if rng.random() < 0.2 else "")
        for _ in range(rng.randrange(1, 5))
    ]
    if rng.random() < 0.3:
        lines.append("1 " + " ".join(f"{rng.random():.3f}" for _ in range(8)))
    data = ("\n".join(lines) + "\n").encode()
    for _ in range(rng.choice([1, 2, 3])):
        data = mutate_text(rng, data)
    return data


# --------------------------------------------------------------------------- running cases
def run_case(fmt: str, seed: int, workdir: Path) -> tuple[str, str]:
    """Build, mutate, load and re-serialise case ``seed`` of ``fmt``; (outcome, detail)."""
    from detector.errors import DetScopeError

    rng = random.Random(f"{fmt}-{seed}")
    try:
        dataset = LOADERS[fmt](rng, workdir)
        if dataset is not None:
            from detector.formats.coco import coco_bytes

            coco_bytes(dataset)
    except DetScopeError:
        return "clean", ""
    except Exception as exc:  # noqa: BLE001 - exactly what the fuzzer is looking for
        line = traceback.format_exc().strip().splitlines()[-3:]
        return "unexpected", f"{type(exc).__name__}: {str(exc)[:200]} | {' | '.join(line)}"
    return "loaded", ""


def prepare_workdir(workdir: Path) -> None:
    """The images every case refers to (real PNGs, so sizes can be read from them)."""
    import numpy as np
    from PIL import Image

    for folder in (workdir, workdir / "images"):
        folder.mkdir(parents=True, exist_ok=True)
        for name, (w, h) in IMAGE_SIZES.items():
            Image.fromarray(np.zeros((h, w, 3), np.uint8)).save(folder / name)
    (workdir / "labels").mkdir(exist_ok=True)


def _load_coco(rng: random.Random, workdir: Path):
    from detector.formats.coco import load_coco

    path = workdir / "case.json"
    path.write_bytes(mutated_json(rng, coco_doc(rng)))
    return load_coco(path)


def _load_labelme(rng: random.Random, workdir: Path):
    from detector.formats.labelme import load_labelme

    path = workdir / "case_labelme.json"
    path.write_bytes(mutated_json(rng, labelme_doc(rng)))
    return load_labelme(path, image_root=workdir)


def _load_voc(rng: random.Random, workdir: Path):
    from detector.formats.voc import load_voc

    folder = workdir / "voc"
    folder.mkdir(exist_ok=True)
    (folder / "a.xml").write_bytes(voc_mutated(rng))
    return load_voc(folder, image_root=workdir)


def _load_yolo(rng: random.Random, workdir: Path):
    from detector.formats.yolo import load_yolo

    labels = workdir / "labels"
    classes = b"cat\ndog\n"
    roll = rng.random()
    if roll < 0.1:  # class lists that must be refused: a gap shifts ids, a name twice
        classes = rng.choice([b"cat\n\ndog\n", b"cat\ncat\n", b"\n\ncat\n"])
    elif roll < 0.4:
        classes = mutate_text(rng, classes)
    (labels / "classes.txt").write_bytes(classes)
    (labels / "a.txt").write_bytes(yolo_lines(rng))
    return load_yolo(labels)


def _load_checkpoint(rng: random.Random, workdir: Path):
    from tests.fuzz_checkpoints import load_mutated_checkpoint

    load_mutated_checkpoint(rng, workdir)
    return None


LOADERS = {
    "coco": _load_coco,
    "labelme": _load_labelme,
    "voc": _load_voc,
    "yolo": _load_yolo,
    "checkpoint": _load_checkpoint,
}


def fuzz(fmt: str, seeds: range, workdir: Path) -> Tally:
    prepare_workdir(workdir)
    tally = Tally()
    for seed in seeds:
        outcome, detail = run_case(fmt, seed, workdir)
        tally.add(seed, outcome, detail)
    return tally
