"""KVS writers for the soak: threads that write through boto3 (the real client, SigV4A) against
serve's admin port and record every write the server acknowledged.

Each writer owns its keys (``w-<writer>-<n>`` updated again and again, ``t-<writer>-<n>`` put
then deleted), so the expected final state of a key is simply the last acknowledged operation on
it. Writers share one store, so their ``If-Match`` ETags race: a ``ConflictException`` is the
API working as documented (re-read the ETag, retry); any other error is a failure the test
reports.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from botocore.config import Config  # type: ignore[import-untyped]

from edgesim.controlplane.boto import kvs_client

NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=30)
W_KEYS = 12
T_KEYS = 6


@dataclass(frozen=True)
class Ack:
    key: str
    value: str | None  # None: deleted
    seq: int  # the writer's operation counter, written into the value
    at: float  # time.monotonic() when the acknowledgement arrived


def parse_seq(value: str) -> int:
    """``<writer>:<seq>:<n>`` → seq."""
    return int(value.split(":")[1])


@dataclass
class Ledger:
    """Every acknowledged write, in acknowledgement order (per writer)."""

    acks: list[Ack] = field(default_factory=list)
    conflicts: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, acks: list[Ack]) -> None:
        with self.lock:
            self.acks.extend(acks)

    def final_state(self) -> dict[str, str | None]:
        with self.lock:
            return {ack.key: ack.value for ack in self.acks}

    def settled_before(self, key: str, instant: float) -> Ack | None:
        """The last acknowledged write to ``key`` acknowledged before ``instant``."""
        with self.lock:
            found = None
            for ack in self.acks:
                if ack.key == key and ack.at <= instant:
                    found = ack
            return found


class Writer(threading.Thread):
    """Writes until ``stop`` is set: PutKey mostly, UpdateKeys batches, DeleteKey."""

    def __init__(
        self, name: str, endpoint: str, arn: str, ledger: Ledger, stop: threading.Event
    ) -> None:
        super().__init__(name=f"kvs-writer-{name}", daemon=True)
        self.tag, self.endpoint, self.arn = name, endpoint, arn
        self.ledger, self.stop_event = ledger, stop
        self.rng = random.Random(name)
        self.seq = 0

    def run(self) -> None:
        client = kvs_client(self.endpoint, config=NO_RETRIES)
        try:
            etag = client.describe_key_value_store(KvsARN=self.arn)["ETag"]
            while not self.stop_event.is_set():
                try:
                    etag = self._one(client, etag)
                except client.exceptions.ConflictException:
                    with self.ledger.lock:
                        self.ledger.conflicts += 1
                    etag = client.describe_key_value_store(KvsARN=self.arn)["ETag"]
                self.stop_event.wait(self.rng.uniform(0.05, 0.25))
        except Exception as exc:  # anything but a conflict is a failure of the soak
            self.ledger.errors.append(f"{self.name}: {type(exc).__name__}: {exc}")
        finally:
            client.close()

    def _one(self, client: Any, etag: str) -> str:
        self.seq += 1
        seq, tag, roll = self.seq, self.tag, self.rng.random()
        if roll < 0.15:
            keys = self.rng.sample(range(W_KEYS), 3)
            puts = [{"Key": f"w-{tag}-{n}", "Value": f"{tag}:{seq}:{n}"} for n in keys]
            reply = client.update_keys(KvsARN=self.arn, IfMatch=etag, Puts=puts)
            self.ledger.record([Ack(p["Key"], p["Value"], seq, time.monotonic()) for p in puts])
        elif roll < 0.25:
            key = f"t-{tag}-{self.rng.randrange(T_KEYS)}"
            value = f"{tag}:{seq}:t"
            reply = client.put_key(KvsARN=self.arn, Key=key, Value=value, IfMatch=etag)
            self.ledger.record([Ack(key, value, seq, time.monotonic())])
            self.seq += 1
            reply = client.delete_key(KvsARN=self.arn, Key=key, IfMatch=reply["ETag"])
            self.ledger.record([Ack(key, None, self.seq, time.monotonic())])
        else:
            n = self.rng.randrange(W_KEYS)
            key, value = f"w-{tag}-{n}", f"{tag}:{seq}:{n}"
            reply = client.put_key(KvsARN=self.arn, Key=key, Value=value, IfMatch=etag)
            self.ledger.record([Ack(key, value, seq, time.monotonic())])
        new: str = reply["ETag"]
        return new
