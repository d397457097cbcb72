"""What the control process and its workers tell each other (a finished request travels as a
record: edgesim/edge/flow_record.py)."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgesim.distribution.model import Distribution
from edgesim.kvs.clock import ClockState
from edgesim.kvs.replicas import ReplicaSetState
from edgesim.kvs.store import Change
from edgesim.runtime.function import BudgetPolicy
from edgesim.runtime.source import FunctionSource


# -- starting a worker -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Listen:
    """One viewer listener: a port every worker binds with SO_REUSEPORT (the kernel spreads
    connections over them), or ``fd``, a socket the control process bound and every worker
    accepts on (``sock``, where SO_REUSEPORT does not exist). ``tls``: (certificate, key) files."""

    host: str
    port: int
    reuse_port: bool
    tls: tuple[str, str] | None = None
    sock: socket.socket | None = None


@dataclass(frozen=True)
class WorkerConfig:
    index: int
    dist: Distribution  # resolved: [origins_local] directories as the URLs serving them
    clock: ClockState
    stores: list[tuple[str, ReplicaSetState]]  # (name, state) of every store
    pops: tuple[str, ...]
    budget: BudgetPolicy
    capture: bool  # the inspector records function events and KVS reads
    body_limit: int  # generated bodies kept for the inspector, in bytes
    keepalive_timeout_s: float
    https_port: int | None
    loop: str  # "uvloop" or "asyncio"
    listeners: list[Listen] = field(default_factory=list)
    shared_cache: Path | None = None  # the directory of the cache every worker shares
    # A restarted worker: it applies the commands sent since its snapshot (KVS writes, the
    # clock, reloads) before it listens, up to a "listen" command.
    wait_for_listen: bool = False
    # A restarted worker: each function's code as the control process accepted it (the file
    # may hold a version it refused since).
    sources: dict[str, FunctionSource] = field(default_factory=dict)
    # EDGESIM_COVERAGE in the control process: the collector's ``include`` (None: off). The
    # worker records the same way and sends its counts when it stops (CoverageData).
    coverage: tuple[str, ...] | None = None


# -- control process → worker (each carries a sequence number the worker acknowledges) ------------
@dataclass(frozen=True)
class StoreAdded:
    name: str
    state: ReplicaSetState


@dataclass(frozen=True)
class StoreChanged:
    store_id: str
    change: Change
    lands: dict[str, float]  # POP -> clock reading (monotonic seconds) it lands at


@dataclass(frozen=True)
class StoreDeleted:
    store_id: str


KvsEvent = StoreAdded | StoreChanged | StoreDeleted


@dataclass(frozen=True)
class Command:
    seq: int
    op: str  # sync | reload_functions | reload_config | invalidate | stats | listen | stop
    clock: ClockState | None = None
    kvs: tuple[KvsEvent, ...] = ()
    names: tuple[str, ...] = ()
    dist: Distribution | None = None
    paths: tuple[str, ...] = ()


# -- worker → control process ---------------------------------------------------------------------
@dataclass(frozen=True)
class Ready:
    index: int
    pid: int


@dataclass(frozen=True)
class Loaded:
    """A restarted worker loaded its functions and waits for the commands sent meanwhile."""

    index: int
    pid: int


@dataclass(frozen=True)
class Ack:
    seq: int
    result: Any = None


@dataclass(frozen=True)
class CoverageData:
    """A stopping worker's function coverage (``Collector.to_dict``), for the control
    process's collector to merge before it writes the reports."""

    data: dict[str, Any]


@dataclass(frozen=True)
class Flows:
    """Finished requests, each as :func:`~edgesim.edge.flow_record.encode_record` makes it."""

    records: list[bytes]


# -- Lambda@Edge: the workers' invocations run in the control process's one pool -----------------
@dataclass(frozen=True)
class LambdaCall:
    """worker → control process: run lambda ``name`` for a request served at ``pop``."""

    id: int
    name: str
    pop: str
    event_type: str
    request: dict[str, Any]
    response: dict[str, Any] | None
    config: dict[str, Any] | None
    now: float | None


@dataclass(frozen=True)
class LambdaReply:
    """control process → worker: the outcome of call ``id`` (``error``: it could not run)."""

    id: int
    outcome: Any = None  # a LambdaOutcome
    error: str | None = None
