"""Wires the Model dock to the model controller, the weights downloader and the status bar.

Kept out of the main window (a coordinator of docks): ``connect_model_dock(window)`` is
its one line. The weights list (which imports torchvision) and downloads run in the
window's worker pool; a download is a generator job, so Cancel closes it and
:func:`detector.models.weights.iter_download` removes its temp file.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel

from app.workers import describe_error
from detector.models.spec import ModelChoice, model_label, parse_model_spec

MIRROR_KEY = "weights_mirror"
DOWNLOAD_KEY = "weights.download"


class ModelLink(QObject):
    """Runs downloads (pool key ``weights.download``) and keeps dock, controller and status in
    step."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        dock, models = window.model_dock, window.models
        from app.settings import settings

        dock.mirror_edit.setText(str(settings().value(MIRROR_KEY, "") or ""))
        dock.mirror_edit.editingFinished.connect(self._store_mirror)
        dock.download_requested.connect(self.download)
        dock.cancel_requested.connect(self.cancel_download)
        models.model_loaded.connect(self._on_loaded)
        models.load_failed.connect(self._on_load_failed)
        models.architecture_needed.connect(self._on_architecture_needed)
        # torchvision's weights enums need torch: listed when the dock is first on screen or
        # a model has loaded (torch is in then anyway), never at startup
        self._weights_listed = False
        dock.visibilityChanged.connect(lambda visible: visible and self._list_weights())
        models.model_loaded.connect(lambda _model: self._list_weights())
        dock.adopt_names_requested.connect(self.adopt_dataset_names)
        window.state.dataset_opened.connect(lambda _d: self._offer_names())
        self.canvas_badge = QLabel("Random-init model: its detections mean nothing", window.canvas)
        self.canvas_badge.setObjectName("UntrainedBadge")
        self.canvas_badge.setStyleSheet(
            "background: rgba(179, 92, 0, 210); color: white; padding: 3px 6px; font-weight: bold;"
        )
        self.canvas_badge.move(8, 8)
        self.canvas_badge.adjustSize()
        self.canvas_badge.hide()

    def _list_weights(self) -> None:
        if not self._weights_listed:
            self._weights_listed = True
            self.window.models.list_weights(self.window.model_dock.set_weight_entries)

    # ----- loads ----------------------------------------------------------------------------
    def _on_loaded(self, model) -> None:
        self.canvas_badge.setVisible(not getattr(model, "trained", True))
        self._offer_names()
        spec, device = self.window.models.choice
        self.window.model_dock.show_loaded(spec, device, model.architecture)

    def _on_load_failed(self, message: str, failed_spec: str) -> None:
        """Restore the previous selection and status; say which model Ctrl+R still runs."""
        window, models = self.window, self.window.models
        spec, device = models.choice
        window.model_dock.set_choice(spec, device)
        failed = parse_model_spec(failed_spec).label()
        if models.model is not None:
            current = f"{model_label(models.model)} on {models.model.device}"
            window.status.model_label.setText(current)
            window.statusBar().showMessage(
                f"Could not load {failed}; Detect still runs {current}.", 15000
            )
        else:
            window.status.model_label.setText(f"model: not loaded ({failed} failed)")

    def _on_architecture_needed(self, path: str, candidates: list) -> None:
        spec, device = self.window.models.choice
        self.window.model_dock.set_choice(spec, device)
        self.window.model_dock.ask_architecture(path, list(candidates))
        self.window.model_dock.raise_()

    # ----- class names confirmed against the dataset -------------------------------------
    def _dataset_names_for(self, model) -> list[str] | None:
        """The open dataset's names (id order) when they can name ``model``'s ``class_N``."""
        dataset = self.window.state.dataset
        if model is None or dataset is None or not Path(str(model.source)).is_file():
            return None
        unnamed = [f"class_{i}" for i in range(1, model.num_classes)]
        names = [dataset.categories[i].name for i in sorted(dataset.categories)]
        return names if model.categories[1:] == unnamed and len(names) == len(unnamed) else None

    def _offer_names(self) -> None:
        model = self.window.models.model
        self.window.model_dock.names_button.setVisible(self._dataset_names_for(model) is not None)

    def adopt_dataset_names(self) -> None:
        """Write ``<checkpoint>.json`` with the dataset's names, then load the file again."""
        from detector.errors import DetScopeError
        from detector.models.sidecars import write_sidecar

        models = self.window.models
        names = self._dataset_names_for(models.model)
        if names is None:
            return
        try:
            write_sidecar(Path(models.model.source), models.model.architecture, names)
        except (OSError, DetScopeError) as exc:
            self.window.show_error("Cannot save class names", str(exc))
            return
        self.window.model_dock.names_button.hide()
        models.load(*models.choice)

    # ----- downloads ------------------------------------------------------------------------
    def download(self, architecture: str, weights_name: str, mirror: str) -> None:
        from detector.models.weights import find_weights, iter_download

        dock = self.window.model_dock
        entry = find_weights(architecture, weights_name)
        self.window.pool.start(
            iter_download,
            entry,
            mirror=mirror.strip() or None,
            key=DOWNLOAD_KEY,
            on_progress=dock.show_download_progress,
            on_returned=lambda _path, e=entry: self._downloaded(e),
            on_errored=lambda exc: self._download_failed(describe_error(exc)),
        )

    def cancel_download(self) -> None:
        self.window.pool.cancel(DOWNLOAD_KEY)  # the generator closes: its temp file goes
        dock = self.window.model_dock
        dock.download_finished()
        dock.set_info("Download cancelled; nothing was saved.", True)

    def _downloaded(self, entry) -> None:
        dock = self.window.model_dock
        dock.download_finished()
        dock.arch_combo.setCurrentText(entry.architecture)
        dock.request(ModelChoice(entry.architecture, entry.name))

    def _download_failed(self, message: str) -> None:
        self.window.model_dock.download_finished()
        self.window.model_dock.set_info(message, True)
        self.window.show_error("Download failed", message)

    def _store_mirror(self) -> None:
        from app.settings import settings

        settings().setValue(MIRROR_KEY, self.window.model_dock.mirror_edit.text().strip())


def connect_model_dock(window) -> ModelLink:
    window.model_link = ModelLink(window)
    return window.model_link
