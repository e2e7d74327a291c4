"""What the window tells the user: status bar fields, image list rows, dock counts."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QToolButton

from detector.geometry.boxes import pair_iou

UNTRAINED_STYLE = "color: #b35c00; font-weight: bold;"


class StatusBar:
    """Fills the window's status bar and the per-image status of the image list."""

    def __init__(self, window) -> None:
        self.window = window
        self.cursor_label = QLabel("")
        self.selection_label = QLabel("")
        self.model_label = QLabel("model: not loaded")
        self.busy_bar = QProgressBar(maximumWidth=120, maximum=0, visible=False)
        # a long job's progress, whichever dock or menu started it (the dock may be hidden)
        self.job_bar = QProgressBar(maximumWidth=220, visible=False)
        self.job_cancel = QToolButton(text="Cancel", visible=False)
        self._cancel_job = None
        self.job_cancel.clicked.connect(lambda: self._cancel_job and self._cancel_job())
        bar = window.statusBar()
        for widget in (
            self.selection_label,
            self.cursor_label,
            self.model_label,
            self.busy_bar,
            self.job_bar,
            self.job_cancel,
        ):
            bar.addPermanentWidget(widget)

    def show_job(self, done: int, total: int, message: str, cancel=None) -> None:
        """Progress of a long job in the status bar, with Cancel; ``total`` 0 hides it."""
        running = total > 0 and done < total
        self.job_bar.setVisible(running)
        self.job_cancel.setVisible(running and cancel is not None)
        self._cancel_job = cancel if running else None
        self.job_bar.setMaximum(max(total, 1))
        self.job_bar.setValue(done)
        self.job_bar.setFormat(f"{message} %v / %m" if message else "%v / %m")

    def show_cursor(self, x: float, y: float) -> None:
        value = self.window.canvas.pixel(x, y)
        if value is None:
            self.cursor_label.setText("")
            return
        r, g, b = value
        self.cursor_label.setText(f"x {int(x)}, y {int(y)}  RGB {r} {g} {b}")

    def show_selection(self) -> None:
        editor = self.window.editor
        boxes = editor.selected_boxes() if self.window.dataset is not None else []
        prediction = self._selected_prediction()
        if prediction is not None and not editor.selected:
            x1, y1, x2, y2 = prediction.box
            name = self.window.layer.name(prediction.category_id)
            self.selection_label.setText(
                f"prediction: {name} {prediction.score or 0:.2f}, "
                f"box {x2 - x1:.0f} × {y2 - y1:.0f} at ({x1:.0f}, {y1:.0f}) (Enter accepts)"
            )
        elif len(boxes) == 2:
            self.selection_label.setText(f"IoU {pair_iou(boxes[0], boxes[1]):.3f}")
        elif len(boxes) == 1:
            x1, y1, x2, y2 = boxes[0]
            self.selection_label.setText(
                f"box {x2 - x1:.0f} × {y2 - y1:.0f} at ({x1:.0f}, {y1:.0f})"
            )
        elif boxes:
            self.selection_label.setText(f"{len(boxes)} selected")
        else:
            self.selection_label.setText("")

    def _selected_prediction(self):
        window = self.window
        chosen = window.editor.selected_prediction
        if chosen is None or window.dataset is None or window.current_image_id is None:
            return None
        return next(
            (a for a in window.dataset.predictions_in(window.current_image_id) if a.id == chosen),
            None,
        )

    def show_model(self, model) -> None:
        window = self.window
        from detector.models.spec import model_label

        self.model_label.setText(f"{model_label(model)} on {model.device}")
        self.model_label.setStyleSheet("" if model.trained else UNTRAINED_STYLE)
        text = model.describe()
        if not model.trained:
            text += (
                "\nUntrained: detections are meaningless until you load a trained "
                "checkpoint or the bundled model is present."
            )
        window.model_dock.set_info(text, not model.trained)
        from app.settings import settings

        settings().setValue("model", window.models.choice[0])
        settings().setValue("device", window.models.choice[1])

    def row_text(self, image_id: int) -> str:
        """The status after an image's name in the list (asked for the rows on screen)."""
        window = self.window
        if window.dataset is None or image_id not in window.dataset.images:
            return ""
        if image_id in window.unreadable:
            return "⚠ unreadable"
        dataset = window.dataset
        parts = [f"{len(dataset.objects_in(image_id))} obj"]
        predictions = len(dataset.predictions.get(image_id, {}))
        if predictions:
            parts.append(f"{predictions} pred")
        if dataset.images[image_id].verified:
            parts.append("✓")
        return " · ".join(parts)

    def refresh_row(self, image_id: int) -> None:
        if self.window.dataset is not None and image_id in self.window.dataset.images:
            self.window.image_dock.set_status(image_id, self.row_text(image_id))

    def refresh_all_rows(self) -> None:
        """Every row's text is asked again when painted (only the rows on screen are)."""
        self.window.image_dock.view.viewport().update()

    def show_counts(self) -> None:
        window = self.window
        image_id = window.current_image_id
        if window.dataset is None or image_id is None:
            window.predictions_dock.set_counts(0, 0)
            return
        total = len(window.dataset.predictions.get(image_id, {}))
        window.predictions_dock.set_counts(len(window.layer.prediction_ids), total)
        self.show_selection()

    def show_issues(self, issues) -> None:
        skipped = [i for i in issues if i.kind == "unreadable_image"]
        if skipped:
            names = ", ".join(str(i.location or i.file) for i in skipped[:3])
            self.window.statusBar().showMessage(
                f"{len(skipped)} unreadable file(s) skipped: {names}", 15000
            )
