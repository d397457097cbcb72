"""``serve --workers N``'s control process: the only writer (config, builds and reloads, the KVS
and its control plane, the settable clock), the admin server and the observers of finished
requests, and the supervisor of N worker processes serving viewers (edgesim.workers.worker).

Every message to the workers goes through one ordered channel per worker; a command carries the
clock's state and the KVS writes made since the previous one, and each worker acknowledges it
after applying them. An admin request that changes something (a KVS write, ``POST /clock``, an
invalidation) is answered only once every worker acknowledged, so the next viewer request sees
it in whichever worker it lands.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import multiprocessing
import os
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from aiohttp import web

from edgesim import coverage
from edgesim.app import EdgeServer
from edgesim.distribution.model import Distribution
from edgesim.edge.flow import Flow
from edgesim.edge.flow_record import FlowRebuilder, decode_record
from edgesim.errors import InputError
from edgesim.kvs.clock import SettableClock
from edgesim.tls import certificates_for
from edgesim.workers import remote_lambdas
from edgesim.workers import worker as worker_main
from edgesim.workers.caches import WorkersCache, merge_cache_stats
from edgesim.workers.channel import Channel, ChannelClosed, encode
from edgesim.workers.leader import LeaderKvs, leader_kvs_for
from edgesim.workers.messages import (
    Ack,
    Command,
    CoverageData,
    Flows,
    LambdaCall,
    Listen,
    Loaded,
    Ready,
    WorkerConfig,
)
from edgesim.workers.restart import RestartPolicy
from edgesim.workers.shared_cache import SharedCache, create_directory

log = logging.getLogger("edgesim.serve")
INSPECTOR_CACHE = "/inspector/api/cache"  # the Cache view's data (edgesim.inspector.api)
START_TIMEOUT_S = 60.0  # a worker imports edgesim and loads every function before it is ready
COMMAND_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
# The control process gives its CPU up after every few requests it hands to the observers, so a
# worker woken on this CPU runs at once (one-connection p99 2–4 ms → under 1 ms; workers.md).
YIELD_EVERY = 4
_yield_cpu: Callable[[], None] = getattr(os, "sched_yield", lambda: None)  # not on every OS


def worker_count(text: str) -> int:
    """``--workers N|auto``: ``auto`` is the number of CPUs."""
    if text.strip().lower() == "auto":
        return os.cpu_count() or 1
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise InputError(f"--workers {text}: expected a number of processes (1 or more) or auto")
    return count


def _coverage_include() -> tuple[str, ...] | None:
    """EDGESIM_COVERAGE's collector in this process, as the workers start theirs (None: off)."""
    collector = coverage.current()
    return None if collector is None else tuple(str(p) for p in collector.include)


# -- the workers ---------------------------------------------------------------------------------
@dataclass
class WorkerHandle:
    index: int
    process: multiprocessing.process.BaseProcess
    channel: Channel
    pid: int = 0
    pending: dict[int, asyncio.Future[Any]] = field(default_factory=dict)
    flows: int = 0  # finished requests received from it
    stats: dict[str, Any] = field(default_factory=dict)
    reader: asyncio.Task[None] | None = None
    alive: bool = True
    ready: bool = True  # False while a restarted worker catches up (commands are not awaited)
    restarts: int = 0  # how many times this worker was started again after dying


