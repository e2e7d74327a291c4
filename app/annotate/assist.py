"""Model-assisted labelling: detect this image or all images, predictions into the dataset.

Predictions never become ground truth by themselves: they live in ``dataset.predictions``
(not saved) until the user accepts them (an undoable edit that keeps score and mask).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject

from app.model_controller import MODEL_LOCK
from app.workers import Progress, describe_error, locked_steps
from detector.inference.predictions import category_ids, detect_all_job, to_annotations

DETECT_ALL = "assist.detect_all"


@dataclass(frozen=True)
class ImageDetections:
    """One image of "detect all": its detections and mask RLEs, or why it failed."""

    image_id: int
    detections: object | None
    rles: list | None = None
    error: str | None = None


def detect_all_results(model, files):
    """Generator job: an :class:`ImageDetections` as each image is done, then its
    :class:`Progress`; the model lock is held per image only."""
    finished: dict = {}  # filled by detect_all_job, emptied here, in this worker thread
    for done, total, message in locked_steps(detect_all_job(model, files, finished), MODEL_LOCK):
        for image_id in list(finished):
            result = finished.pop(image_id)
            if isinstance(result, str):
                yield ImageDetections(image_id, None, error=result)
            else:
                yield ImageDetections(image_id, *result)
        yield Progress(done, total, message)


class ModelAssist(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self._detect_when_shown = False

    # ----- one image ---------------------------------------------------------------------
    def detect_current(self) -> None:
        window = self.window
        image = window.state.current_loaded()
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
        model_categories = window.models.model.categories
        names = [c.name for c in window.dataset.categories.values()]
        from detector.data.labelmap import label_overlap

        note = label_overlap(model_categories, names).message()
        window.predictions_dock.set_note(
            note + " Accepting a prediction adds its class as a new category." if note else ""
        )
        ids = category_ids(window.dataset, model_categories, window.prediction_names)
        window.set_predictions(image_id, to_annotations(detections, rles, image_id, ids))

    # ----- all images --------------------------------------------------------------------
    @property
    def detecting_all(self) -> bool:
        return self.window.pool.running(DETECT_ALL)

    def detect_all(self) -> None:
        window = self.window
        if window.dataset is None or self.detecting_all:
            return
        if window.models.model is None:
            window.models.ensure_loaded()
            window.statusBar().showMessage("Loading the model; press Detect all again", 5000)
            return
        files = [(i, window.dataset.image_path(i)) for i in window.images]
        dock = window.predictions_dock
        dock.set_progress(0, len(files), "starting")
        window.status.show_job(0, len(files), "Detect all", self.cancel)
        window.pool.start(
            detect_all_results,
            window.models.model,
            files,
            key=DETECT_ALL,
            on_yielded=self._on_image,
            on_progress=self._progress,
            on_returned=lambda _n: self._done("Detected all images"),
            on_errored=lambda exc: self._done(
                f"Detect all failed: {describe_error(exc)}", error=True
            ),
        )

    def cancel(self) -> None:
        """Stop after the image in progress; what was detected so far stays."""
        if self.detecting_all:
            self.window.pool.cancel(DETECT_ALL, drop=False)  # finished images still arrive
            self._done("Detect all cancelled")

    def _progress(self, done: int, total: int, message: str) -> None:
        if self.detecting_all:
            self.window.predictions_dock.set_progress(done, total, message)
            self.window.status.show_job(done, total, "Detect all", self.cancel)

    def _on_image(self, result: ImageDetections) -> None:
        if result.error is not None:
            self.window.mark_unreadable(result.image_id, result.error)
        else:
            self.window.detections[result.image_id] = result.detections
            self.store(result.image_id, result.detections, result.rles)

    def _done(self, message: str, error: bool = False) -> None:
        self.window.predictions_dock.set_progress(0, 0, "")
        self.window.status.show_job(0, 0, "")
        if error:
            self.window.show_error("Model error", message)
        else:
            self.window.statusBar().showMessage(message, 5000)
