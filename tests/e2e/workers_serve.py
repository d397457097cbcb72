"""``edgesim serve --workers N`` as users run it (a subprocess), for the tests: start it in a
folder holding ``edgesim.toml``, wait until it serves, talk to its workers, and kill whatever is
left of it at the end (issue 12)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# A serve's [server] keys for the tests: ports the system picks, plain HTTP, nothing stored.
SERVER_TOML = "[server]\nport = 0\nadmin_port = 0\nhttps = false\nephemeral = true\n"
SPREAD = 24  # requests on fresh connections: P(one worker gets them all) = 2 ** -23


@dataclass
class Serve:
    process: subprocess.Popen[bytes]
    log: Path
    folder: Path
    viewer: str
    admin: str

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """One request on a fresh connection (the kernel picks the worker that accepts it)."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(self.viewer + path, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read()

    def admin_json(self, path: str, body: object = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.admin + path, data=data)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=20) as answer:
            return json.loads(answer.read())

    def per_worker(self) -> list[int]:
        return [w["requests"] for w in self.admin_json("/status")["workers"]]

    def spread(self, path: str) -> tuple[list[dict[str, str]], list[int]]:
        """``SPREAD`` requests on fresh connections: their headers, and how many each worker
        served of them."""
        before = self.per_worker()
        answers = [self.get(path)[1] for _ in range(SPREAD)]
        after = self.per_worker()
        return answers, [b - a for a, b in zip(before, after, strict=True)]


@contextmanager
def workers_serve(
    folder: Path, *, workers: int = 2, env: Mapping[str, str] | None = None
) -> Iterator[Serve]:
    """``edgesim serve --workers <workers>`` in ``folder`` (its console in ``folder/serve.log``),
    once it serves; killed on the way out unless the test stopped it already."""
    argv = [sys.executable, "-m", "edgesim", "serve", "--workers", str(workers)]
    argv += ["--log-format", "text"]
    log = folder / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(argv, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield _serving(process, log, folder)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def _serving(process: subprocess.Popen[bytes], log: Path, folder: Path) -> Serve:
    """Waits for the control process's start-up lines; the viewer and admin URLs they give."""
    text = ""
    deadline = time.monotonic() + 90  # two workers start on a shared, busy machine
    while "event loop:" not in text:
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, text
        time.sleep(0.1)
        text = log.read_text()
    viewer = re.search(r"viewers: (http://127\.0\.0\.1:\d+)", text)
    admin = re.search(r"admin \(KVS API, /status, /metrics\): (http://127\.0\.0\.1:\d+)", text)
    assert viewer is not None, text
    assert admin is not None, text
    return Serve(process, log, folder, viewer.group(1), admin.group(1))
