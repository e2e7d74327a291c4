"""Issue 18 for LabelMe, VOC and YOLO: bad input is flagged or refused, exports never clobber."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from detector.data.dataset import Annotation, Category, Dataset, ImageRecord
from detector.errors import AnnotationError
from detector.formats.coco import save_coco
from detector.formats.labelme import load_labelme
from detector.formats.voc import load_voc, save_voc
from detector.formats.yolo import load_yolo, save_yolo


def labelme_doc(*shapes: dict) -> dict:
    return {"imagePath": "a.png", "imageWidth": 64, "imageHeight": 48, "shapes": list(shapes)}


def write_labelme(tmp_path: Path, doc: dict) -> Path:
    path = tmp_path / "a.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def rect(**extra) -> dict:
    return {"label": "cat", "shape_type": "rectangle", "points": [[1, 2], [11, 12]], **extra}


def png_b64(width: int, height: int) -> str:
    buffer = io.BytesIO()
    Image.new("L", (width, height), 255).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def kinds(dataset) -> set[str]:
    return {issue.kind for issue in dataset.issues}


def test_labelme_group_id_as_a_list_is_flagged_not_a_type_error(tmp_path):
    dataset = load_labelme(write_labelme(tmp_path, labelme_doc(rect(group_id=[1, 2]), rect())))
    assert len(dataset.objects) == 2
    assert "bad_group" in kinds(dataset)
    save_coco(dataset, tmp_path / "out.json", backup=False)


def test_labelme_invalid_base64_mask_keeps_the_box_and_flags(tmp_path):
    shape = {**rect(), "shape_type": "mask", "mask": "not base64!!"}
    dataset = load_labelme(write_labelme(tmp_path, labelme_doc(shape)))
    (obj,) = dataset.objects.values()
    assert obj.box == (1.0, 2.0, 11.0, 12.0) and obj.mask is None
    assert "bad_mask" in kinds(dataset)


def test_labelme_mask_declaring_a_huge_shape_is_never_decoded(tmp_path):
    # a real 200000 x 200000 PNG header: decoding it would need 37 GB
    header = io.BytesIO()
    Image.new("1", (1, 1)).save(header, format="PNG")
    data = bytearray(header.getvalue())
    data[16:24] = (200000).to_bytes(4, "big") * 2  # IHDR width, height (CRC now wrong)
    shape = {**rect(), "shape_type": "mask", "mask": base64.b64encode(bytes(data)).decode()}
    dataset = load_labelme(write_labelme(tmp_path, labelme_doc(shape)))
    assert next(iter(dataset.objects.values())).mask is None
    assert "bad_mask" in kinds(dataset)


def test_labelme_good_mask_still_decodes(tmp_path):
    shape = {**rect(), "shape_type": "mask", "mask": png_b64(10, 10)}
    dataset = load_labelme(write_labelme(tmp_path, labelme_doc(shape)))
    mask = next(iter(dataset.objects.values())).mask
    assert mask is not None and mask["size"] == [48, 64]


def test_labelme_huge_declared_image_size_is_not_trusted(tmp_path):
    doc = {**labelme_doc(rect()), "imageWidth": 200000, "imageHeight": 200000}
    dataset = load_labelme(write_labelme(tmp_path, doc))
    assert dataset.images[1].width == 0 and "unknown_size" in kinds(dataset)


def test_labelme_polygon_far_outside_keeps_only_a_clipped_box(tmp_path):
    shape = {"label": "cat", "shape_type": "polygon", "points": [[0, 0], [1e12, 0], [5, 1e12]]}
    dataset = load_labelme(write_labelme(tmp_path, labelme_doc(shape)))
    (obj,) = dataset.objects.values()
    assert obj.mask is None and obj.box == (0.0, 0.0, 128.0, 96.0)
    assert {"bad_mask", "box_clipped"} <= kinds(dataset)
    save_coco(dataset, tmp_path / "out.json", backup=False)


def image_dataset(root: Path, names: list[str], category: str = "cat") -> Dataset:
    dataset = Dataset(root=root)
    dataset.add_category_record(Category(1, category))
    for image_id, name in enumerate(names, 1):
        dataset.add_image_record(ImageRecord(id=image_id, file_name=name, width=32, height=32))
        dataset.add_object_record(Annotation(image_id, image_id, 1, (1.0, 1.0, 9.0, 9.0)))
    return dataset


def test_yolo_class_name_with_a_newline_is_refused(tmp_path):
    dataset = image_dataset(tmp_path, ["a.png"], category="big\ncat")
    with pytest.raises(AnnotationError, match="line break"):
        save_yolo(dataset, tmp_path / "labels")
    assert not (tmp_path / "labels" / "classes.txt").exists()


@pytest.mark.parametrize("name", [" cat", "", "c\x01t"])
def test_voc_refuses_names_that_do_not_survive_xml(tmp_path, name):
    dataset = image_dataset(tmp_path, ["a.png"], category=name)
    with pytest.raises(AnnotationError, match="rename it"):
        save_voc(dataset, tmp_path / "voc")


@pytest.mark.parametrize("writer", [save_voc, save_yolo])
@pytest.mark.parametrize("names", [["dup.jpg", "dup.png"], ["Dup.jpg", "dup.png"]])
def test_colliding_label_files_are_refused_and_nothing_is_written(tmp_path, writer, names):
    dataset = image_dataset(tmp_path, names)
    out = tmp_path / "out"
    with pytest.raises(AnnotationError, match="rename those images") as info:
        writer(dataset, out)
    assert names[0] in str(info.value) and names[1] in str(info.value)
    assert not out.exists() or not any(p.suffix in (".xml", ".txt") for p in out.iterdir())


def test_yolo_non_finite_and_absurd_values_are_bad_lines(tmp_path):
    images, labels = tmp_path / "images", tmp_path / "labels"
    images.mkdir()
    labels.mkdir()
    cv2.imwrite(str(images / "a.png"), np.zeros((10, 20, 3), np.uint8))
    (labels / "classes.txt").write_text("cat\n")
    lines = [
        "0 nan 0.5 0.1 0.1",
        "0 inf 0.5 0.1 0.1",
        f"{10**30} 0.5 0.5 0.1 0.1",
        "0 0.5 0.5 0.2 0.2",
    ]
    (labels / "a.txt").write_text("\n".join(lines) + "\n")
    (labels / "b.txt").write_text("0 " + " ".join(["1e5"] * 6) + "\n")
    cv2.imwrite(str(images / "b.png"), np.zeros((10, 20, 3), np.uint8))
    dataset = load_yolo(labels)
    bad = [i for i in dataset.issues if i.kind == "bad_box"]
    assert len(bad) == 3
    assert all(o.mask is None for o in dataset.objects.values())  # the far polygon dropped
    save_coco(dataset, tmp_path / "out.json", backup=False)


def test_voc_huge_size_and_far_box_are_flagged(tmp_path):
    folder = tmp_path / "voc"
    folder.mkdir()
    (folder / "a.xml").write_text(
        "<annotation><filename>a.png</filename><size><width>1e300</width>"
        "<height>10</height></size><object><name>cat</name><bndbox><xmin>1</xmin>"
        "<ymin>1</ymin><xmax>1e300</xmax><ymax>5</ymax></bndbox></object></annotation>"
    )
    dataset = load_voc(folder)
    assert {"unknown_size", "box_clipped"} <= kinds(dataset)
    save_coco(dataset, tmp_path / "out.json", backup=False)


def test_image_declaring_200000_squared_pixels_is_an_image_read_error(tmp_path):
    from detector.errors import ImageReadError
    from detector.io.images import read_image, read_image_size

    header = io.BytesIO()
    Image.new("1", (1, 1)).save(header, format="PNG")
    data = bytearray(header.getvalue())
    data[16:24] = (200000).to_bytes(4, "big") * 2
    path = tmp_path / "bomb.png"
    path.write_bytes(bytes(data))
    with pytest.raises(ImageReadError, match="bomb"):
        read_image_size(path)
    with pytest.raises(ImageReadError):
        read_image(path)


def test_labelme_nesting_past_the_limit_is_refused(tmp_path):
    nested: list = []
    for _ in range(300):
        nested = [nested]
    doc = labelme_doc(rect(flags={"deep": nested}))
    with pytest.raises(AnnotationError, match="levels deep"):
        load_labelme(write_labelme(tmp_path, doc))
