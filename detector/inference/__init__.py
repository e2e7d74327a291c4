"""Running a model: one image (:mod:`.run`), detections as numpy (:mod:`.detections`),
many files with decode-ahead (:mod:`.batch`).
"""
