"""``edgesim serve`` assembled: the distribution, KVS, functions, cache, the edge proxy, the
observers of finished requests (metrics, request log, the inspector's capture) and the admin API,
on one clock.

Two listeners, both on 127.0.0.1 by default: the viewer port (the distribution) and the admin
port (KVS control plane, ``/status``, ``/metrics``, cache invalidation, the inspector at ``/``),
guarded against DNS rebinding and cross-site requests (``edgesim.controlplane.guard``). The
reload operations (a function file, a seed file, a whole config) live here because they swap this
object's state; watching files for them is ``edgesim.devloop.reloader``'s job.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import sys
from collections.abc import Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from aiohttp import web

from edgesim.admin import add_admin_routes
from edgesim.build.serve import ServeBuilds
from edgesim.clock_admin import add_clock_routes, clock_banner
from edgesim.controlplane.app import setup_admin
from edgesim.controlplane.guard import HostPolicy, guard, new_token
from edgesim.devloop.metrics import Metrics
from edgesim.devloop.recorder import TrafficRecorder
from edgesim.devloop.requestlog import RequestLog
from edgesim.distribution.model import Distribution, LocalOrigin
from edgesim.edge import listener, signed_urls
from edgesim.edge.cache import HttpCache
from edgesim.edge.functions import FunctionRegistry
from edgesim.edge.lambdas import RETIRE_AFTER_S, LambdaRegistry, LambdaSlot
from edgesim.edge.origin import OriginClient
from edgesim.edge.proxy import EdgeProxy, EdgeState
from edgesim.edge.stages.functions import record_runs
from edgesim.errors import FunctionLoadError, InputError
from edgesim.inspector.api import Inspector
from edgesim.inspector.capture import FlowCapture
from edgesim.kvs.clock import Clock, SettableClock
from edgesim.kvs.service import KvsService
from edgesim.origins.buckets import LocalBuckets
from edgesim.runtime.function import BudgetPolicy
from edgesim.stores import kvs_service_for, sync_kvs_seeds
from edgesim.tls import LocalTls, certificates_for


class EdgeServer:
    def __init__(
        self,
        dist: Distribution,
        *,
        log_format: str = "text",
        stream: TextIO | None = None,
        budget: BudgetPolicy | None = None,
        kvs: KvsService | None = None,
        clock: Clock | None = None,
        capture: bool | None = None,
        capture_flows: int | None = None,
        capture_body_bytes: int | None = None,
        record: Path | None = None,
    ) -> None:
        """``clock`` is the one clock of this edge (cache TTLs and Age, functions' ``Date``, KVS
        propagation): a :class:`~edgesim.kvs.clock.VirtualClock` lets a test move them all.
        Given a ``kvs`` service and no clock, the service's clock is used.

        ``capture`` (default on) keeps the last ``capture_flows`` requests (default 1,000) for
        the inspector, with generated bodies up to ``capture_body_bytes`` (default 4,096);
        unset, each comes from ``[server] inspector``, ``inspector_flows`` and
        ``inspector_body_bytes``."""
        self.stream = stream or sys.stderr
        # Functions built from sources (edgesim.build): built before they load, rebuilt by the
        # reloader; positions serve prints are then given in the sources.
        self.builds = ServeBuilds(dist.functions, dist.lambdas, dist.all_behaviors())
        self.stream = self.builds.wrap(self.stream)
        settings = dist.server
        self.capture = FlowCapture(
            settings.inspector_flows if capture_flows is None else capture_flows,
            body_limit=(
                settings.inspector_body_bytes if capture_body_bytes is None else capture_body_bytes
            ),
        )
        self.capture.enabled = settings.inspector if capture is None else capture
        # What the inspector shows as each function's last reload: {"at_ms", "ok", "error"}.
        self.reloads: dict[str, dict[str, object]] = {}
        # The per-process secret the inspector page sends with every state-changing request.
        self.token = new_token()
        self.budget = budget or BudgetPolicy()
        # Unless given one, serve runs on a clock users set ([server] now / frozen, POST /clock).
        self.clock: Clock = clock or (
            kvs.clock if kvs is not None else SettableClock(settings.now, frozen=settings.frozen)
        )
        self.kvs = kvs or kvs_service_for(dist, clock=self.clock)
        self._owns_kvs = kvs is None
        for note in sync_kvs_seeds(self.kvs, dist):
            self.say(note)
        self.builds.build_all(self.say, self.say_error)
        functions = self._registry(dist)
        for error in functions.load_all():
            self.say_error(error)
        self.metrics = Metrics()
        self.request_log = RequestLog(
            fmt=log_format, stream=self.stream, access_log=dist.server.access_log
        )
        # [cache] budgets, for all POPs together; memory counts each entry's estimated cost.
        self.cache = HttpCache(
            clock=self.clock.monotonic,
            memory_limit_bytes=dist.cache.memory_limit_bytes,
            disk_limit_bytes=dist.cache.disk_limit_bytes,
            count_entry_overhead=True,
        )
        self.origins = OriginClient()
        # Lambda@Edge functions: Node.js workers started on first use (checked in start()).
        self.lambdas = self._lambda_registry(dist)
        self._tasks: set[asyncio.Task[None]] = set()
        self._retired: list[LambdaRegistry] = []  # replaced versions, closed by stop() at last
        self.proxy = EdgeProxy(
            EdgeState(dist, functions, self.lambdas),
            cache=self.cache,
            origins=self.origins,
            clock=self.clock,
            observers=[self.metrics, self.request_log, self.capture],
        )
        # serve --record: every viewer request appended to a recording for `edgesim rehearse`.
        # No bodies: CloudFront Functions never see one, and the edge streams them to the origin.
        self.recorder = TrafficRecorder(record, body_limit=0) if record is not None else None
        if self.recorder is not None:
            self.proxy.observers.append(self.recorder)
        self._runners: list[web.BaseRunner] = []
        # Idle keep-alive connections (and a request head that never completes) are closed after
        # this many seconds on every listener: [server] keepalive_timeout_s (edgesim.edge.listener).
        self.keepalive_timeout_s = dist.server.keepalive_timeout_s
        self.buckets = LocalBuckets(self.clock.wall)  # [origins_local] directories as S3
        self.tls: LocalTls | None = None
        self.viewer_port = 0
        self.https_port: int | None = None
        self.admin_port = 0

    def banner(self) -> list[str]:
        """What serve prints once it listens: where, and the settings that change what a
        developer sees (KVS propagation, throttling, local origins)."""
        dist, host = self.dist, self.dist.server.host
        lines = [
            f"viewers: http://{host}:{self.viewer_port}"
            + (f"  https://{host}:{self.https_port}" if self.https_port else "")
            + f"  admin (KVS API, /status, /metrics): http://{host}:{self.admin_port}",
            f"inspector: {self.inspector_url}",
            f"kvs propagation: {_describe_propagation(dist)}",
        ]
        lines += clock_banner(self.clock)
        lines += signed_urls.banner(dist)
        throttling = dist.throttling
        lines.append(
            "throttling: off"
            if not throttling.enabled
            else f"throttling: {throttling.min_invocations}+ runs in {throttling.window_s:g} s, "
            f"{throttling.over_budget_ratio:.0%} over budget → {throttling.duration_s:g} s"
        )
        for key, local in sorted(dist.origins_local.items()):
            lines.append(f"origin {key} → {_local_label(local)}")
        if self.recorder is not None:
            lines.append(f"recording viewer requests to {self.recorder.path} (edgesim rehearse)")
        if self.tls is not None:
            lines += list(self.tls.notes)
            lines.append(f"https: trust this CA to avoid certificate warnings: {self.tls.ca_cert}")
        return lines

    @property
    def inspector_url(self) -> str:
        """Where a browser opens the inspector: a server bound to every address is reached on
        loopback (a name the admin server answers to)."""
        host = self.dist.server.host
        host = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, host)
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{self.admin_port}/"

    def _lambda_registry(self, dist: Distribution) -> LambdaRegistry:
        def clock_ms() -> float:
            return self.clock.wall().timestamp() * 1000

        return LambdaRegistry(dist, clock_ms=clock_ms)

    def reload_lambda_file(self, path: Path) -> bool:
        """A lambda's source file changed (or a build rewrote its file or package directory):
        load the new version in a worker first; it serves once it loads, else the last good
        version keeps serving. True if a lambda uses it."""
        current = self.lambdas
        names = [
            name
            for name, slot in current.slots.items()
            if (slot.decl.file.is_file() or slot.decl.build is not None)
            and slot.decl.file.resolve() == path.resolve()
        ]
        if not names:
            return False
        fresh = LambdaRegistry(self.dist, budget=current.budget, clock_ms=current.clock_ms)
        for name, slot in current.slots.items():
            if name not in names:
                fresh.slots[name] = slot
            else:
                fresh.slots[name].version = slot.version + 1
        self._background(self._swap_lambdas(current, fresh, names, path))
        return True

    async def _swap_lambdas(
        self, current: LambdaRegistry, fresh: LambdaRegistry, names: list[str], path: Path
    ) -> None:
        try:
            errors = await fresh.check({name: fresh.slots[name] for name in names})
        except asyncio.CancelledError:  # serve is stopping: the new version's worker too
            await fresh.close(keep=current)
            raise
        failed = [name for name in names if fresh.slots[name].last_error]
        for error in errors:
            self.say_error(f"{error}\nnot reloaded: still serving the last good version")
        fresh.keep_last_good(current, failed)
        if len(failed) == len(names):
            await fresh.close(keep=current)
            return
        if self.lambdas is not current:
            # A config reload replaced the registry meanwhile: keep what it took over, and load
            # the edit again on top of it.
            await fresh.close(keep=self.lambdas)
            self.reload_lambda_file(path)
            return
        self.lambdas = fresh
        state = self.proxy.state
        self.proxy.swap(EdgeState(state.dist, state.functions, fresh))
        self._retire(current, fresh)
        for name in names:
            if name not in failed:
                self.say(f"lambda {name}: reloaded from {path}")

    def _background(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _registry(self, dist: Distribution) -> FunctionRegistry:
        functions = FunctionRegistry(
            dist.functions,
            kvs=self.kvs,
            budget=self.budget,
            throttling=dist.throttling,
            clock=self.clock.monotonic,
            wall=lambda: self.clock.wall().timestamp(),
        )
        # The inspector shows each invocation's event in and out and its KVS reads.
        record_runs(functions, self.capture.enabled)
        return functions

    def load_errors(self, *, strict_only: bool = False) -> list[str]:
        """One line per function that failed to load (and so is not serving); with
        ``strict_only``, only those with strict compatibility (a lenient one that cannot load
        answers 503 FunctionExecutionError instead, as at the edge)."""
        return self.proxy.state.functions.load_errors(strict_only=strict_only)

    @property
    def dist(self) -> Distribution:
        return self.proxy.state.dist

    def say(self, line: str) -> None:
        self._flush_request_lines()
        print(f"edgesim: {line}", file=self.stream, flush=True)

    def say_error(self, text: str) -> None:
        """An error the developer must act on, set apart from ordinary notes."""
        self._flush_request_lines()
        lines = text.splitlines() or [""]
        print(f"edgesim: ERROR {lines[0]}", file=self.stream, flush=True)
        for line in lines[1:]:
            print(f"    {line}", file=self.stream, flush=True)

    def _flush_request_lines(self) -> None:
        """The request log holds its lines until the event loop turns (one write for many):
        they go out first, so the console keeps the order things happened in."""
        request_log = getattr(self, "request_log", None)  # say() runs in __init__ before it
        if request_log is not None:
            request_log.flush()

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(
        self,
        *,
        port: int | None = None,
        admin_port: int | None = None,
        https_port: int | None = None,
    ) -> None:
        """Listen on the viewer (HTTP and, unless turned off, HTTPS) and admin ports, and serve
        the directories mapped as S3 origins. A function that cannot be loaded (it does not
        compile, or breaks a strict compatibility rule) stops here: serve refuses what
        ``edgesim test`` refuses (FunctionLoadError, exit 1)."""
        failed_builds = self.builds.failures()
        if failed_builds:
            raise FunctionLoadError(
                "not serving: the build failed (fix it and start again):\n"
                + "\n".join(failed_builds)
            )
        errors = self.load_errors(strict_only=True)
        if errors:
            raise FunctionLoadError(
                "not serving: CloudFront would not run these functions (set compat = "
                '"lenient" or rules = {...} on the function in [[functions]] to serve anyway):\n'
                + "\n".join(errors)
            )
        failed_lambdas = await self.lambdas.check()
        if failed_lambdas:
            await self.lambdas.close()
            raise InputError(
                "not serving: these Lambda@Edge functions do not load (CloudFront would not "
                "accept the association):\n" + "\n".join(failed_lambdas)
            )
        await self.buckets.serve(self.dist)
        self.proxy.swap(
            EdgeState(self.buckets.resolve(self.dist), self.proxy.state.functions, self.lambdas)
        )
        server = self.dist.server
        # Client-caused errors never print tracebacks from aiohttp's own logger (one line each).
        listener.quiet_client_errors()
        await self._listen_viewers(port, https_port)
        admin_runner = await self._runner(self.admin_app())
        self.admin_port = await self._site(admin_runner, server.host, admin_port, server.admin_port)

    async def _listen_viewers(self, port: int | None, https_port: int | None) -> None:
        """The viewer listeners, served by this process (``serve --workers`` replaces this:
        edgesim.workers.supervisor)."""
        server = self.dist.server
        # CloudFront's request limits and edgesim's timeouts (edgesim.edge.listener); requests
        # the parser cannot read are answered and logged by the pipeline.
        runner = listener.viewer_runner(
            self.proxy.handle, self.proxy.refuse, keepalive_timeout=self.keepalive_timeout_s
        )
        await runner.setup()
        self._runners.append(runner)
        self.viewer_port = await self._site(runner, server.host, port, server.port)
        if server.https:
            names = [*self.dist.aliases, server.domain_name]
            self.tls = certificates_for(None if server.ephemeral else server.state_dir, names)
            self.https_port = await self._site(
                runner, server.host, https_port, server.https_port, ssl_context=self.tls.context
            )
            self.proxy.https_port = self.https_port

    def admin_app(self) -> web.Application:
        """The admin server's application: KVS APIs, ``/status``, ``/metrics``, invalidations
        and the inspector, behind the DNS-rebinding and cross-site guards."""
        server = self.dist.server
        policy = HostPolicy(server.admin_allowed_hosts, bound=server.host)
        admin = web.Application(middlewares=[guard(policy, self.token)])
        add_admin_routes(admin, self)
        if isinstance(self.clock, SettableClock):
            add_clock_routes(admin, self.clock)
        setup_admin(admin, self.kvs)
        inspector = Inspector(self, self.capture, self.token)
        inspector.add_routes(admin)
        inspector.timeline.observe(self)  # the stores as they start: later writes are charted
        return admin

    async def _runner(self, app: web.Application) -> web.AppRunner:
        runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=1.0, keepalive_timeout=self.keepalive_timeout_s
        )
        await runner.setup()
        self._runners.append(runner)
        return runner

    async def _site(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int | None,
        configured: int,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> int:
        """Listen on ``port`` (else the configured one; 0: a free port); returns the port."""
        wanted = configured if port is None else port
        site = web.TCPSite(runner, host, wanted, ssl_context=ssl_context)
        try:
            await site.start()
        except OSError as exc:
            raise InputError(
                f"cannot listen on {host}:{wanted}: {exc.strerror or exc} (another process may "
                "be using it; choose another with --port / --https-port / --admin-port or "
                "[server] port / https_port / admin_port)"
            ) from None
        return int(runner.addresses[-1][1])  # this site's socket: the runner's newest

    async def stop(self) -> None:
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()
        await self.buckets.stop()
        if self.tls is not None:
            self.tls.close()
            self.tls = None
        await self.origins.close()
        for task in list(self._tasks):  # reload checks and retirements still waiting
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for registry in [*self._retired, self.lambdas]:
            await registry.close()
        self._retired.clear()
        self.cache.close()
        self.request_log.close()
        if self.recorder is not None:
            await self.recorder.aclose()
        if self._owns_kvs:
            self.kvs.close()

    # -- hot reload ----------------------------------------------------------------------------
    def reload_function_file(self, path: Path) -> bool:
        """Reload every function whose file is ``path``; True if one matched."""
        state = self.proxy.state
        matched = False
        for name, slot in state.functions.slots.items():
            if slot.decl.file.resolve() == path.resolve():
                matched = True
                error = state.functions.reload(name)
                self._note_reload(name, error)
                if error:
                    self.say_error(f"{error}\nnot reloaded: still serving the last good version")
                else:
                    self.say(f"function {name}: reloaded from {path}")
        return matched

    def _note_reload(self, name: str, error: str | None) -> None:
        """What the inspector shows as a function's last reload."""
        at_ms = round(self.clock.wall().timestamp() * 1000)  # the edge clock's time, as flows'
        error = error and self.builds.relabeler.text(error)  # a built function: in its sources
        self.reloads[name] = {"at_ms": at_ms, "ok": not error, "error": error}

    def _note_reloads(self, functions: FunctionRegistry, refused: list[str]) -> None:
        """A config reload reloads every function: each one's result (a refused config keeps
        the previous functions, so every function is then marked as not reloaded)."""
        for name, slot in functions.slots.items():
            error = slot.last_error and f"function {name}: {slot.last_error}"
            if refused and not error:
                error = "config not reloaded: " + "; ".join(refused)
            self._note_reload(name, error or None)

    def reload_seed_file(self, path: Path) -> bool:
        matched = False
        for decl in self.dist.kvs.values():
            if decl.data is not None and decl.data.resolve() == path.resolve():
                matched = True
                try:
                    for note in sync_kvs_seeds(self.kvs, replace(self.dist, kvs={decl.name: decl})):
                        self.say(note + " (propagating to POPs)")
                except Exception as exc:
                    self.say(f"kvs seed {path}: not applied, the store keeps its data: {exc}")
        return matched

    def reload_config(self, dist: Distribution) -> None:
        """Swap in a new distribution (already validated); functions are reloaded.

        The POP list and the listeners are fixed for the life of the process (every store has a
        replica per POP): changing them needs a restart, and the running config is kept."""
        current = self.dist
        fixed = (
            ("[edges] pops", current.edges.pops, dist.edges.pops),
            ("[edges] propagation", current.edges.propagation, dist.edges.propagation),
            ("[server]", current.server, dist.server),
        )
        changed = [label for label, old, new in fixed if old != new]
        new_dirs = self.buckets.unserved(dist) if self._runners else []
        if new_dirs:
            changed.append(f"[origins_local] directories ({', '.join(sorted(new_dirs))})")
        if changed:
            self.say(
                f"config not reloaded: {', '.join(changed)} changed; restart edgesim serve to "
                "apply that (still serving the previous configuration)"
            )
            return
        for note in sync_kvs_seeds(self.kvs, dist):
            self.say(note)
        # A changed build runs on the next watched change.
        self.builds.update(dist.functions, dist.lambdas, dist.all_behaviors())
        functions = self._registry(dist)
        failed = functions.load_all()
        refused = functions.load_errors(strict_only=True)
        self._note_reloads(functions, refused)
        if refused:
            self.say_error(
                "\n".join(refused) + "\nconfig not reloaded: still serving the previous one"
            )
            return
        for error in failed:  # lenient functions: served, answering 503 until they load
            self.say_error(error)
        lambdas = self._reload_lambdas(dist)
        self.buckets.role_keys_for(dist)  # the signing lambdas' keys, as they now are
        self.proxy.swap(EdgeState(self.buckets.resolve(dist), functions, lambdas))
        self.cache.set_limits(  # a smaller [cache] budget evicts now
            memory_limit_bytes=dist.cache.memory_limit_bytes,
            disk_limit_bytes=dist.cache.disk_limit_bytes,
        )
        self.say("configuration reloaded")

    def _reload_lambdas(self, dist: Distribution) -> LambdaRegistry:
        """The lambdas of a reloaded config: unchanged ones keep their workers; new or changed
        ones serve at once and are loaded in the background — one that does not load goes back
        to its last good version (a new one answers 503 until fixed)."""
        current = self.lambdas
        fresh = LambdaRegistry(dist, clock_ms=current.clock_ms)
        changed = fresh.carried_over(current)
        self.lambdas = fresh
        if changed:
            self._background(self._check_reloaded(current, fresh, changed))
        self._retire(current, fresh)
        return fresh

    def _retire(self, old: LambdaRegistry, successor: LambdaRegistry) -> None:
        """Stop ``old``'s workers (those ``successor`` did not take over) once no invocation
        can be left in flight; at the latest when serve stops."""
        self._retired.append(old)

        async def later() -> None:
            await asyncio.sleep(RETIRE_AFTER_S)
            await old.close(keep=successor)

        self._background(later())

    async def _check_reloaded(
        self, previous: LambdaRegistry, fresh: LambdaRegistry, changed: dict[str, LambdaSlot]
    ) -> None:
        errors = await fresh.check(changed)
        failed = [name for name, slot in changed.items() if slot.last_error]
        if failed:
            fresh.keep_last_good(previous, failed)
            for error in errors:
                self.say_error(f"{error}\nnot reloaded: still serving the last good version")

    def status(self) -> dict[str, Any]:
        stores = []
        for info in self.kvs.list_stores():
            stores.append(
                {
                    "name": info.name,
                    "id": info.id,
                    "etag": info.etag,
                    "items": info.item_count,
                    "pops": [
                        {
                            "pop": p.pop,
                            "version": p.version,
                            "etag": p.etag,
                            "pending": [
                                {"version": v, "lands_in_s": round(s, 3)} for v, s in p.pending
                            ],
                        }
                        for p in self.kvs.propagation_status(info.name)
                    ],
                }
            )
        return {
            "viewer_port": self.viewer_port,
            "admin_port": self.admin_port,
            "config": _config_label(self.dist),
            "pops": list(self.dist.edges.pops),
            "functions": self.builds.relabel_functions(self.proxy.state.functions.status()),
            "builds": self.builds.status(),
            "lambdas": self.lambdas.status(),
            "kvs": stores,
            "cache": self.cache.stats(pops=self.dist.edges.pops),  # entries, bytes per POP
        }