class Supervisor:
    def __init__(self, server: ControlServer, count: int, loop: str) -> None:
        self.server = server
        self.count = count
        self.loop_name = loop
        self.workers: list[WorkerHandle] = []
        self._seq = 0
        self._sync_scheduled = False
        self._stopping = False
        self._rebuilder: FlowRebuilder | None = None
        self._base: WorkerConfig | None = None
        self.policy = RestartPolicy()
        self._restarts: set[asyncio.Task[None]] = set()  # referenced until done
        self._lambda_tasks: set[asyncio.Task[None]] = set()  # workers' lambda calls running

    # -- start and stop ----------------------------------------------------------------------------
    async def start(self, listeners: list[Listen]) -> None:
        server = self.server
        stores = server.kvs.snapshot()
        base = WorkerConfig(
            index=0,
            dist=server.dist,
            clock=server.settable_clock.state,
            stores=stores,
            pops=server.kvs.pops,
            budget=server.budget,
            capture=server.capture.enabled,
            body_limit=server.capture.body_limit if server.capture.enabled else 0,
            keepalive_timeout_s=server.keepalive_timeout_s,
            https_port=server.https_port,
            loop=self.loop_name,
            listeners=listeners,
            coverage=_coverage_include(),
            shared_cache=server.cache.directory if isinstance(server.cache, SharedCache) else None,
        )
        self._base = base
        for index in range(self.count):
            self.workers.append(await self._spawn(replace(base, index=index)))
        try:
            await asyncio.wait_for(
                asyncio.gather(*(self._ready(w) for w in self.workers)), START_TIMEOUT_S
            )
        except (TimeoutError, ChannelClosed):
            await self.stop()
            raise InputError(
                "not serving: a worker process did not start (see its error above)"
            ) from None
        for handle in self.workers:
            handle.reader = asyncio.create_task(self._read(handle))
        gc.set_threshold(*worker_main.GC_THRESHOLDS)  # as the workers (see there)
        server.kvs.on_event = self._schedule_sync

    async def _spawn(self, config: WorkerConfig) -> WorkerHandle:
        ours, theirs = socket.socketpair()
        process = multiprocessing.get_context("spawn").Process(
            target=worker_main.main,
            args=(config, theirs),
            name=f"edgesim-worker-{config.index}",
            daemon=True,
        )
        process.start()
        theirs.close()
        return WorkerHandle(config.index, process, await Channel.open(ours), pid=process.pid or 0)

    async def _ready(self, handle: WorkerHandle) -> None:
        """Wait for the worker's Ready (acks of the commands it applied before are skipped)."""
        while not isinstance(message := await handle.channel.recv(), Ready):
            pass
        handle.pid = message.pid

    async def stop(self) -> None:
        """Each worker stops taking requests, finishes those in flight, sends their records and
        exits; one that does not within the timeout is terminated."""
        self._stopping = True
        self.server.kvs.on_event = None
        for task in list(self._restarts):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for handle in self.workers:
            if handle.alive:
                with contextlib.suppress(ChannelClosed):
                    handle.channel.send(Command(self._next_seq(), "stop"))
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for handle in self.workers:
            if handle.reader is not None:  # it reads the last records, up to the worker's exit
                with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(
                        asyncio.shield(handle.reader), max(0.1, deadline - time.monotonic())
                    )
                handle.reader.cancel()
            await asyncio.to_thread(handle.process.join, max(0.1, deadline - time.monotonic()))
            if handle.process.is_alive():
                # SIGKILL: workers ignore SIGTERM (the control process stops them in order).
                handle.process.kill()
                await asyncio.to_thread(handle.process.join, 2.0)
            await handle.channel.close()

    # -- from the workers -------------------------------------------------------------------------
    async def _read(self, handle: WorkerHandle) -> None:
        try:
            while True:
                message = await handle.channel.recv()
                if isinstance(message, Flows):
                    handle.flows += self._observe(message)
                elif isinstance(message, CoverageData):
                    collector = coverage.current()
                    if collector is not None:  # the reports are written when serve exits
                        collector.merge(message.data)
                elif isinstance(message, LambdaCall):
                    self._lambda_call(handle, message)
                elif isinstance(message, Ack):
                    future = handle.pending.pop(message.seq, None)
                    if future is not None and not future.done():
                        future.set_result(message.result)
        except ChannelClosed:
            pass
        finally:
            handle.alive = False
            handle.stats = {}  # a dead worker's cache no longer exists
            for future in handle.pending.values():
                if not future.done():
                    future.set_exception(ChannelClosed(f"worker {handle.index} exited"))
            handle.pending.clear()
            if not self._stopping:
                await asyncio.to_thread(handle.process.join, 1.0)
                self.server.say_error(
                    f"worker {handle.index} (pid {handle.pid}) exited unexpectedly (exit code "
                    f"{handle.process.exitcode})"
                )
                self._schedule_restart(handle)

    def _lambda_call(self, handle: WorkerHandle, call: LambdaCall) -> None:
        """A worker's Lambda@Edge invocation, run in this process's pool (remote_lambdas.py)."""
        task = asyncio.get_running_loop().create_task(
            remote_lambdas.answer(self.server, handle.channel, call)
        )
        self._lambda_tasks.add(task)
        task.add_done_callback(self._lambda_tasks.discard)

    # -- restarts ---------------------------------------------------------------------------------
    def _schedule_restart(self, dead: WorkerHandle) -> None:
        task = asyncio.get_running_loop().create_task(self._restart(dead))
        self._restarts.add(task)
        task.add_done_callback(self._restarts.discard)

    async def _restart(self, dead: WorkerHandle) -> None:
        """Start worker ``dead.index`` again from the current state (restart.py's policy): the
        accepted distribution, the clock, a snapshot of the KVS; it applies every command sent
        after the snapshot before it listens, so it serves what the others serve."""
        index, restarts = dead.index, dead.restarts
        while not self._stopping:
            delay = self.policy.died(index, time.monotonic())
            if delay is None:
                others = sum(1 for h in self.workers if h.alive)
                serving = (
                    f"{others} other worker{' keeps' if others == 1 else 's keep'} serving"
                    if others
                    else "no worker is left to serve viewers: restart serve"
                )
                self.server.say_error(
                    f"worker {index} died {self.policy.deaths(index)} times within "
                    f"{self.policy.window_s:g} s: not restarting it; {serving}"
                )
                return
            await asyncio.sleep(delay)
            if self._stopping:
                return
            restarts += 1
            handle = await self._start_again(index, restarts)
            if handle is not None:
                self.server.say(f"worker {index} restarted (pid {handle.pid}; restart {restarts})")
                return

    async def _start_again(self, index: int, restarts: int) -> WorkerHandle | None:
        server = self.server
        assert self._base is not None
        # What is pending for the live workers goes to them now: the snapshot holds it, and
        # everything written after it reaches the new worker through the commands.
        self.command("sync")
        config = replace(
            self._base,
            index=index,
            dist=server.dist,
            clock=server.settable_clock.state,
            stores=server.kvs.snapshot(),
            wait_for_listen=True,
            sources={
                name: slot.function.source
                for name, slot in server.proxy.state.functions.slots.items()
                if slot.function is not None
            },
        )
        handle = await self._spawn(config)
        handle.ready, handle.restarts = False, restarts
        self.workers[index] = handle  # commands reach it from now on, in order
        try:
            loaded = await asyncio.wait_for(handle.channel.recv(), START_TIMEOUT_S)
            assert isinstance(loaded, Loaded)
            self.command("sync")  # the clock and KVS writes up to now, then listen
            handle.channel.send(Command(self._next_seq(), "listen"))
            await asyncio.wait_for(self._ready(handle), START_TIMEOUT_S)
        except (TimeoutError, ChannelClosed):
            handle.alive = False
            if handle.process.is_alive():
                handle.process.kill()
            await asyncio.to_thread(handle.process.join, 2.0)
            await handle.channel.close()
            server.say_error(
                f"worker {index} (pid {handle.pid}) did not start again (exit code "
                f"{handle.process.exitcode})"
            )
            return None
        handle.ready = True
        handle.reader = asyncio.create_task(self._read(handle))
        return handle

    def _observe(self, message: Flows) -> int:
        """Hand a worker's finished requests to the observers; how many there were."""
        dist = self.server.dist
        if self._rebuilder is None or self._rebuilder.dist is not dist:
            self._rebuilder = FlowRebuilder(dist)
        rebuilder = self._rebuilder
        records = message.records
        for i, record in enumerate(records):
            if i % YIELD_EVERY == YIELD_EVERY - 1:
                _yield_cpu()
            flow = rebuilder.flow_of(decode_record(record))
            flow.record = record  # the inspector keeps it as it came
            self.server.proxy_finished(flow)
        return len(records)

    # -- to the workers ---------------------------------------------------------------------------
    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def command(self, op: str, **fields: Any) -> list[tuple[WorkerHandle, asyncio.Future[Any]]]:
        """Send a command, with the clock's state and the KVS writes since the last one, to
        every worker (in order with everything sent before); the futures of its acks."""
        seq = self._next_seq()
        frame = encode(
            Command(
                seq,
                op,
                clock=self.server.settable_clock.state,
                kvs=self.server.kvs.take_events(),
                **fields,
            )
        )
        loop = asyncio.get_running_loop()
        futures: list[tuple[WorkerHandle, asyncio.Future[Any]]] = []
        for handle in self.workers:
            if not handle.alive:
                continue
            try:
                handle.channel.send_raw(frame)
            except ChannelClosed:
                continue
            if not handle.ready:  # catching up: applies it before it listens, not awaited
                continue
            future: asyncio.Future[Any] = loop.create_future()
            # A command nobody waits for (a sync) still ends in the worker's death when it dies:
            # read that here, or asyncio logs "Future exception was never retrieved".
            future.add_done_callback(_retrieve)
            handle.pending[seq] = future
            futures.append((handle, future))
        return futures

    async def run(self, op: str, **fields: Any) -> list[tuple[WorkerHandle, Any]]:
        """:meth:`command`, once every worker acknowledged it: each worker's result. A worker
        that does not answer within COMMAND_TIMEOUT_S is named on the console and left out (the
        change is made in the others; the admin request is answered, not failed)."""
        sent = self.command(op, **fields)
        if not sent:
            return []
        await asyncio.wait([f for _, f in sent], timeout=COMMAND_TIMEOUT_S)
        results: list[tuple[WorkerHandle, Any]] = []
        for handle, future in sent:
            if not future.done():
                future.cancel()
                for seq in [k for k, v in handle.pending.items() if v is future]:
                    del handle.pending[seq]
                self.server.say_error(
                    f"worker {handle.index} (pid {handle.pid}) did not acknowledge {op!r} "
                    f"within {COMMAND_TIMEOUT_S:g} s"
                )
            elif future.exception() is None:
                results.append((handle, future.result()))
        return results

    def _schedule_sync(self) -> None:
        """A KVS write outside an admin request (a seed file reload): sent on the next turn of
        the loop, with whatever else was written by then."""
        if self._sync_scheduled or self._stopping:
            return
        self._sync_scheduled = True
        loop = asyncio.get_running_loop()
        loop.call_soon(self._sync_now)

    def _sync_now(self) -> None:
        self._sync_scheduled = False
        if not self._stopping:
            self.command("sync")

    async def refresh_stats(self) -> None:
        for handle, stats in await self.run("stats"):
            handle.stats = stats if isinstance(stats, dict) else {}

    async def refresh_objects(self) -> None:
        """Each worker's cached objects, for the inspector's Cache view (per-worker caches)."""
        cache = self.server.cache
        if isinstance(cache, WorkersCache):
            results = await self.run("objects")
            cache.listed = [obj for _, objs in results if isinstance(objs, list) for obj in objs]

    def status(self) -> list[dict[str, Any]]:
        return [
            {
                "index": h.index,
                "pid": h.pid,
                "alive": h.alive,
                "starting": h.alive and not h.ready,
                "restarts": h.restarts,
                "requests": h.flows,
                "cache_entries": h.stats.get("cache", {}).get("entries"),
                # How many versions of each function it loaded (1 at start, +1 per reload).
                "function_versions": h.stats.get("functions", {}),
            }
            for h in self.workers
        ]

    def cache_stats(self, pops: Sequence[str]) -> dict[str, Any] | None:
        """The workers' caches together (each worker has its own): counts and bytes summed,
        budgets as each worker has them."""
        rows = [h.stats["cache"] for h in self.workers if h.alive and "cache" in h.stats]
        return merge_cache_stats(rows, pops) if rows else None


