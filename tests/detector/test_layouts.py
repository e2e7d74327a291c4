"""Every exported folder layout is recognised, opens split by split, and saves back in place."""

from __future__ import annotations

import os

import pytest

from detector.data.dataset import Annotation
from detector.errors import AnnotationError
from detector.formats.layouts import detect_layout
from detector.store import open_dataset, save_dataset
from tests.detector.exported_layouts import BUILDERS, NAMES


def _snapshot(root):
    return {
        p: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_layout_is_recognised_and_every_split_opens(tmp_path, kind):
    root = tmp_path / kind
    counts = BUILDERS[kind](root)
    before = _snapshot(root)
    layout = detect_layout(root)
    assert layout.kind == kind
    assert sorted(layout.split_names) == sorted(counts)
    for name, count in counts.items():
        dataset = open_dataset(root, split=name or None)
        assert len(dataset.images) == count, name
        assert len(dataset.objects) == count, name
        assert sorted(c.name for c in dataset.categories.values()) == NAMES
        for image_id in dataset.images:
            assert dataset.image_path(image_id).is_file()
        assert not [i for i in dataset.issues if i.severity == "error"], dataset.issues
    assert _snapshot(root) == before  # opening never writes


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_edits_are_saved_to_the_source_in_its_format(tmp_path, kind):
    root = tmp_path / kind
    counts = BUILDERS[kind](root)
    name = next(iter(counts)) or None
    dataset = open_dataset(root, split=name)
    source = dataset.annotation_path
    image_id = next(iter(dataset.images))
    category = min(dataset.categories)
    dataset.add_object_record(
        Annotation(dataset.new_object_id(), image_id, category, (30.0, 20.0, 50.0, 40.0))
    )
    saved = save_dataset(dataset)
    assert saved == source
    files_after = {p for p in root.rglob("*") if p.is_file()}
    assert not [p for p in files_after if p.name in ("annotations.json", "classes.txt")]
    again = open_dataset(root, split=name)
    assert len(again.objects) == counts[name or ""] + 1
    boxes = sorted(tuple(round(v) for v in o.box) for o in again.objects_in(image_id))
    assert (30, 20, 50, 40) in boxes


def test_several_splits_need_a_name_and_unknown_names_are_listed(tmp_path):
    BUILDERS["roboflow-coco"](tmp_path)
    with pytest.raises(AnnotationError, match="train, valid, test"):
        open_dataset(tmp_path)
    with pytest.raises(AnnotationError, match="no split 'nope'"):
        open_dataset(tmp_path, split="nope")
    assert len(open_dataset(tmp_path / "valid").images) == 2  # a split folder on its own


def test_plain_image_folder_still_gets_annotations_json(tmp_path):
    BUILDERS["cvat-coco"](tmp_path)
    folder = tmp_path / "images"
    dataset = open_dataset(folder)
    assert detect_layout(folder).kind == "images" and len(dataset.images) == 2
    assert dataset.annotation_path == folder / "annotations.json"
    assert not os.path.exists(folder / "annotations.json")


@pytest.mark.parametrize("kind", ["roboflow-coco", "yolo", "pascal-voc"])
def test_convert_and_eval_take_a_layout_folder_and_a_split(tmp_path, kind, capsys):
    import json

    from pycocotools.coco import COCO

    from main import main

    root = tmp_path / kind
    counts = BUILDERS[kind](root)
    name = [n for n in counts if n][-1]
    out = tmp_path / "out.json"
    assert main(["convert", str(root), str(out), "--split", name]) == 0
    coco = COCO(str(out))
    assert len(coco.imgs) == counts[name] and len(coco.anns) == counts[name]
    doc = json.loads(out.read_text())
    for ann in doc["annotations"]:
        ann["score"] = 0.9
    detections = tmp_path / "dets.json"
    detections.write_text(json.dumps(doc))
    capsys.readouterr()
    assert main(["eval", str(root), str(detections), "--split", name]) == 0
    assert "1.000" in capsys.readouterr().out  # the ground truth scores perfect AP
    assert main(["convert", str(root), str(tmp_path / "x.json")]) == 1  # several splits
    assert "--split" in capsys.readouterr().err