async def serve_forever(server: EdgeServer) -> None:
    await server.start()
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def _describe_propagation(dist: Distribution) -> str:
    spec = dist.edges.propagation
    if spec.model == "uniform":
        text = f"each POP {spec.min_ms:g}–{spec.max_ms:g} ms after a write (seed {spec.seed})"
    else:
        text = "instant" if not spec.lag_ms else f"{spec.lag_ms:g} ms after a write"
    if spec.per_pop_ms:
        pins = ", ".join(f"{pop} {ms:g} ms" for pop, ms in sorted(spec.per_pop_ms.items()))
        text += f"; pinned: {pins}"
    if spec.model == "uniform" or spec.lag_ms:
        text += ' (instant: [edges] propagation = { model = "fixed", lag_ms = 0 })'
    return text


def _config_label(dist: Distribution) -> str:
    if dist.config_path is not None:
        return str(dist.config_path)
    if dist.sources:
        return f"imported from {dist.sources[0]}"
    return "(bundled demo)"


def _local_label(local: LocalOrigin) -> str:
    """How the banner shows an [origins_local] entry."""
    checks = f", checking signatures for {local.access.region}" if local.access else ""
    if local.regions:
        urls = dict(local.region_urls)
        by_region = ", ".join(f"{r}: {d} at {urls.get(r, '?')}" for r, d in local.regions)
        return (
            f"S3 buckets by region ({by_region}){', checking signatures' if local.access else ''}"
        )
    if local.directory is not None:
        return f"{local.directory} (served as an S3 bucket at {local.url}{checks})"
    return str(local.url)
