"""Model-assisted labelling: detect this image or all images, predictions into the dataset.

Predictions never become ground truth by themselves: they live in ``dataset.predictions``
(not saved) until the user accepts them (an undoable edit that keeps score and mask).
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from app.annotate.predictions import category_ids, detect_all_job, to_annotations


class ModelAssist(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.detect_all_worker = None
        self._sink: dict = {}
        self._detect_when_shown = False

    # ----- one image ---------------------------------------------------------------------
    def detect_current(self) -> None:
        window = self.window
        image = window.current_image()
        if image is None or window.current_image_id is None:
            window.statusBar().showMessage("Open an image first", 3000)
            return
        window.statusBar().showMessage("Detecting…")
        window.models.detect(window.current_image_id, image)

    def detect_when_ready(self) -> None:
        if self.window.current_image() is not None:
            self.detect_current()
        else:
            self._detect_when_shown = True

    def image_shown(self) -> None:
        if self._detect_when_shown:
            self._detect_when_shown = False
            self.detect_current()

    def image_failed(self) -> None:
        self._detect_when_shown = False

    def on_detections(self, token, detections, seconds: float, rles) -> None:
        window, image_id = self.window, int(token)
        window.detections[image_id] = detections
        self.store(image_id, detections, rles)
        window.predictions_dock.raise_()  # where the new predictions are accepted or rejected
        model = window.models.model
        from detector.models.spec import model_label

        window.statusBar().showMessage(
            f"{len(detections)} detections in {seconds * 1000:.0f} ms by {model_label(model)} "
            f"on {model.device}",
            8000,
        )

    def store(self, image_id: int, detections, rles) -> None:
        window = self.window
        if window.dataset is None or image_id not in window.dataset.images:
            return
        ids = category_ids(window.dataset, window.models.model.categories, window.prediction_names)
        window.set_predictions(image_id, to_annotations(detections, rles, image_id, ids))

    # ----- all images --------------------------------------------------------------------
    def detect_all(self) -> None:
        window = self.window
        if window.dataset is None or self.detect_all_worker is not None:
            return
        if window.models.model is None:
            window.models.ensure_loaded()
            window.statusBar().showMessage("Loading the model; press Detect all again", 5000)
            return
        files = [(i, window.dataset.image_path(i)) for i in window.images]
        self._sink = {}
        dock = window.predictions_dock
        dock.set_progress(0, len(files), "starting")
        self.detect_all_worker = window.pool.start(
            detect_all_job,
            window.models.model,
            files,
            self._sink,
            on_progress=self._progress,
            on_finished=lambda _n: self._done("Detected all images"),
            on_failed=lambda message: self._done(f"Detect all failed: {message}", error=True),
        )

    def cancel(self) -> None:
        if self.detect_all_worker is not None:
            self.detect_all_worker.cancel()
            self._done("Detect all cancelled")

    def _progress(self, done: int, total: int, message: str) -> None:
        self._drain()
        self.window.predictions_dock.set_progress(done, total, message)

    def _drain(self) -> None:
        for image_id in list(self._sink):
            result = self._sink.pop(image_id)
            if isinstance(result, str):
                self.window.mark_unreadable(image_id, result)
            else:
                self.window.detections[image_id] = result[0]
                self.store(image_id, *result)

    def _done(self, message: str, error: bool = False) -> None:
        self._drain()
        self.detect_all_worker = None
        self.window.predictions_dock.set_progress(0, 0, "")
        if error:
            self.window.show_error("Model error", message)
        else:
            self.window.statusBar().showMessage(message, 5000)
