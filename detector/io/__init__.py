"""Files in and out: images (:mod:`.images`), atomic writes and file fingerprints
(:mod:`.files`), JSON documents with located errors (:mod:`.documents`).
"""
