"""Reading a document a user gave us: bytes, JSON with line and column in every error.

Every failure becomes :class:`~detector.errors.AnnotationError` naming the file.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from detector.errors import AnnotationError
from detector.io.limits import is_number as is_number  # re-exported


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
    """Parse JSON bytes; every parser failure becomes AnnotationError with line and column.

    Refused with a location: syntax errors, integers past Python's digit limit, nesting past
    the interpreter's recursion limit, text that is not UTF-8, and lone UTF-16 surrogate
    escapes (``"\\ud800"``), which load but can never be written back as UTF-8.
    """
    kind = sniff_format(data)
    if kind == "xml":
        raise AnnotationError(
            "this is an XML file (Pascal VOC?), not JSON; use --from voc", file=file
        )
    if not data.strip():
        raise AnnotationError("the file is empty", file=file)
    fast = _fast_loads(data)
    if fast is not _NOT_FAST:
        return fast
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        line = data.count(b"\n", 0, start) + 1
        column = start - (data.rfind(b"\n", 0, start) + 1) + 1
        raise AnnotationError(
            f"not UTF-8 text (byte {start}); is this really JSON?",
            file=file,
            location=f"line {line}, column {column}",
        ) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        location = f"line {exc.lineno}, column {exc.colno}"
        raise AnnotationError(f"invalid JSON: {exc.msg}", file=file, location=location) from None
    except RecursionError:
        location = _position(text, _deepest_offset(text))
        raise AnnotationError(
            "invalid JSON: nested too deeply", file=file, location=location
        ) from None
    except ValueError as exc:  # Python's int digit limit (CVE-2020-10735)
        match = _LONG_INT.search(text)
        location = _position(text, match.start()) if match else None
        raise AnnotationError(
            f"invalid JSON: a number is too long ({exc})", file=file, location=location
        ) from None
    _refuse_lone_surrogates(text, file)
    return doc


_NOT_FAST = object()
_DIGITS = bytes(0x31 if 0x30 <= byte <= 0x39 else 0x30 for byte in range(256))


def _fast_loads(data: bytes) -> Any:
    """orjson's parse (about 1.5x ``json.loads``: 1.1 s of 3.7 s on a 128 MB COCO file)
    when it surely equals ``json.loads``, else ``_NOT_FAST``.

    orjson refuses what this module reports with a location (bad syntax, invalid UTF-8,
    lone surrogates, NaN, overflowing floats, deep nesting): then ``json.loads`` runs
    and reports it. The one thing orjson accepts differently, an integer beyond 64 bits
    (it makes a float), is found first: a run of 20 digits (translate + find, 0.15 s per
    128 MB) sends the document to ``json.loads``.
    """
    try:
        import orjson
    except ImportError:  # an optional speed-up
        return _NOT_FAST
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if b"1" * 20 in body.translate(_DIGITS):
        return _NOT_FAST
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return _NOT_FAST


_LONG_INT = re.compile(r"\d{4300,}")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def _refuse_lone_surrogates(text: str, file: Any) -> None:
    """A lone surrogate escape decodes to a str that cannot be encoded as UTF-8 again."""
    if _SURROGATE_ESCAPE.search(text) is None:
        return
    for match in _LONE_SURROGATE.finditer(text):
        backslashes = len(text[: match.start()]) - len(text[: match.start()].rstrip("\\"))
        if backslashes % 2 == 0:  # not itself an escaped backslash followed by 'u'
            raise AnnotationError(
                f"invalid text: a lone UTF-16 surrogate {match.group()!r} (not a character;"
                " the file could never be saved again)",
                file=file,
                location=_position(text, match.start()),
            )


def _position(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


def _deepest_offset(text: str) -> int:
    """Offset of the deepest bracket (strings not excluded: a location hint only)."""
    depth = best = offset = 0
    for index, char in enumerate(text):
        if char in "[{":
            depth += 1
            if depth > best:
                best, offset = depth, index
        elif char in "]}":
            depth -= 1
    return offset


def read_json(path: str | os.PathLike) -> Any:
    return parse_json(read_bytes(path), file=path)
