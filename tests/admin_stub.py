"""A stand-in for serve's admin port: records the requests it gets (path, JSON body) and answers
``reply`` with ``status``; for tests of the admin clients (cache invalidate, …)."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Admin:
    url: str = ""
    status: int = 200
    reply: Any = field(default_factory=dict)
    received: list[tuple[str, Any]] = field(default_factory=list)


@contextmanager
def running_admin() -> Iterator[Admin]:
    state = Admin()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            state.received.append((self.path, json.loads(self.rfile.read(length))))
            body = json.dumps(state.reply).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler) as server:
        state.url = f"http://127.0.0.1:{server.server_port}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield state
        finally:
            server.shutdown()
            thread.join()
