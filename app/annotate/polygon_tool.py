"""The polygon tool: draw polygons by clicks, edit the selected object's vertices.

P starts a polygon (Shift+P: a new part of the selected object): each click adds a vertex;
double-click, Enter or a click on the first vertex closes it; Backspace removes the last
point; Esc cancels. With one object selected its polygons show their vertices: drag a vertex
to move it, click an edge to insert one there (and drag it), click a vertex then Del to
remove it. Each finished gesture is one undo step (``UpdateObjects`` through the window's
undo stack), and the box follows the mask's extent, as COCO boxes do.

An RLE mask (crowd regions, accepted model masks) is shown traced, dashed; it stays RLE
until a vertex edit, which converts it to polygons (the status bar says so; undo restores
the RLE). The tool filters the canvas viewport's mouse events before the box editor, and
takes the keys it needs ahead of the window's shortcuts while they mean something here.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal

from app.annotate.polygon_item import VERTEX_PX, PolygonItem
from detector.geometry import polygons as geometry

EDGE_PX = 5.0  # a click this close to an edge inserts a vertex
DRAW_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape, Qt.Key.Key_Backspace)
DELETE_KEYS = (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)


class PolygonTool(QObject):
    """``message(text)`` for the status bar."""

    message = Signal(str)

    def __init__(self, window, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.canvas = window.canvas
        self.tolerance = geometry.DEFAULT_TOLERANCE  # tracing RLE masks for editing
        self.item = PolygonItem()
        self.item.setZValue(52)
        self.canvas.scene().addItem(self.item)
        self.drawing = False
        self.add_part_to: int | None = None
        self.points: list[tuple[float, float]] = []
        self.active: tuple[int, int] | None = None  # (part, vertex) Del removes
        self._drag: dict | None = None
        self._traced: dict[int, tuple[object, list]] = {}  # id(mask) -> (mask, polygons)
        self.canvas.viewport().installEventFilter(self)
        self.canvas.installEventFilter(self)
        window.editor.selection_changed.connect(self._on_selection)
        window.state.dataset_changed.connect(lambda _change: self.refresh())
        window.state.current_image_changed.connect(lambda _image_id: self.cancel())
        window.state.image_loaded.connect(lambda _image_id, _decoded: self._on_image())

    # ----- drawing -----------------------------------------------------------------------
    def start(self, add_part: bool = False) -> None:
        """Start drawing a polygon (``add_part``: as a new part of the selected object)."""
        if self.canvas.image is None or self.window.dataset is None:
            return
        target = self.target()
        if add_part and target is None:
            self.message.emit("Select one object to add a polygon part to it.")
            return
        self.window.editor.set_mode("select")
        self.drawing, self.points = True, []
        self.add_part_to = target[0].id if add_part and target else None
        self.canvas.viewport().setCursor(Qt.CursorShape.CrossCursor)
        self.canvas.setFocus()
        self.message.emit(
            "Polygon: click to add points; double-click, Enter or the first point closes; "
            "Backspace removes the last point; Esc cancels."
        )
        self._show_draft(None)

    def cancel(self) -> None:
        self.drawing, self.points, self.add_part_to = False, [], None
        self.canvas.viewport().unsetCursor()
        self.item.set_draft([], None)

    def finish(self) -> bool:
        """Close the polygon being drawn; True when it was added."""
        if len(self.points) < 3:
            self.message.emit("A polygon needs at least 3 points.")
            return False
        flat = geometry.flat_polygon(self.points)
        part_of = self.add_part_to
        self.cancel()
        if part_of is not None and part_of in self.window.dataset.objects:
            obj = self.window.dataset.objects[part_of]
            polygons, converted = self._editable(obj)
            return self.commit(obj, [*polygons, flat], "Add polygon part", converted)
        return self._add_object(flat)

    def _add_object(self, flat: list[float]) -> bool:
        from detector.data.dataset import Annotation
        from detector.data.edits import AddObjects, Compound

        window, dataset = self.window, self.window.dataset
        category_id, steps = window.commands.new_object_category()
        box = geometry.polygons_extent([flat])
        obj = Annotation(dataset.new_object_id(), window.current_image_id, category_id, box, [flat])
        if window.undo.push(Compound((*steps, AddObjects((obj,))), "Draw polygon"), obj.image_id):
            window.editor.select([obj.id])
            return True
        return False

    def set_tolerance(self, tolerance: float) -> None:
        """Contour simplification (pixels) for tracing RLE masks; redraws the traced vertices."""
        self.tolerance = float(tolerance)
        self._traced.clear()
        self.refresh()

    # ----- the selected object's polygons ------------------------------------------------
    def target(self):
        """(object, polygons, is_rle) of the one selected object with a mask, else None."""
        editor, dataset = self.window.editor, self.window.dataset
        if dataset is None or len(editor.selected) != 1:
            return None
        obj = dataset.objects.get(editor.selected[0])
        if obj is None or obj.mask is None:
            return None
        polygons, converted = self._editable(obj)
        return (obj, polygons, converted) if polygons else None

    def _editable(self, obj) -> tuple[list[list[float]], bool]:
        """The object's polygons, tracing an RLE mask (cached per mask value)."""
        if obj.mask is None:
            return [], False
        if isinstance(obj.mask, list):
            return [list(p) for p in obj.mask], False
        hit = self._traced.get(id(obj.mask))
        if hit is None or hit[0] is not obj.mask:
            from detector.data.masks import binary_mask

            record = self.window.dataset.images[obj.image_id]
            binary = binary_mask(obj.mask, record.height, record.width)
            polygons = geometry.mask_to_polygons(binary.astype(bool), self.tolerance, 0.0)
            self._traced = {id(obj.mask): (obj.mask, polygons)}
            hit = self._traced[id(obj.mask)]
        return [list(p) for p in hit[1]], True

    def commit(
        self, obj, polygons: list[list[float]], verb: str, converted: bool, keep_box: bool = False
    ) -> bool:
        """One undo step: ``obj`` with these polygons and the box around them (``keep_box``:
        the object's own box, e.g. the box a person drew for Mask from box)."""
        from detector.data.edits import UpdateObjects

        if not polygons:
            self.message.emit("An object needs a polygon of 3+ points: delete the object instead.")
            self.refresh()
            return False
        box = obj.box if keep_box else geometry.polygons_extent(polygons)
        edit = UpdateObjects((replace(obj, mask=polygons, box=box),), verb)
        done = self.window.undo.push(edit, obj.image_id)
        if done and converted:
            vertices = sum(len(p) // 2 for p in polygons)
            self.message.emit(
                f"The RLE mask was converted to {len(polygons)} polygon(s), {vertices} "
                "vertices, to edit it (undo restores the RLE)."
            )
        return done

    # ----- view --------------------------------------------------------------------------
    def refresh(self) -> None:
        """Redraw outlines of every visible object and the selected object's vertices."""
        dataset, layer = self.window.dataset, self.window.layer
        width, height = self.canvas.image_size()
        self.item.set_bounds(width, height)
        outlines = []
        if dataset is not None and layer.image_id is not None:
            hidden = layer.hidden_categories
            for obj in dataset.objects_in(layer.image_id):
                if isinstance(obj.mask, list) and obj.category_id not in hidden:
                    outlines.append((layer.color(obj.category_id), obj.mask))
        self.item.set_outlines(outlines)
        if self._drag is None:
            target = self.target()
            if target is None:
                self.active = None
                self.item.set_edit([])
            else:
                self.item.set_edit(target[1], rle=target[2], active=self.active)

    def _on_selection(self) -> None:
        self.active = None
        self.refresh()

    def _on_image(self) -> None:
        self.cancel()
        self._traced.clear()
        self.refresh()

    def _show_draft(self, hover) -> None:
        self.item.set_draft(self.points, hover)

    # ----- events ------------------------------------------------------------------------
    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt API
        kind = event.type()
        if watched is self.canvas:
            if kind == QEvent.Type.ShortcutOverride and self._wants_key(event.key()):
                event.accept()
                return True
            if kind == QEvent.Type.KeyPress and self._wants_key(event.key()):
                self._key(event.key())
                return True
            return False
        if kind == QEvent.Type.MouseButtonPress:
            return self._press(event)
        if kind == QEvent.Type.MouseButtonDblClick and self.drawing:
            x, y = self._point(event)
            if not self.points or self.points[-1] != (x, y):
                self.points.append((x, y))  # when the press before it did not arrive
            self.finish()
            return True
        if kind == QEvent.Type.MouseMove:
            return self._move(event)
        if kind == QEvent.Type.MouseButtonRelease and (self._drag is not None or self.drawing):
            self._release()
            return True
        return False

    def _wants_key(self, key) -> bool:
        if self.drawing:
            return key in DRAW_KEYS
        return self.active is not None and key in DELETE_KEYS

    def _key(self, key) -> None:
        if self.drawing:
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.finish()
            elif key == Qt.Key.Key_Escape:
                self.cancel()
                self.message.emit("Polygon cancelled.")
            elif self.points:
                self.points.pop()
                self._show_draft(None)
            return
        target = self.target()
        if target is not None and self.active is not None:
            obj, polygons, converted = target
            part, vertex = self.active
            self.active = None
            if part < len(polygons) and vertex < len(polygons[part]) // 2:
                edited = geometry.remove_vertex(polygons, part, vertex)
                self.commit(obj, edited, "Delete vertex", converted)

    def _point(self, event) -> tuple[float, float]:
        point = self.canvas.to_image(event.position())
        width, height = self.canvas.image_size()
        return (min(max(point.x(), 0.0), width), min(max(point.y(), 0.0), height))

    def _image_radius(self, pixels: float) -> float:
        return pixels / max(self.canvas.transform().m11(), 1e-6)

    def _press(self, event) -> bool:
        if event.button() != Qt.MouseButton.LeftButton or self.canvas.is_panning():
            return False
        if self.canvas.image is None or self.window.dataset is None:
            return False
        x, y = self._point(event)
        if self.drawing:
            self.canvas.setFocus()
            radius = self._image_radius(VERTEX_PX)
            first = self.points[0] if self.points else None
            last = self.points[-1] if self.points else None
            if len(self.points) >= 3 and geometry.nearest_vertex([list(first)], x, y, radius):
                self.finish()
            elif last is not None and abs(last[0] - x) + abs(last[1] - y) < 1e-6:
                pass  # the second press of a double-click: no duplicate vertex
            else:
                self.points.append((x, y))
                self._show_draft((x, y))
            return True
        return self._press_on_target(x, y)

    def _press_on_target(self, x: float, y: float) -> bool:
        target = self.target()
        if target is None:
            return False
        obj, polygons, converted = target
        hit = geometry.nearest_vertex(polygons, x, y, self._image_radius(VERTEX_PX))
        verb = "Move vertex"
        if hit is None:
            edge = geometry.nearest_edge(polygons, x, y, self._image_radius(EDGE_PX))
            if edge is None:
                return False
            part, index, fx, fy = edge
            polygons = geometry.insert_vertex(polygons, part, index, fx, fy)
            hit, verb = (part, index + 1), "Insert vertex"
        self.canvas.setFocus()
        self.active = hit
        self._drag = {"obj": obj, "base": polygons, "hit": hit, "verb": verb}
        self._drag.update(converted=converted, polygons=polygons, moved=False)
        self.item.set_edit(polygons, rle=converted, active=hit)
        return True

    def _move(self, event) -> bool:
        if self.drawing:
            self._show_draft(self._point(event))
            return False  # the canvas still reports the cursor position
        drag = self._drag
        if drag is None:
            return False
        x, y = self._point(event)
        part, vertex = drag["hit"]
        drag["polygons"] = geometry.move_vertex(drag["base"], part, vertex, x, y)
        drag["moved"] = True
        self.item.set_edit(drag["polygons"], rle=drag["converted"], active=drag["hit"])
        return True

    def _release(self) -> None:
        drag, self._drag = self._drag, None
        if drag is None:
            return
        if drag["verb"] == "Insert vertex" or drag["moved"]:
            self.commit(drag["obj"], drag["polygons"], drag["verb"], drag["converted"])
        self.refresh()


def vertex_on_screen(canvas, x: float, y: float):
    """The viewport position of image point (x, y) (tests and hit checks)."""
    return canvas.mapFromScene(QPointF(x, y))
