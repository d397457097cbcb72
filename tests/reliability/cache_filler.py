"""Fills serve's cache with many small unique objects and reports the process's memory.

    python cache_filler.py DIR MEMORY_LIMIT_MB COUNT [--body-only]

Writes ``DIR/edgesim.toml`` with ``[cache] memory_limit_mb``, builds the ``EdgeServer`` from it
(the cache as serve builds it), then stores COUNT objects with unique keys (a cache-busting query
string) and six per-response headers, as an origin's small JSON answers leave them, through the
cache's ``begin``/``write``/``commit``. Prints one JSON line: RSS before the stores (the baseline:
interpreter, edgesim, the server), peak RSS (``VmHWM``) and final RSS in KiB, the cache's entries,
estimated bytes and evictions, and the CPU seconds of the stores. ``--body-only`` charges bodies
only (the accounting before issue 17 part 4), to show what the limit did not bound.
"""

from __future__ import annotations

import json
import sys
import textwrap
import time
from pathlib import Path

from edgesim.app import EdgeServer
from edgesim.distribution.config import load_config
from edgesim.edge.ttl import TtlDecision


def kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


class _Quiet:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def main(folder: Path, limit_mb: int, count: int, body_only: bool) -> None:
    config = folder / "edgesim.toml"
    config.write_text(
        textwrap.dedent(
            f"""
            [server]
            ephemeral = true
            https = false

            [[origins]]
            id = "app"
            url = "http://127.0.0.1:9"

            [default_behavior]
            origin = "app"

            [cache]
            memory_limit_mb = {limit_mb}
            """
        )
    )
    server = EdgeServer(load_config(config), stream=_Quiet(), capture=False)
    cache = server.cache
    if body_only:
        cache.count_entry_overhead = False
    ttl = TtlDecision(cacheable=True, ttl=86_400)
    baseline = kib("VmRSS")
    started = time.process_time()
    for i in range(count):
        path = f"/api/items?id={i}&cb={i * 7919}"
        headers = [
            ("content-type", "application/json"),
            ("content-length", "100"),
            ("date", f"Thu, 03 Dec 2026 12:{i % 60:02d}:{i // 60 % 60:02d} GMT"),
            ("etag", f'"{i:016x}"'),
            ("cache-control", "max-age=86400"),
            ("x-request-id", f"req-{i:012d}"),
        ]
        writer = cache.begin(
            f"IAD|d111111abcdef8.cloudfront.net{path}",
            status=200,
            headers=headers,
            decision=ttl,
            path=path,
            pop="IAD",
        )
        writer.write(i.to_bytes(4, "big") * 25)  # a unique 100-byte body
        writer.commit()
    cpu = time.process_time() - started
    stats = cache.stats()
    report = {
        "baseline_kib": baseline,
        "peak_kib": kib("VmHWM"),
        "final_kib": kib("VmRSS"),
        "entries": stats["entries"],
        "memory_used_bytes": stats["memory_used_bytes"],
        "evictions": stats["evictions"],
        "cpu_s": round(cpu, 2),
    }
    print(json.dumps(report), flush=True)
    server.kvs.close()
    cache.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), "--body-only" in sys.argv[4:])
