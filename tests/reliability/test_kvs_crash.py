"""Kill a writing process at random points: every acknowledged write must survive, intact.

The writer (kvs_writer.py) announces each write before making it and acknowledges it after.
After each SIGKILL the store must open, be self-consistent, and equal the acknowledged writes
replayed in order — plus, possibly, the one write that was in flight (committed, not yet acked),
wholly: a write, and a seed-file sync (one transaction, see ``KvsService.sync_seed``), is all or
nothing.

Three scenarios: API writes (PutKey, DeleteKey, UpdateKeys) in the killed process; boto3 writes
to ``edgesim kvs serve``, the process killed; and ``edgesim serve``'s seed-file sync
(``sync_kvs_seeds``) of files of up to 2,000 keys mixed with API writes to the same keys. In
the last, the seed the store remembers must match its data too: re-syncing the file that
landed writes nothing (the check serve makes at every start-up).
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config

from edgesim.controlplane.boto import kvs_client
from edgesim.distribution.config import load_config
from edgesim.kvs import KvsService
from edgesim.kvs.importfile import dump_import
from edgesim.stores import kvs_service_for, sync_kvs_seeds
from tests.reliability.conftest import budget
from tests.reliability.kvs_writer import CONFIG, api_op

WRITER = Path(__file__).with_name("kvs_writer.py")
ROUNDS = int(budget(20, 1000))

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")

Op = dict[str, list]  # type: ignore[type-arg]
NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})  # a write is sent once


def apply(items: dict[str, str], op: Op) -> dict[str, str]:
    after = {k: v for k, v in items.items() if k not in op["deletes"]}
    after.update((k, v) for k, v in op["puts"])
    return after


def seed_change(items: dict[str, str], old: dict[str, str], new: dict[str, str]) -> Op:
    """What ``sync_seed`` writes: keys whose value changed between the two seeds, and the old
    seed's keys the new one drops (if still in the store); API writes to other keys stay."""
    puts = [[k, v] for k, v in new.items() if old.get(k) != v]
    deletes = [k for k in old if k not in new and k in items]
    return {"puts": puts, "deletes": deletes}


def run_and_kill(mode: str, folder: Path, seed: int, delay: float) -> list[str]:
    """Start the writer, kill it ``delay`` seconds after it is ready; the log's lines (a last
    line cut by the kill is dropped: it can only announce a write that had not started, or
    acknowledge one that had landed, which counts as in flight)."""
    log = folder / "log"
    log.write_bytes(b"")
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), mode, str(folder), str(seed)],
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
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    lines = log.read_text(encoding="utf-8", errors="replace").split("\n")
    cut = lines.pop()  # "" when the last line was complete
    assert cut == "" or cut.startswith(("try", "ack")) or "try".startswith(cut), cut
    return lines


@dataclass
class Tally:
    trials: int = 0
    acked: int = 0
    seeds_acked: int = 0
    killed_mid_seed: int = 0
    in_flight_landed: int = 0
    seeds_landed: int = 0
    lost: list[str] = field(default_factory=list)

    def record(self, figures: dict[str, object]) -> None:
        figures.update(
            trials=self.trials,
            writes_acknowledged=self.acked,
            lost=len(self.lost),
            in_flight_landed=self.in_flight_landed,
        )


def replay(
    lines: list[str], items: dict[str, str], seed: dict[str, str], tally: Tally
) -> tuple[dict[str, str], dict[str, str], str | None, tuple[str, object] | None]:
    """Replay the acknowledged writes on the model; returns items, the synced seed, the last
    acknowledged ETag and the write in flight at the kill (``("op", op)`` or ``("seed", s)``)."""
    etag = None
    pending: tuple[str, object] | None = None
    for line in lines:
        if line.startswith("try "):
            pending = ("op", json.loads(line[4:]))
        elif line.startswith("try-seed "):
            pending = ("seed", json.loads(line[9:]))
        else:
            assert line.startswith("ack "), line
            assert pending is not None, line
            kind, what = pending
            if kind == "op":
                items = apply(items, what)  # type: ignore[arg-type]
            else:
                items = apply(items, seed_change(items, seed, what))  # type: ignore[arg-type]
                seed = what  # type: ignore[assignment]
                tally.seeds_acked += 1
            etag, pending = line[4:], None
            tally.acked += 1
    return items, seed, etag, pending


