"""Kill a writing process at random points: every acknowledged write must survive, intact.

The writer (kvs_writer.py) announces each write before making it and acknowledges it after.
After each SIGKILL the store must open, be self-consistent, and equal the acknowledged writes
replayed in order — plus, possibly, the one write that was in flight (committed, not yet acked).
"""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edgesim.kvs import KvsService

WRITER = Path(__file__).with_name("kvs_writer.py")
ROUNDS = 20

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")


def apply(items: dict[str, str], op: dict[str, list]) -> dict[str, str]:  # type: ignore[type-arg]
    after = {k: v for k, v in items.items() if k not in op["deletes"]}
    after.update((k, v) for k, v in op["puts"])
    return after


def run_and_kill(path: Path, seed: int, delay: float) -> list[str]:
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), str(path), str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    try:
        ready = proc.stdout.readline()
        assert ready == "ready\n", f"writer failed to start: {ready!r} {proc.stderr.read()}"
        time.sleep(delay)
        assert proc.poll() is None, f"writer died by itself: {proc.stderr.read()}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        return proc.stdout.read().splitlines()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "kvs.sqlite3"
    rng = random.Random(20250101)
    items: dict[str, str] = {}
    etag: str | None = None
    total_acked = 0
    in_flight_landed = 0
    for round_no in range(ROUNDS):
        lines = run_and_kill(path, seed=rng.randrange(2**32), delay=rng.uniform(0.0, 0.12))
        pending: dict[str, list] | None = None  # type: ignore[type-arg]
        for line in lines:
            if line.startswith("try "):
                pending = json.loads(line[4:])
            elif line.startswith("ack "):
                assert pending is not None
                items = apply(items, pending)
                etag = line[4:]
                pending = None
                total_acked += 1
            else:  # a line cut by the kill can only be the last one, and only a "try"
                assert line == lines[-1], line
                assert "try ".startswith(line[:4]), line
        with KvsService(path=path) as kvs:
            info = kvs.describe("crash")
            found = kvs.export("crash")
            size = sum(len(k.encode()) + len(v.encode()) for k, v in found.items())
            assert (info.item_count, info.total_size) == (len(found), size), f"round {round_no}"
            if found != items or (etag is not None and info.etag != etag):
                # Only the write in flight may have landed on top of the acknowledged ones.
                assert pending is not None, f"round {round_no}: acknowledged writes lost"
                assert found == apply(items, pending), f"round {round_no}: store is not consistent"
                assert info.etag != etag
                in_flight_landed += 1
            items, etag = found, info.etag
            # The reopened store accepts writes at its current version.
            etag = kvs.put_key("crash", "after-crash", str(round_no), if_match=etag).etag
            items["after-crash"] = str(round_no)
    assert total_acked > ROUNDS  # the kills did land mid-stream, not before the first write
