"""A loopback HTTP server for download tests: serves files from a dict, nothing leaves the host."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    chunk_delay = 0.0  # seconds between 64 KiB chunks: a slow server, for Cancel

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        body = self.files.get(self.path.lstrip("/"))
        if body is None:
            self.send_error(404, "no such file")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for start in range(0, len(body), 1 << 16):
                self.wfile.write(body[start : start + (1 << 16)])
                if self.chunk_delay:
                    time.sleep(self.chunk_delay)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client cancelled

    def log_message(self, *args) -> None:  # keep test output quiet
        pass


@contextmanager
def serve(files: dict[str, bytes], chunk_delay: float = 0.0) -> Iterator[str]:
    """Serve ``files`` (name -> bytes) on 127.0.0.1; yields the base URL."""
    handler = type("Handler", (_Handler,), {"files": dict(files), "chunk_delay": chunk_delay})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def hash8(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:8]
