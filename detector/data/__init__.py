"""The annotation data model: the dataset (:mod:`.dataset`), undoable edits (:mod:`.edits`),
flagged problems (:mod:`.issues`), masks and RLE (:mod:`.masks`).
"""
