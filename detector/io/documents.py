"""Reading a document a user gave us: bytes, JSON with line and column in every error.

Every failure becomes :class:`~detector.errors.AnnotationError` naming the file.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from detector.errors import AnnotationError


def sniff_format(data: bytes) -> str | None:
    """'json' or 'xml' from the first non-blank bytes, or None when it is neither."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head in (b"{", b"["):
        return "json"
    if head == b"<":
        return "xml"
    return None


def read_bytes(path: str | os.PathLike) -> bytes:
    file = Path(path)
    try:
        return file.read_bytes()
    except FileNotFoundError:
        raise AnnotationError("no such file", file=file) from None
    except IsADirectoryError:
        raise AnnotationError("is a folder, expected a file", file=file) from None
    except OSError as exc:
        raise AnnotationError(f"cannot read ({exc.strerror or exc})", file=file) from None


def parse_json(data: bytes, *, file: str | os.PathLike | None = None) -> Any:
    """Parse JSON bytes; a syntax error becomes AnnotationError with its line and column."""
    kind = sniff_format(data)
    if kind == "xml":
        raise AnnotationError(
            "this is an XML file (Pascal VOC?), not JSON; use --from voc", file=file
        )
    if not data.strip():
        raise AnnotationError("the file is empty", file=file)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AnnotationError(
            f"not UTF-8 text (byte {exc.start}); is this really JSON?", file=file
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        location = f"line {exc.lineno}, column {exc.colno}"
        raise AnnotationError(f"invalid JSON: {exc.msg}", file=file, location=location) from None
    except RecursionError:
        raise AnnotationError("invalid JSON: nested too deeply", file=file) from None


def read_json(path: str | os.PathLike) -> Any:
    return parse_json(read_bytes(path), file=path)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