def check_consistent(kvs: KvsService, store: str) -> dict[str, str]:
    info = kvs.describe(store)
    found = kvs.export(store)
    size = sum(len(k.encode()) + len(v.encode()) for k, v in found.items())
    assert (info.item_count, info.total_size) == (len(found), size)
    return found


def test_acknowledged_writes_survive_sigkill(tmp_path: Path, figures: dict[str, object]) -> None:
    path = tmp_path / "kvs.sqlite3"
    with KvsService(path=path) as kvs:
        etag = kvs.create_store("crash").etag
    rng = random.Random(20250101)
    items: dict[str, str] = {}
    tally = Tally()
    for round_no in range(ROUNDS):
        lines = run_and_kill("api", tmp_path, seed=rng.randrange(2**32), delay=rng.uniform(0, 0.12))
        tally.trials += 1
        items, _, acked_etag, pending = replay(lines, items, {}, tally)
        etag = acked_etag or etag
        with KvsService(path=path) as kvs:
            found = check_consistent(kvs, "crash")
            info = kvs.describe("crash")
            if found != items or info.etag != etag:
                # Only the write in flight may have landed on top of the acknowledged ones.
                if pending is None or found != apply(items, pending[1]) or info.etag == etag:  # type: ignore[arg-type]
                    tally.lost.append(f"round {round_no}: {len(found)} keys, expected {len(items)}")
                tally.in_flight_landed += 1
            items, etag = found, info.etag
            # The reopened store accepts writes at its current version.
            etag = kvs.put_key("crash", "after-crash", str(round_no), if_match=etag).etag
            items["after-crash"] = str(round_no)
    tally.record(figures)
    assert tally.lost == []
    assert tally.acked > ROUNDS  # the kills did land mid-stream, not before the first write


def test_seed_sync_is_all_or_nothing_under_sigkill(
    tmp_path: Path, figures: dict[str, object]
) -> None:
    config = tmp_path / "edgesim.toml"
    config.write_text(CONFIG, encoding="utf-8")  # the writer's config, read by both sides
    seed_file = tmp_path / "seed.json"
    seed_file.write_bytes(dump_import({}))
    dist = load_config(config)
    with kvs_service_for(dist) as kvs:
        sync_kvs_seeds(kvs, dist)
        etag = kvs.describe("seeded").etag
    rng = random.Random(20250202)
    items: dict[str, str] = {}
    seed: dict[str, str] = {}
    tally = Tally()
    for round_no in range(ROUNDS):
        lines = run_and_kill("seed", tmp_path, seed=rng.randrange(2**32), delay=rng.uniform(0, 0.4))
        tally.trials += 1
        items, seed, acked_etag, pending = replay(lines, items, seed, tally)
        etag = acked_etag or etag
        in_effect = seed
        with kvs_service_for(dist) as kvs:
            found = check_consistent(kvs, "seeded")
            info = kvs.describe("seeded")
            if pending is not None and pending[0] == "seed":
                tally.killed_mid_seed += 1
            if found != items or info.etag != etag:
                landed: dict[str, str] | None = None
                if pending is not None and info.etag != etag:
                    kind, what = pending
                    op = what if kind == "op" else seed_change(items, seed, what)  # type: ignore[arg-type]
                    landed = apply(items, op)  # type: ignore[arg-type]
                if found != landed:
                    tally.lost.append(
                        f"round {round_no}: {len(found)} keys, expected {len(items)} "
                        f"(in flight: {pending and pending[0]})"
                    )
                tally.in_flight_landed += 1
                if pending is not None and pending[0] == "seed":
                    tally.seeds_landed += 1
                    in_effect = pending[1]  # type: ignore[assignment]
            elif (
                pending is not None
                and pending[0] == "seed"
                and found
                == apply(
                    items,
                    seed_change(items, seed, pending[1]),  # type: ignore[arg-type]
                )
            ):
                # A seed that changes no item: only the remembered seed tells whether it
                # landed. Serve's re-sync of the new file then writes nothing or only that.
                in_effect = pending[1]  # type: ignore[assignment]
            items, etag, seed = found, info.etag, in_effect
        # What serve does at start-up: sync the file. The file that landed writes nothing, so
        # the seed remembered with the data came from the same transaction as the data. (When
        # the seed in flight changed no item, either seed is in effect, and syncing the new one
        # writes no item either.)
        seed_file.write_bytes(dump_import(seed))
        with kvs_service_for(dist) as kvs:
            if sync_kvs_seeds(kvs, dist) or kvs.describe("seeded").etag != etag:
                tally.lost.append(f"round {round_no}: the remembered seed disagrees with the data")
                items, etag = kvs.export("seeded"), kvs.describe("seeded").etag
    tally.record(figures)
    figures.update(
        seed_syncs_acknowledged=tally.seeds_acked,
        kills_during_a_seed_sync=tally.killed_mid_seed,
        in_flight_seed_syncs_landed=tally.seeds_landed,
    )
    assert tally.lost == []
    assert tally.seeds_acked > ROUNDS / 2  # the kills landed among syncs, not before them


