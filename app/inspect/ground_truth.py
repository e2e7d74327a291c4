"""The shown image's identity and ground truth, read from the main window's dataset."""

from __future__ import annotations

from detector.data.ground_truth import GroundTruth, image_ground_truth


class GroundTruthSource:
    def __init__(self, window) -> None:
        self._window = window

    def image_key(self) -> str | None:
        """Identifies the shown image for the trace cache (its file)."""
        path = self._window.current_path()
        return None if path is None else str(path)

    def current(self, categories: list[str]) -> GroundTruth:
        """Ground truth of the shown image, labels mapped to the model's ``categories``
        (``detector.data.labelmap.model_label``: by name, else by category id)."""
        return image_ground_truth(self._window.dataset, self._window.current_image_id, categories)