# -- the control process's server ------------------------------------------------------------------
class ControlServer(EdgeServer):
    """:class:`EdgeServer` without viewer listeners of its own: workers serve them."""

    def __init__(
        self,
        dist: Distribution,
        *,
        workers: int,
        loop: str = "asyncio",
        shared_cache: bool = False,
        **kwargs: Any,
    ):
        settings = dist.server
        self.settable_clock = SettableClock(settings.now, frozen=settings.frozen)
        self.kvs: LeaderKvs = leader_kvs_for(dist, self.settable_clock)
        self.supervisor = Supervisor(self, workers, loop)
        try:
            super().__init__(dist, kvs=self.kvs, clock=self.settable_clock, **kwargs)
        except BaseException:
            self.kvs.close()
            raise
        cache = self.cache
        # serve --shared-cache or [cache] shared: the one cache every worker opens; else each
        # worker's own, added up in /status and /metrics.
        self.shared_cache = shared_cache or dist.cache.shared
        if self.shared_cache:
            self.cache = SharedCache(
                create_directory(),
                owner=True,
                clock=self.clock.monotonic,
                memory_limit_bytes=dist.cache.memory_limit_bytes,
                disk_limit_bytes=dist.cache.disk_limit_bytes,
            )
        else:
            workers_cache = WorkersCache(
                clock=self.clock.monotonic,
                memory_limit_bytes=dist.cache.memory_limit_bytes,
                disk_limit_bytes=dist.cache.disk_limit_bytes,
                count_entry_overhead=True,
            )
            workers_cache.supervisor = self.supervisor
            self.cache = workers_cache
        cache.close()
        self.proxy.cache = self.cache
        self._reserved: list[socket.socket] = []
        self._reload_tasks: set[asyncio.Task[None]] = set()  # referenced until done

    def proxy_finished(self, flow: Flow) -> None:
        """A worker's finished request, handed to this process's observers (as the proxy hands
        its own: an observer's bug never stops the others)."""
        for observer in self.proxy.observers:
            try:
                observer.flow_finished(flow)
            except Exception:
                log.exception("flow observer %r failed", observer)

    async def _listen_viewers(self, port: int | None, https_port: int | None) -> None:
        server = self.dist.server
        listeners = [self._reserve(server.host, port, server.port, None)]
        self.viewer_port = listeners[0].port
        if server.https:
            names = [*self.dist.aliases, server.domain_name]
            self.tls = certificates_for(None if server.ephemeral else server.state_dir, names)
            files = (str(self.tls.cert), str(self.tls.key))
            listeners.append(self._reserve(server.host, https_port, server.https_port, files))
            self.https_port = listeners[1].port
            self.proxy.https_port = self.https_port
        await self.supervisor.start(listeners)
        sharing = "they share one cache" if self.shared_cache else "each has its own cache"
        self.say(
            f"{self.supervisor.count} worker processes serve viewers "
            f"(pids {', '.join(str(w.pid) for w in self.supervisor.workers)}); "
            f"{sharing} (docs/workers.md)"
        )

    def _reserve(
        self, host: str, port: int | None, configured: int, tls: tuple[str, str] | None
    ) -> Listen:
        """Take the port for the workers: with SO_REUSEPORT (Linux, macOS) a socket bound here,
        never listening, holds it while every worker listens on its own (the kernel spreads
        connections over them); elsewhere a listening socket the workers share."""
        wanted = configured if port is None else port
        family, kind, proto, _, address = socket.getaddrinfo(
            host, wanted, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        reuse = hasattr(socket, "SO_REUSEPORT")
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # Bound without SO_REUSEPORT first: a port another process holds (even one of
            # another serve's workers) is refused here, never silently shared.
            sock.bind(address)
            bound = sock.getsockname()
            if reuse:
                sock.close()
                sock = socket.socket(family, kind, proto)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                sock.bind(bound)
            else:
                sock.listen(1024)
                sock.setblocking(False)
        except OSError as exc:
            sock.close()
            raise InputError(
                f"cannot listen on {host}:{wanted}: {exc.strerror or exc} (another process may "
                "be using it; choose another with --port / --https-port / --admin-port or "
                "[server] port / https_port / admin_port)"
            ) from None
        self._reserved.append(sock)
        return Listen(host, int(bound[1]), reuse, tls, None if reuse else sock)

    def admin_app(self) -> web.Application:
        admin = super().admin_app()
        admin.middlewares.append(self._workers_middleware)
        return admin

    @web.middleware
    async def _workers_middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        supervisor = self.supervisor
        if request.method in ("GET", "HEAD", "OPTIONS"):
            if request.path in ("/status", "/metrics", INSPECTOR_CACHE):
                await supervisor.refresh_stats()
            if request.path == INSPECTOR_CACHE:
                await supervisor.refresh_objects()
            return await handler(request)
        response = await handler(request)
        if request.path == "/cache/invalidations" and response.status == 200:
            # Checked and answered for this process's cache: the shared one (then each worker
            # drops its fills for those paths, and counts what one committed meanwhile), or an
            # empty one (then each worker's own cache answers).
            paths = tuple((await request.json())["paths"])
            here: dict[str, int] = {}
            if self.shared_cache and isinstance(response, web.Response) and response.body:
                here = json.loads(bytes(response.body))["invalidated"]  # type: ignore[arg-type]
            results = await supervisor.run("invalidate", paths=paths)
            removed = {
                p: int(here.get(p, 0)) + sum(int(r.get(p, 0)) for _, r in results) for p in paths
            }
            return web.json_response({"invalidated": removed})
        await supervisor.run("sync")  # the clock, KVS writes: in every worker before the answer
        return response

    def status(self) -> dict[str, Any]:
        doc = super().status()
        doc["workers"] = self.supervisor.status()
        return doc

    async def stop(self) -> None:
        try:
            if self.supervisor.workers:
                await self.supervisor.stop()
            for sock in self._reserved:
                sock.close()
            self._reserved.clear()
            await super().stop()
        finally:
            self.kvs.close()

    # -- reloads: decided here, then applied in every worker --------------------------------------
    def reload_function_file(self, path: Path) -> bool:
        matched = super().reload_function_file(path)
        reloaded = tuple(
            name
            for name, slot in self.proxy.state.functions.slots.items()
            if slot.decl.file.resolve() == path.resolve() and slot.last_error is None
        )
        if reloaded and self.supervisor.workers:
            self._in_workers(self.supervisor.run("reload_functions", names=reloaded))
        return matched

    def reload_config(self, dist: Distribution) -> None:
        before = self.proxy.state
        if dist.cache.shared != before.dist.cache.shared:
            self.say_error(
                f"[cache] shared = {str(dist.cache.shared).lower()} applies when serve starts: "
                f"the workers keep {'one shared cache' if self.shared_cache else 'a cache each'}"
            )
        super().reload_config(dist)
        if self.proxy.state is not before and self.supervisor.workers:
            self._in_workers(self.supervisor.run("reload_config", dist=self.proxy.state.dist))

    def _in_workers(self, done: Awaitable[list[Any]]) -> None:
        """Apply a reload in the workers (in order with every other command) and say when one
        of them could not."""

        async def report() -> None:
            for _handle, result in await done:
                errors = result.values() if isinstance(result, dict) else result or ()
                for error in errors:
                    if error:
                        self.say_error(f"a worker could not reload: {error}")

        task = asyncio.get_running_loop().create_task(report())
        self._reload_tasks.add(task)
        task.add_done_callback(self._reload_tasks.discard)


__all__ = ["ControlServer", "LeaderKvs", "Supervisor", "merge_cache_stats", "worker_count"]


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
