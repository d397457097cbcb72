"""Crash-test writer: acknowledged KVS writes, each announced before and after, forever.

    python kvs_writer.py DB_PATH SEED

Prints ``try <json>`` before a write and ``ack <etag>`` once it returned (each line flushed), so
the parent knows which writes were acknowledged when it kills this process.
"""

import json
import random
import sys
from pathlib import Path

from edgesim.kvs import KvsService

KEYS = [f"k{i}" for i in range(30)] + ["é", "日本", "\x00"]


def value(rng: random.Random) -> str:
    return "".join(rng.choice("xyzé€😀") for _ in range(rng.randint(0, 20)))


def main() -> None:
    path, seed = Path(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    kvs = KvsService(path=path)
    names = {s.name for s in kvs.list_stores()}
    etag = (kvs.describe("crash") if "crash" in names else kvs.create_store("crash")).etag
    out = sys.stdout
    out.write("ready\n")
    out.flush()
    while True:
        keys = rng.sample(KEYS, rng.randint(1, 6))
        cut = rng.randint(0, len(keys))
        puts = [(k, value(rng)) for k in keys[:cut]]
        deletes = keys[cut:]
        out.write("try " + json.dumps({"puts": puts, "deletes": deletes}) + "\n")
        out.flush()
        if len(puts) == 1 and not deletes:
            etag = kvs.put_key("crash", puts[0][0], puts[0][1], if_match=etag).etag
        elif len(deletes) == 1 and not puts:
            etag = kvs.delete_key("crash", deletes[0], if_match=etag).etag
        else:
            etag = kvs.update_keys("crash", puts=puts, deletes=deletes, if_match=etag).etag
        out.write(f"ack {etag}\n")
        out.flush()


if __name__ == "__main__":
    main()