def boto3_writes(client: object, arn: str, etag: str, rng: random.Random, log: list[str]) -> None:
    """Acknowledged writes through boto3 until the server goes away (the call then raises)."""
    kvs: Any = client
    try:
        while True:
            op = api_op(rng)
            log.append("try " + json.dumps(op))
            puts, deletes = op["puts"], op["deletes"]
            if len(puts) == 1 and not deletes:
                reply = kvs.put_key(KvsARN=arn, Key=puts[0][0], Value=puts[0][1], IfMatch=etag)
            elif len(deletes) == 1 and not puts:
                reply = kvs.delete_key(KvsARN=arn, Key=deletes[0], IfMatch=etag)
            else:
                reply = kvs.update_keys(
                    KvsARN=arn,
                    IfMatch=etag,
                    Puts=[{"Key": k, "Value": v} for k, v in puts],
                    Deletes=[{"Key": k} for k in deletes],
                )
            etag = reply["ETag"]
            log.append(f"ack {etag}")
    except Exception:  # the server was killed: this write is the one in flight
        return


def serve_and_kill(folder: Path, rng: random.Random, arn: str, etag: str) -> list[str]:
    """``edgesim kvs serve`` on a free port, boto3 writing to it, SIGKILL after a random delay."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "edgesim", "kvs", "serve", "--state-dir", str(folder), "--port=0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    assert proc.stderr is not None
    log: list[str] = []
    try:
        banner = proc.stderr.readline()
        found = re.search(r"control plane on (http://\S+)", banner)
        assert found, f"edgesim kvs serve failed to start: {banner}{proc.stderr.read()}"
        client = kvs_client(found.group(1), config=NO_RETRIES)
        writer = threading.Thread(
            target=boto3_writes, args=(client, arn, etag, random.Random(rng.random()), log)
        )
        writer.start()
        time.sleep(rng.uniform(0, 0.3))
        assert proc.poll() is None, f"the server died by itself: {proc.stderr.read()}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        writer.join(timeout=60)
        assert not writer.is_alive(), "a boto3 call outlived the server"
        client.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    return log


def test_boto3_acknowledged_writes_survive_sigkill_of_the_control_plane(
    tmp_path: Path, figures: dict[str, object]
) -> None:
    path = tmp_path / "kvs.sqlite3"
    with KvsService(path=path) as kvs:
        info = kvs.create_store("crash")
    arn, etag = info.arn, info.etag
    rng = random.Random(20250303)
    items: dict[str, str] = {}
    tally = Tally()
    for round_no in range(ROUNDS):
        lines = serve_and_kill(tmp_path, rng, arn, etag)
        tally.trials += 1
        items, _, acked_etag, pending = replay(lines, items, {}, tally)
        etag = acked_etag or etag
        with KvsService(path=path) as kvs:
            found = check_consistent(kvs, "crash")
            now = kvs.describe("crash").etag
            if found != items or now != etag:
                if pending is None or found != apply(items, pending[1]) or now == etag:  # type: ignore[arg-type]
                    tally.lost.append(f"round {round_no}: {len(found)} keys, expected {len(items)}")
                tally.in_flight_landed += 1
            items, etag = found, now
    tally.record(figures)
    assert tally.lost == []
    assert tally.acked > ROUNDS  # the kills did land mid-stream, not before the first write
