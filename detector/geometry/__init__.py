"""Box geometry: IoU and the lecture's box transform (:mod:`.boxes`), NMS with every step
recorded (:mod:`.nms`), RoIPool / RoIAlign grids (:mod:`.roi`).
"""
