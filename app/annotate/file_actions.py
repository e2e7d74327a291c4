"""Import and export COCO / VOC / YOLO / LabelMe (recovery: app.annotate.recovery)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

IMPORTERS = ("COCO", "VOC", "YOLO", "LabelMe")
EXPORTERS = ("COCO", "VOC", "YOLO", "LabelMe")


def import_dataset(kind: str, source: Path, image_root: Path | None):
    """Load an annotation set in ``kind`` format (read only: nothing is written here).

    The first edit saves: a COCO import back into the file the user chose, any other format
    as COCO ``annotations.json`` beside the images (the source is never rewritten).
    """
    from detector.formats.coco import load_coco
    from detector.formats.labelme import load_labelme
    from detector.formats.voc import load_voc
    from detector.formats.yolo import load_yolo
    from detector.store import ANNOTATION_FILE

    loaders = {"COCO": load_coco, "VOC": load_voc, "YOLO": load_yolo, "LabelMe": load_labelme}
    dataset = loaders[kind](source, image_root=image_root)
    if kind != "COCO":
        dataset.annotation_path = dataset.root / ANNOTATION_FILE
    return dataset


def import_message(kind: str, source: Path, dataset) -> str:
    """What the status bar says after an import: what was read and where edits will go."""
    return (
        f"Imported {len(dataset.images)} images from {kind} {source}; nothing is written "
        f"until you edit, then edits are saved to {dataset.annotation_path}"
    )


def export_dataset(dataset, kind: str, target: Path, *, overwrite: bool = False) -> str:
    """Write ``dataset`` as ``kind`` to ``target`` (a .json file for COCO, else a folder)."""
    from detector.formats.coco import save_coco
    from detector.formats.voc import save_voc
    from detector.formats.yolo import save_yolo

    if kind == "COCO":
        save_coco(dataset, target)
        return f"Exported COCO to {target}"
    from detector.formats.labelme_write import save_labelme

    writer = {"VOC": save_voc, "YOLO": save_yolo, "LabelMe": save_labelme}[kind]
    target.mkdir(parents=True, exist_ok=True)
    warnings = writer(dataset, target, overwrite=overwrite)  # the writers return warnings
    message = f"Exported {len(dataset.images)} images as {kind} to {target}"
    return "; ".join([message, *warnings])


def choose_import(window, kind: str) -> None:
    start = str(window.folder or "")
    if kind == "COCO":
        source, _ = QFileDialog.getOpenFileName(window, "Import COCO", start, "COCO JSON (*.json)")
    elif kind == "LabelMe":
        source = QFileDialog.getExistingDirectory(window, "Folder of LabelMe JSON files", start)
    else:
        source = QFileDialog.getExistingDirectory(window, f"Folder of {kind} label files", start)
    if not source:
        return
    images = QFileDialog.getExistingDirectory(
        window, "Folder of the images", str(Path(source).parent)
    )
    window.import_annotations(kind, Path(source), Path(images) if images else None)


def choose_export(window, kind: str) -> None:
    if window.dataset is None:
        window.statusBar().showMessage("Open a folder first", 3000)
        return
    start = str(window.dataset.root)
    if kind == "COCO":
        target, _ = QFileDialog.getSaveFileName(
            window, "Export COCO", f"{start}/export_coco.json", "COCO JSON (*.json)"
        )
    else:
        target = QFileDialog.getExistingDirectory(window, f"Export {kind} into folder", start)
    if target:
        window.export_annotations(kind, Path(target))
