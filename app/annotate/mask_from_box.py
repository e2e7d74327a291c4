""" "Mask from box": the current Mask R-CNN's mask head on a ground-truth box, in a worker.

The job is :func:`detector.trace.mask_from_box.mask_from_box` (RoIAlign on the box's FPN
level, mask head, 28 x 28 logits of the object's class, pasted) followed by OpenCV contours
simplified to the tool's tolerance. The image's backbone features are reused when the
Inspect dock traced this image with this model, or when an earlier Mask from box computed
them; otherwise the worker runs the backbone once and the features are kept for the next box.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.inspect.items import HeatmapItem


def mask_job(model, image, features, box, label, tolerance: float, scale=(1.0, 1.0)):
    """Worker: (features, polygons, BoxMask) for ``box`` (xyxy image pixels).

    ``scale``: original pixels per pixel of ``image`` (a reduced decode of a huge image):
    the box is brought into ``image``'s frame and the polygons back to the original's.
    """
    from detector.trace.mask_from_box import image_features, mask_from_box

    sx, sy = scale
    if features is None:
        features = image_features(model, image, exact=False)
    small_box = (box[0] / sx, box[1] / sy, box[2] / sx, box[3] / sy)
    result = mask_from_box(model, small_box, features=features, label=label)
    polygons = result.polygons(tolerance)
    if (sx, sy) != (1.0, 1.0):
        polygons = [
            [round(v * (sx if i % 2 == 0 else sy), 2) for i, v in enumerate(polygon)]
            for polygon in polygons
        ]
    return features, polygons, result


class MaskFromBox(QObject):
    """``message(text)``; ``finished(object id)`` after the mask became the object's."""

    message = Signal(str)
    finished = Signal(int)

    def __init__(self, window, tool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window, self.tool = window, tool
        self._features: tuple[tuple, object] | None = None  # ((path, id(model)), features)
        self._pending = False
        self.running = False
        self._scale = (1.0, 1.0)  # original pixels per decoded pixel of the running image
        self.grid = HeatmapItem()  # the last result's M x M probabilities over its box
        self.grid.setZValue(51)
        self.grid.setVisible(False)
        window.canvas.scene().addItem(self.grid)
        window.models.model_loaded.connect(self._on_model_loaded)
        window.editor.selection_changed.connect(lambda: self.grid.setVisible(False))
        window.state.current_image_changed.connect(lambda _id: self.grid.setVisible(False))

    def run(self) -> None:
        """Start the job for the one selected ground-truth object (loading the model first)."""
        window = self.window
        selected = window.editor.selected_annotations()
        if len(selected) != 1:
            self.message.emit("Mask from box: select one ground-truth box first.")
            return
        model = window.models.model
        if model is None:
            self._pending = True
            self.message.emit("Mask from box: loading the model…")
            window.models.ensure_loaded()
            return
        if getattr(model, "kind", "") != "mask":
            self.message.emit(
                f"Mask from box needs a Mask R-CNN; {model.architecture} predicts boxes only."
            )
            return
        image = window.state.current_loaded()
        if image is None or self.running:
            return
        self._start(model, image, selected[0])

    def _start(self, model, image, obj) -> None:
        self._scale = (image.scale_x, image.scale_y)
        key = (str(self.window.current_path()), id(model))
        features = self._cached_features(key, model)
        label = _model_label(model, self.window.dataset.categories[obj.category_id].name)
        self.running = True
        self.message.emit("Mask from box: running the mask head…")
        self.window.pool.start(
            mask_job,
            model,
            image.pixels,
            features,
            obj.box,
            label,
            self.tool.tolerance,
            self._scale,
            key="mask_from_box",
            on_returned=lambda out: self._done(key, obj, out),
            on_errored=self._failed,
            on_finished=self._ended,
        )

    def _cached_features(self, key: tuple, model):
        if self._features is not None and self._features[0] == key:
            return self._features[1]
        inspect = getattr(self.window, "docks", {}).get("inspect_dock")
        session = getattr(inspect, "session", None)
        trace = getattr(session, "trace", None)
        if trace is not None and session.key == key and trace.features_kept:
            from detector.trace.mask_from_box import ImageFeatures

            return ImageFeatures.from_trace(trace)
        return None

    def _ended(self) -> None:
        self.running = False

    def _done(self, key: tuple, obj, output) -> None:
        features, polygons, result = output
        self._features = (key, features)
        dataset = self.window.dataset
        current = dataset.objects.get(obj.id) if dataset is not None else None
        if current is None:
            self.message.emit("Mask from box: the object was deleted meanwhile.")
            return
        if not polygons:
            self.message.emit("Mask from box: the model found no mask in this box.")
            return
        # the drawn box stays (a model's mask may be tighter than the object); the first
        # vertex edit fits the box to the mask
        if self.tool.commit(current, polygons, "Mask from box", False, keep_box=True):
            name = self.window.models.model.categories[result.label]
            vertices = sum(len(p) // 2 for p in polygons)
            size = result.probs.shape[0]
            self.show_grid(result)
            self.message.emit(
                f"Mask from box: {len(polygons)} polygon(s), {vertices} vertices "
                f"(class {name!r}, FPN level {result.pool_level}; its {size}x{size} "
                "probability grid is drawn over the box until the selection changes)."
            )
            self.finished.emit(obj.id)

    def show_grid(self, result) -> None:
        """The mask head's M x M sigmoid grid over the box, as the Inspect final stage shows
        a detection's."""
        sx, sy = self._scale
        factors = (sx, sy, sx, sy)
        x1, y1, x2, y2 = (float(v) * f for v, f in zip(result.box_image, factors, strict=True))
        size = result.probs.shape[0]
        self.grid.set_values(result.probs, (x2 - x1) / size, (y2 - y1) / size, alpha=120)
        self.grid.setPos(x1, y1)
        self.grid.setVisible(True)

    def _failed(self, exc: Exception) -> None:
        from app.workers import describe_error

        self.message.emit(f"Mask from box failed: {describe_error(exc)}")

    def _on_model_loaded(self, _model) -> None:
        if self._pending:
            self._pending = False
            self.run()


def _model_label(model, name: str) -> int | None:
    """The model class named like the object's category, None to let the box head choose."""
    categories = list(model.categories)
    return categories.index(name) if name in categories[1:] else None
