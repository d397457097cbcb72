"""A worker process: the edge proxy on the shared viewer port(s), with its own cache and
functions, a follower KVS and a follower clock, sending finished requests to the control
process (edgesim.workers.supervisor) in batches."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
import os
import signal
import socket
import ssl
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from aiohttp import web

from edgesim import coverage
from edgesim.distribution.model import Distribution
from edgesim.edge import functions as edge_functions
from edgesim.edge import listener
from edgesim.edge.cache import HttpCache
from edgesim.edge.flow import Flow
from edgesim.edge.flow_record import encode_record, record_of
from edgesim.edge.functions import FunctionRegistry
from edgesim.edge.origin import OriginClient
from edgesim.edge.proxy import EdgeProxy, EdgeState
from edgesim.edge.stages.functions import record_runs
from edgesim.kvs.clock import ClockState, SettableClock
from edgesim.kvs.service import KvsService
from edgesim.runtime.source import FunctionSource
from edgesim.workers.channel import Channel, ChannelClosed
from edgesim.workers.follower import FollowerKvs
from edgesim.workers.messages import (
    Ack,
    Command,
    CoverageData,
    Flows,
    LambdaReply,
    Listen,
    Loaded,
    Ready,
    WorkerConfig,
)
from edgesim.workers.remote_lambdas import RemoteLambdas
from edgesim.workers.shared_cache import SharedCache

log = logging.getLogger("edgesim.workers")

# Python's cyclic collector runs a young collection every 700 new container objects by default;
# each request makes hundreds (almost all freed by reference counting). Collecting less often
# measured 238 → 140 µs of CPU per request in the control process (A/B benchmark function, two
# workers), which decodes every finished request into new objects. The older generations keep
# small multipliers so that a full collection still comes every ~1M new objects: with (100,000,
# 50, 100) it came almost never, and the reliability soak's RSS grew 11% in 2 minutes.
GC_THRESHOLDS = (10_000, 10, 10)

# The inspector's Cache view lists at most this many of a worker's objects (the most recent).
LISTED = 1000

# Finished requests go to the control process in batches: at most this many, or this late.
# Small batches keep the control process's work on each one short (it runs on a CPU a worker
# may need next). Measured together with supervisor.py's YIELD_EVERY: batches of 16 and a yield
# every 4 requests halved the one-connection p99 of two workers against batches of 64 and a
# yield every 8, for no more CPU per request (docs/workers.md).
BATCH_FLOWS = 16
BATCH_DELAY_S = 0.05


class FollowerClock:
    """The control process's settable clock, read here: a new state replaces the old one whole
    (the readings are what :class:`SettableClock` computes from that state)."""

    def __init__(self, state: ClockState) -> None:
        self._clock = SettableClock.from_state(state)

    def set_state(self, state: ClockState) -> None:
        self._clock = SettableClock.from_state(state)

    def monotonic(self) -> float:
        return self._clock.monotonic()

    def wall(self) -> datetime:
        return self._clock.wall()

    def wall_ns(self) -> int:
        return self._clock.wall_ns()


class FlowForwarder:
    """The worker's only flow observer: records of finished flows, sent in batches."""

    def __init__(self, channel: Channel, body_limit: int) -> None:
        self._channel = channel
        self._body_limit = body_limit
        self._batch: list[bytes] = []
        self._timer: asyncio.TimerHandle | None = None
        self.requests = 0

    def flow_finished(self, flow: Flow) -> None:
        self.requests += 1
        try:
            self._batch.append(encode_record(record_of(flow, self._body_limit)))
        except (TypeError, ValueError):  # neither encoder could hold something a stage marked
            log.exception("a finished request could not be sent to the control process")
            return
        if len(self._batch) >= BATCH_FLOWS:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(BATCH_DELAY_S, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._batch:
            return
        batch, self._batch = self._batch, []
        with contextlib.suppress(ChannelClosed):  # the control process is gone: nobody to log for
            self._channel.send(Flows(batch))


class Worker:
    def __init__(self, config: WorkerConfig, channel: Channel) -> None:
        self.config = config
        self.channel = channel
        self.clock = FollowerClock(config.clock)
        self.kvs = FollowerKvs(config.pops, self.clock.monotonic, config.stores)
        dist = config.dist
        self.cache: HttpCache
        if config.shared_cache is not None:  # one cache for every worker (shared_cache.py)
            self.cache = SharedCache(
                config.shared_cache,
                owner=False,
                clock=self.clock.monotonic,
                memory_limit_bytes=dist.cache.memory_limit_bytes,
                disk_limit_bytes=dist.cache.disk_limit_bytes,
            )
        else:
            self.cache = HttpCache(
                clock=self.clock.monotonic,
                memory_limit_bytes=dist.cache.memory_limit_bytes,
                disk_limit_bytes=dist.cache.disk_limit_bytes,
                count_entry_overhead=True,
            )
        self.origins = OriginClient()
        self.forwarder = FlowForwarder(channel, config.body_limit)
        functions = self._registry(dist)
        with _accepted_sources(config.sources):
            for error in functions.load_all():  # the control process printed it already
                log.debug("worker %d: %s", config.index, error)
        # Lambda@Edge: run by the control process's one pool (workers/remote_lambdas.py).
        self.lambdas = RemoteLambdas(dist, channel, self._wall_ms)
        self.proxy = EdgeProxy(
            EdgeState(dist, functions, self.lambdas),
            cache=self.cache,
            origins=self.origins,
            clock=self.clock,
            observers=[self.forwarder],
        )
        self.proxy.https_port = config.https_port
        self._runner: web.BaseRunner | None = None

    def _wall_ms(self) -> float:
        return self.clock.wall().timestamp() * 1000

    def _registry(self, dist: Distribution) -> FunctionRegistry:
        functions = FunctionRegistry(
            dist.functions,
            kvs=cast(KvsService, self.kvs),  # the edge reads pops and replica_of only
            budget=self.config.budget,
            throttling=dist.throttling,
            clock=self.clock.monotonic,
            wall=lambda: self.clock.wall().timestamp(),
        )
        record_runs(functions, self.config.capture)
        return functions

    async def start(self) -> None:
        listener.quiet_client_errors()
        runner = listener.viewer_runner(
            self.proxy.handle, self.proxy.refuse, keepalive_timeout=self.config.keepalive_timeout_s
        )
        await runner.setup()
        self._runner = runner
        for spec in self.config.listeners:
            await web.SockSite(runner, _listening_socket(spec), ssl_context=_tls(spec)).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()  # in-flight requests finish (shutdown timeout)
        self.forwarder.flush()
        await self.origins.close()
        await self.lambdas.close()
        self.cache.close()

    # -- the control process's commands ----------------------------------------------------------
    def handle(self, command: Command) -> Any:
        if command.clock is not None:
            self.clock.set_state(command.clock)
        if command.kvs:
            self.kvs.apply(command.kvs)
        op = command.op
        if op == "reload_functions":
            functions = self.proxy.state.functions
            names = [name for name in command.names if name in functions.slots]
            return {name: functions.reload(name) for name in names}
        if op == "reload_config" and command.dist is not None:
            return self._reload_config(command.dist)
        if op == "invalidate":
            # Shared: the control process removed the entries; this drops this worker's fills
            # for those paths, and whatever one of them committed meanwhile (counted here).
            return {path: self.cache.invalidate(path) for path in command.paths}
        if op == "stats":
            return self.stats()
        if op == "objects":  # the inspector's Cache view, per-worker caches
            return [dataclasses.replace(o, body=None) for o in self.cache.objects()[-LISTED:]]
        return None

    def _reload_config(self, dist: Distribution) -> list[str]:
        functions = self._registry(dist)
        errors = functions.load_all()
        self.lambdas = RemoteLambdas(dist, self.lambdas.channel, self._wall_ms)
        self.proxy.swap(EdgeState(dist, functions, self.lambdas))
        self.cache.set_limits(
            memory_limit_bytes=dist.cache.memory_limit_bytes,
            disk_limit_bytes=dist.cache.disk_limit_bytes,
        )
        return errors

    def stats(self) -> dict[str, Any]:
        self.forwarder.flush()  # the counts the control process has then match ours
        state = self.proxy.state
        stats = {
            "index": self.config.index,
            "pid": os.getpid(),
            "requests": self.forwarder.requests,
            "functions": {name: slot.versions for name, slot in state.functions.slots.items()},
        }
        if self.config.shared_cache is None:  # shared: the control process reads it whole
            stats["cache"] = self.cache.stats(pops=state.dist.edges.pops)
        return stats


@contextlib.contextmanager
def _accepted_sources(sources: dict[str, FunctionSource]) -> Iterator[None]:
    """While a restarted worker loads its functions: each file reads as the version the control
    process serves (a later edit it refused stays unread), through the registry's own loading
    (the same checks, the same file names in errors and coverage)."""
    if not sources:
        yield
        return
    by_file = {source.filename: source for source in sources.values()}
    namespace = vars(edge_functions)  # where FunctionRegistry.reload finds read_function
    read = namespace["read_function"]

    def accepted(path: str | Path) -> FunctionSource:
        found = by_file.get(str(path))
        return found if found is not None else cast(FunctionSource, read(path))

    namespace["read_function"] = accepted
    try:
        yield
    finally:
        namespace["read_function"] = read


def _listening_socket(spec: Listen) -> socket.socket:
    if spec.sock is not None:
        return spec.sock
    family, kind, proto, _, address = socket.getaddrinfo(
        spec.host, spec.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def _tls(spec: Listen) -> ssl.SSLContext | None:
    """The HTTPS context as edgesim.tls makes it, from the control process's certificate."""
    if spec.tls is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    context.load_cert_chain(*spec.tls)
    return context


async def _serve(config: WorkerConfig, sock: socket.socket) -> None:
    channel = await Channel.open(sock)
    worker = Worker(config, channel)
    try:
        if config.wait_for_listen and not await _catch_up(worker, channel):
            return
        await worker.start()
        # As serve does once it is up (serve_cli.settle_heap): the start-up heap out of the
        # cyclic collector's view, which would otherwise rescan it under load.
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        channel.send(Ready(config.index, os.getpid()))
        while True:
            message = await channel.recv()
            if isinstance(message, LambdaReply):
                worker.lambdas.resolve(message)
                continue
            command: Command = message
            if command.op == "stop":
                break
            _apply(worker, channel, command)
    except ChannelClosed:
        pass  # the control process went away: stop
    finally:
        await worker.stop()
        _send_coverage(channel)
        with contextlib.suppress(ChannelClosed):
            await channel.drain()
        await channel.close()


def _send_coverage(channel: Channel) -> None:
    """The function coverage this worker recorded, to the control process (which writes the
    reports): sent once, when the worker stops (a worker killed takes its counts with it)."""
    collector = coverage.current()
    if collector is None:
        return
    try:
        channel.send(CoverageData(collector.to_dict()))
    except ChannelClosed:
        pass
    except Exception:  # never stop a worker's exit over its coverage
        log.exception("the function coverage could not be sent to the control process")


async def _catch_up(worker: Worker, channel: Channel) -> bool:
    """A restarted worker, before it listens: apply what the control process sent since the
    snapshot it started from (KVS writes, the clock, reloads), up to "listen". False: told to
    stop instead."""
    channel.send(Loaded(worker.config.index, os.getpid()))
    while True:
        command: Command = await channel.recv()
        if command.op == "stop":
            return False
        _apply(worker, channel, command)
        if command.op == "listen":
            return True


def _apply(worker: Worker, channel: Channel, command: Command) -> None:
    try:
        result = worker.handle(command)
    except Exception as exc:  # report it, keep serving
        log.exception("worker %d: %s failed", worker.config.index, command.op)
        result = {"error": f"{type(exc).__name__}: {exc}"}
    worker.forwarder.flush()  # requests served before the command are counted first
    channel.send(Ack(command.seq, result))


def main(config: WorkerConfig, sock: socket.socket) -> None:
    """The worker process's entry point (multiprocessing, spawn)."""
    # Ctrl-C reaches every process of the terminal's group: the control process stops the
    # workers itself, after it stopped taking requests.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if config.loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    logging.basicConfig(stream=sys.stderr, format=f"edgesim: worker {config.index}: %(message)s")
    if config.coverage is not None:  # before any function loads: every one is measured
        coverage.start(config.coverage)
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(_serve(config, sock))
