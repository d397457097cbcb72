"""``serve --workers 2`` with ``[cache] shared = true`` under a mixed load: misses that store and
evict (a 1 MiB budget), hits through both workers, invalidations every 200 ms and, in the long
run, a worker killed and restarted midway. Every answer must carry the body of the path asked
for, nothing may fail, and the shared cache's figures must stay within its budget (issue 12)."""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.e2e.test_serve_workers_shared_cache import BIG, SHARED_CACHE, Origin
from tests.e2e.workers_serve import SERVER_TOML, workers_serve
from tests.reliability.conftest import LONG, budget

CONFIG = SERVER_TOML + SHARED_CACHE
PATHS = 2_000


def test_the_shared_cache_stays_right_under_load(
    tmp_path: Path, figures: dict[str, object]
) -> None:
    origin = Origin()
    threading.Thread(target=origin.serve_forever, daemon=True).start()
    config = CONFIG.replace("ORIGIN_PORT", str(origin.server_address[1]))
    (tmp_path / "edgesim.toml").write_text(config)
    try:
        with workers_serve(tmp_path) as serve:
            answers, problems = _load(
                serve.viewer, serve.admin, serve.process, seconds=budget(1.5, 60)
            )
            status = _json(serve.admin + "/status")
            cache = status["cache"]
            serve.process.send_signal(signal.SIGTERM)
            assert serve.process.wait(30) == 0, serve.log.read_text()
    finally:
        origin.shutdown()
        origin.server_close()
    text = serve.log.read_text()
    figures.update(answers=answers, evictions=cache["evictions"], entries=cache["entries"])
    assert problems == [], problems[:5]
    assert answers > 50
    assert "Traceback" not in text
    assert cache["evictions"] > 0  # the budget was reached
    assert cache["memory_used_bytes"] <= cache["memory_limit_bytes"]
    assert cache["pops"]["IAD"]["entries"] == cache["entries"]
    if LONG:  # the killed worker came back
        assert [(w["alive"], w["restarts"]) for w in status["workers"]] == [(True, 1), (True, 0)]


def _load(
    viewer: str, admin: str, process: subprocess.Popen[bytes], *, seconds: float
) -> tuple[int, list[str]]:
    """Four clients on fresh connections (spread over the workers) and an invalidator; the
    number of answers and what was wrong with any."""
    host, port = viewer.removeprefix("http://").split(":")
    deadline = time.monotonic() + seconds
    problems: list[str] = []
    dropped: list[str] = []  # connections that broke off
    counts = [0]
    lock = threading.Lock()

    def client(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < deadline:
            big = rng.random() < 0.1  # 300 KB each: three fill the budget
            path = f"/e/{rng.randrange(PATHS)}" if big else f"/item/{rng.randrange(PATHS)}"
            expected = b"e" * BIG if big else path.encode()
            connection = http.client.HTTPConnection(host, int(port), timeout=30)
            try:
                connection.request("GET", path)
                answer = connection.getresponse()
                body = answer.read()
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    dropped.append(f"{path}: {exc!r}")
                continue
            finally:
                connection.close()
            with lock:
                counts[0] += 1
                if answer.status != 200 or body != expected:
                    problems.append(f"{path}: {answer.status} {body[:60]!r}")

    def invalidator() -> None:
        rng = random.Random(99)
        while time.monotonic() < deadline:
            pattern = f"/{rng.choice(['item', 'e'])}/{rng.randrange(10)}*"
            request = urllib.request.Request(
                admin + "/cache/invalidations", data=json.dumps({"paths": [pattern]}).encode()
            )
            _json(request)
            time.sleep(0.2)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    threads.append(threading.Thread(target=invalidator))
    for thread in threads:
        thread.start()
    if LONG:  # a worker dies midway: it is started again, and nothing is served wrong
        time.sleep(seconds / 2)
        os.kill(_json(admin + "/status")["workers"][0]["pid"], signal.SIGKILL)
    for thread in threads:
        thread.join()
    # The requests in flight in the killed worker break off (one per client at most); with no
    # kill, none may.
    if len(dropped) > (4 if LONG else 0):
        problems += dropped
    return counts[0], problems


def _json(request: str | urllib.request.Request) -> Any:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=30) as answer:
        return json.loads(answer.read())
