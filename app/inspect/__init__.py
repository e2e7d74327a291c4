"""The Inspect dock: every step of the two-stage detector on the current image (issue 8).

``dock`` is the coordinator (installed from ``app.extensions``); ``session`` owns the traces
(worker jobs, cache, reruns); one ``stage_*`` module per pipeline stage draws that stage on
the canvas and shows its numbers; ``preview``, ``labels`` and ``why`` are Qt-free numpy logic.
"""
