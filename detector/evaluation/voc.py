"""Area under a raw precision-recall curve: VOC2007 11-point and VOC2010+ all-point."""

from __future__ import annotations

import numpy as np


def voc_ap(recall: np.ndarray, precision: np.ndarray, eleven_point: bool = False) -> float:
    """AP of a raw curve (one point per detection in score order), VOC devkit style.

    eleven_point: mean over r in 0, 0.1, ..., 1 of the best precision at recall >= r
    (VOC2007). Otherwise the exact area under the monotone envelope (VOC2010+).
    An empty curve has AP 0.
    """
    recall = np.asarray(recall, dtype=np.float64)
    precision = np.asarray(precision, dtype=np.float64)
    if eleven_point:
        total = 0.0
        for threshold in np.arange(0.0, 1.1, 0.1):
            reached = recall >= threshold
            total += float(precision[reached].max()) if reached.any() else 0.0
        return total / 11.0
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    changes = np.flatnonzero(mrec[1:] != mrec[:-1])
    return float(np.sum((mrec[changes + 1] - mrec[changes]) * mpre[changes + 1]))
