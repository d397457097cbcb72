"""Crash-test writer: acknowledged KVS writes, each announced before and after, forever.

    python kvs_writer.py api  DIR SEED   # API writes (PutKey, DeleteKey, UpdateKeys)
    python kvs_writer.py seed DIR SEED   # serve's seed-file sync, mixed with API writes

Writes ``DIR/log``: ``try <json>`` before a write and ``ack <etag>`` once it returned, one line
each, flushed (a file, not a pipe: a full pipe would stall the writer, so the kills would land
while it waits instead of mid-write). Prints ``ready`` on stdout once the store is open.

In ``seed`` mode the writer keeps ``DIR/edgesim.toml`` declaring store ``seeded`` with
``data = "seed.json"``, rewrites the seed file (from 0 to 2,000 keys, so a sync is a large
transaction) and applies it exactly as ``edgesim serve`` does at start-up and on reload
(``sync_kvs_seeds``); between syncs it makes API writes to keys the seed also owns.
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path
from typing import IO

from edgesim.distribution.config import load_config
from edgesim.kvs import KvsService
from edgesim.kvs.importfile import dump_import
from edgesim.stores import kvs_service_for, sync_kvs_seeds

KEYS = [f"k{i}" for i in range(30)] + ["é", "日本", "\x00"]
SEED_KEYS = [f"s{i}" for i in range(3000)] + KEYS[:10]
SEED_SIZES = [0, 1, 7, 60, 600, 2000]
CONFIG = """\
[server]
state_dir = "state"

[[origins]]
id = "app"
url = "http://127.0.0.1:9"

[default_behavior]
origin = "app"

[[kvs]]
name = "seeded"
data = "seed.json"
"""


def value(rng: random.Random) -> str:
    return "".join(rng.choice("xyzé€😀") for _ in range(rng.randint(0, 20)))


def seed_items(rng: random.Random) -> dict[str, str]:
    keys = rng.sample(SEED_KEYS, min(rng.choice(SEED_SIZES), len(SEED_KEYS)))
    return {k: value(rng) for k in keys}


def api_op(rng: random.Random) -> dict[str, list]:  # type: ignore[type-arg]
    keys = rng.sample(KEYS, rng.randint(1, 6))
    cut = rng.randint(0, len(keys))
    return {"puts": [(k, value(rng)) for k in keys[:cut]], "deletes": keys[cut:]}


def api_write(kvs: KvsService, store: str, op: dict[str, list], etag: str) -> str:  # type: ignore[type-arg]
    puts, deletes = op["puts"], op["deletes"]
    if len(puts) == 1 and not deletes:
        return kvs.put_key(store, puts[0][0], puts[0][1], if_match=etag).etag
    if len(deletes) == 1 and not puts:
        return kvs.delete_key(store, deletes[0], if_match=etag).etag
    return kvs.update_keys(store, puts=puts, deletes=deletes, if_match=etag).etag


def say(log: IO[str], line: str) -> None:
    log.write(line + "\n")
    log.flush()


def run_api(folder: Path, rng: random.Random, log: IO[str]) -> None:
    kvs = KvsService(path=folder / "kvs.sqlite3")
    names = {s.name for s in kvs.list_stores()}
    etag = (kvs.describe("crash") if "crash" in names else kvs.create_store("crash")).etag
    print("ready", flush=True)
    while True:
        op = api_op(rng)
        say(log, "try " + json.dumps(op))
        etag = api_write(kvs, "crash", op, etag)
        say(log, f"ack {etag}")


def write_seed(path: Path, items: dict[str, str]) -> None:
    # Saved whole (temp file + rename): the subject here is the store, not a half-saved file.
    temp = path.with_suffix(".tmp")
    temp.write_bytes(dump_import(items))
    os.replace(temp, path)


def run_seed(folder: Path, rng: random.Random, log: IO[str]) -> None:
    dist = load_config(folder / "edgesim.toml")  # CONFIG, written by the parent
    kvs = kvs_service_for(dist)
    sync_kvs_seeds(kvs, dist)  # serve's start-up: the file as it is now (the last one acked)
    print("ready", flush=True)
    while True:
        if rng.random() < 0.5:
            items = seed_items(rng)
            say(log, "try-seed " + json.dumps(items))
            write_seed(folder / "seed.json", items)
            sync_kvs_seeds(kvs, dist)
            say(log, f"ack {kvs.describe('seeded').etag}")
        else:
            op = api_op(rng)
            say(log, "try " + json.dumps(op))
            etag = api_write(kvs, "seeded", op, kvs.describe("seeded").etag)
            say(log, f"ack {etag}")


def main() -> None:
    mode, folder, seed = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    with open(folder / "log", "a", encoding="utf-8") as log:
        (run_api if mode == "api" else run_seed)(folder, rng, log)


if __name__ == "__main__":
    main()
