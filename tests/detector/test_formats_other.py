"""VOC, YOLO and LabelMe formats, and the convert command."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from detector.data.dataset import Annotation, Category, Dataset, ImageRecord
from detector.errors import AnnotationError
from detector.formats.labelme import load_labelme
from detector.formats.voc import load_voc, save_voc
from detector.formats.yolo import load_yolo, save_yolo


def make_images(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (width, height) in {"a.png": (64, 48), "b.png": (32, 32), "c.png": (20, 10)}.items():
        cv2.imwrite(str(folder / name), np.zeros((height, width, 3), np.uint8))
    return folder


def sample_dataset(root: Path) -> Dataset:
    dataset = Dataset(root=root)
    for image_id, (name, w, h) in enumerate(
        [("a.png", 64, 48), ("b.png", 32, 32), ("c.png", 20, 10)], 1
    ):
        dataset.add_image_record(ImageRecord(id=image_id, file_name=name, width=w, height=h))
    dataset.add_category_record(Category(1, "zebra"))
    dataset.add_category_record(Category(2, "ant"))
    dataset.add_object_record(
        Annotation(
            id=1, image_id=1, category_id=1, box=(0.0, 0.0, 10.0, 20.0), extra={"difficult": 1}
        )
    )
    dataset.add_object_record(
        Annotation(id=2, image_id=1, category_id=2, box=(12.0, 3.0, 64.0, 48.0))
    )
    dataset.add_object_record(Annotation(id=3, image_id=2, category_id=2, box=(4.0, 4.0, 8.0, 9.0)))
    return dataset


def boxes_by_name(dataset: Dataset) -> list:
    return sorted(
        (
            dataset.images[a.image_id].file_name,
            dataset.categories[a.category_id].name,
            tuple(round(v, 3) for v in a.box),
        )
        for a in dataset.objects.values()
    )


def test_voc_round_trip_with_one_based_pixels_and_difficult(tmp_path):
    images = make_images(tmp_path / "images")
    dataset = sample_dataset(images)
    assert save_voc(dataset, tmp_path / "voc") == []
    xml = (tmp_path / "voc" / "a.xml").read_text()
    assert "<xmin>1</xmin>" in xml and "<xmax>10</xmax>" in xml  # x1=0 -> xmin=1 (1-based)
    assert "<difficult>1</difficult>" in xml
    back = load_voc(tmp_path / "voc", image_root=images)
    assert boxes_by_name(back) == boxes_by_name(dataset)
    difficult = [a.extra["difficult"] for a in back.objects.values() if a.box[0] == 0.0]
    assert difficult == [1] and len(back.images) == 3


def test_voc_refuses_to_overwrite_and_reports_bad_xml(tmp_path):
    dataset = sample_dataset(make_images(tmp_path / "images"))
    save_voc(dataset, tmp_path / "voc")
    with pytest.raises(AnnotationError, match="refusing to overwrite"):
        save_voc(dataset, tmp_path / "voc")
    (tmp_path / "voc" / "b.xml").write_text("<annotation><object></annotation>")
    with pytest.raises(AnnotationError, match=r"b\.xml: line 1, column \d+: invalid XML"):
        load_voc(tmp_path / "voc")
    (tmp_path / "voc" / "b.xml").write_text('{"images": []}')
    with pytest.raises(AnnotationError, match="JSON file, not VOC"):
        load_voc(tmp_path / "voc")


def test_output_names_never_escape_the_chosen_folder(tmp_path):
    dataset = sample_dataset(make_images(tmp_path / "images"))
    dataset.images[3] = ImageRecord(id=3, file_name="../../evil.png", width=20, height=10)
    save_voc(dataset, tmp_path / "out")
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.xml"))
    assert written == ["out/a.xml", "out/b.xml", "out/evil.xml"]


def test_yolo_round_trip_keeps_class_order(tmp_path):
    images = make_images(tmp_path / "images")
    dataset = sample_dataset(images)
    save_yolo(dataset, tmp_path / "labels")
    assert (tmp_path / "labels" / "classes.txt").read_text() == "zebra\nant\n"
    first = (tmp_path / "labels" / "a.txt").read_text().splitlines()[0]
    assert first == "0 0.078125 0.208333 0.156250 0.416667"
    assert (tmp_path / "labels" / "c.txt").read_text() == ""  # annotated, no objects
    back = load_yolo(tmp_path / "labels")  # images/ beside labels/ is found
    assert [c.name for c in back.categories.values()] == ["zebra", "ant"]
    assert boxes_by_name(back) == boxes_by_name(dataset)


def test_yolo_refuses_a_different_class_list(tmp_path):
    dataset = sample_dataset(make_images(tmp_path / "images"))
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "classes.txt").write_text("ant\nzebra\n")
    with pytest.raises(AnnotationError, match="different class list"):
        save_yolo(dataset, tmp_path / "labels")
    assert (tmp_path / "labels" / "classes.txt").read_text() == "ant\nzebra\n"


def test_yolo_bad_classes_and_lines_are_reported(tmp_path):
    make_images(tmp_path / "images")
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "classes.txt").write_text("cat\n\ndog\n")
    with pytest.raises(AnnotationError, match="line 2: blank line"):
        load_yolo(labels)
    (labels / "classes.txt").write_text("cat\n")
    (labels / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n3 0.5 0.5 0.1 0.1\nnot a box\n")
    (labels / "orphan.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    dataset = load_yolo(labels)
    kinds = sorted(i.kind for i in dataset.issues)
    assert kinds == ["bad_box", "orphan", "unknown_category"]
    assert len(dataset.objects) == 2


def test_yolo_reads_data_yaml_names(tmp_path):
    make_images(tmp_path / "images")
    labels = tmp_path / "labels"
    labels.mkdir()
    (tmp_path / "data.yaml").write_text("path: .\nnames:\n  0: person\n  1: bicycle\n")
    (labels / "a.txt").write_text("1 0.5 0.5 0.5 0.5\n")
    dataset = load_yolo(labels)
    assert [c.name for c in dataset.categories.values()] == ["person", "bicycle"]
    assert dataset.categories[next(iter(dataset.objects.values())).category_id].name == "bicycle"


def labelme_doc(shapes: list, image: str = "a.png") -> dict:
    return {
        "version": "5.4.1",
        "flags": {},
        "shapes": shapes,
        "imagePath": image,
        "imageData": None,
        "imageHeight": 48,
        "imageWidth": 64,
    }


def shape(label: str, points: list, kind: str = "polygon", group: int | None = None) -> dict:
    return {"label": label, "points": points, "group_id": group, "shape_type": kind, "flags": {}}


def test_labelme_groups_rectangles_circles_and_skips_lines(tmp_path):
    make_images(tmp_path)
    shapes = [
        shape("car", [[1, 1], [10, 1], [10, 8]], group=4),
        shape("car", [[20, 20], [30, 20], [30, 30]], group=4),
        shape("person", [[40, 5], [50, 25]], kind="rectangle"),
        shape("ball", [[10, 30], [14, 30]], kind="circle"),
        shape("edge", [[0, 0], [5, 5]], kind="line"),
    ]
    (tmp_path / "a.json").write_text(json.dumps(labelme_doc(shapes)))
    dataset = load_labelme(tmp_path)
    by_label = {dataset.categories[a.category_id].name: a for a in dataset.objects.values()}
    assert set(by_label) == {"car", "person", "ball"}
    assert by_label["car"].box == (1.0, 1.0, 30.0, 30.0) and len(by_label["car"].mask) == 2
    assert by_label["person"].box == (40.0, 5.0, 50.0, 25.0) and by_label["person"].mask is None
    assert by_label["ball"].box == pytest.approx((6.0, 26.0, 14.0, 34.0))
    assert [i.kind for i in dataset.issues] == ["skipped_shape"]
    assert dataset.images[1].file_name == "a.png"


def test_labelme_rejects_coco_and_bad_json(tmp_path):
    (tmp_path / "x.json").write_text('{"images": []}')
    with pytest.raises(AnnotationError, match="looks like COCO"):
        load_labelme(tmp_path / "x.json")
    (tmp_path / "x.json").write_text('{"shapes": [\n  {"label": }]}')
    with pytest.raises(AnnotationError, match="line 2, column 13"):
        load_labelme(tmp_path / "x.json")


# --------------------------------------------------------------------------- CLI
def run_cli(*argv: str) -> int:
    from main import main

    return main(["convert", *map(str, argv)])


def test_convert_cli_between_all_formats(tmp_path, capsys):
    images = make_images(tmp_path / "images")
    labelme = tmp_path / "labelme"
    labelme.mkdir()
    doc = labelme_doc([shape("car", [[1, 1], [10, 1], [10, 8]])], image="../images/a.png")
    (labelme / "a.json").write_text(json.dumps(doc))
    assert run_cli(labelme, tmp_path / "one.json", "--images", images) == 0
    assert run_cli(tmp_path / "one.json", tmp_path / "voc", "--images", images) == 0
    assert run_cli(tmp_path / "voc", tmp_path / "labels", "--images", images) == 0
    assert run_cli(tmp_path / "labels", tmp_path / "two.json", "--images", images) == 0
    one = json.loads((tmp_path / "one.json").read_text())
    two = json.loads((tmp_path / "two.json").read_text())
    assert one["images"][0]["file_name"] == "a.png"
    assert len(two["annotations"]) == len(one["annotations"]) == 1
    # the mask now travels (VOC PNG, YOLO-seg polygon): the box follows the mask's pixel
    # extent, as COCO boxes do, and the mask survives
    from pycocotools import mask as mask_utils

    rle = mask_utils.merge(mask_utils.frPyObjects(one["annotations"][0]["segmentation"], 48, 64))
    assert two["annotations"][0]["bbox"] == pytest.approx(list(mask_utils.toBbox(rle)), abs=1e-4)
    back = mask_utils.merge(mask_utils.frPyObjects(two["annotations"][0]["segmentation"], 48, 64))
    assert mask_utils.iou([back], [rle], [0])[0][0] >= 0.9
    assert "labelme -> coco" in capsys.readouterr().out


def test_convert_cli_errors_are_messages_not_tracebacks(tmp_path, capsys):
    (tmp_path / "bad.json").write_text("{oops")
    assert run_cli(tmp_path / "bad.json", tmp_path / "out.json") == 1
    assert "bad.json: line 1, column 2: invalid JSON" in capsys.readouterr().err
    assert run_cli(tmp_path / "missing", tmp_path / "out.json") == 1
    (tmp_path / "ok.json").write_text('{"images": [], "annotations": [], "categories": []}')
    assert run_cli(tmp_path / "ok.json", tmp_path / "somewhere") == 1
    assert "use --to" in capsys.readouterr().err
    (tmp_path / "out.json").write_text("{}")
    assert run_cli(tmp_path / "ok.json", tmp_path / "out.json") == 1
    assert "refusing to overwrite" in capsys.readouterr().err
