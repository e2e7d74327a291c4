"""Training: the loop (:mod:`.loop`), its data (:mod:`.data`), held-out evaluation
(:mod:`.evaluate`) and the synthetic shapes generator (:mod:`.synthetic`).
"""
