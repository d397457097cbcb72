"""The inspector's routes on the admin server: the page (``/``), its static files, the JSON API
under ``/inspector/api/`` and the live stream of new requests (Server-Sent Events).

Every route is read-only but one, ``POST /inspector/api/send`` (the request composer); KVS writes
and invalidations from the page go through the admin server's own routes (the KVS API with its
ETag check, ``/cache/invalidations``). :mod:`edgesim.controlplane.guard` guards all of them.
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import Callable, Iterator
from importlib import resources
from typing import TYPE_CHECKING, Any

import aiohttp
import orjson
from aiohttp import web

from edgesim.controlplane.guard import TOKEN_HEADER
from edgesim.errors import KvsError
from edgesim.inspector import views
from edgesim.inspector.capture import FlowCapture, KeptFlow

if TYPE_CHECKING:
    from edgesim.app import EdgeServer

API = "/inspector/api"
STATIC = "/inspector/static"
INSPECTOR_KEY: web.AppKey[Inspector] = web.AppKey("edgesim_inspector")
KEEPALIVE_S = 15.0  # a comment line on an idle stream, so proxies and browsers keep it open
BATCH_S = 0.05  # new flows are sent at most this often per client (a burst in slices, below)
# How long a stream renders flows before writing them and letting the event loop turn. Each
# flow costs a few µs (its record decoded for the row), and a request gives the loop several
# turns: a busy 50 ms batch (hundreds of flows) rendered at once held every request behind it.
# The benchmark's A/B c=1 p99 with a client connected (fresh serves, 4 rounds; 0.5 ms with no
# client): 1.9 ms rendered at once; in slices of 32 flows 1.4 ms; of 0.1 ms 1.2 ms; of 30 µs
# 0.8 ms (1.15 ms when the slices were written together at the end).
STREAM_SLICE_S = 0.00003
MAX_LIST = 1_000
_STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


def _json(doc: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(doc, default=str), status=status, content_type="application/json"
    )


def flow_events(
    kept: list[KeptFlow],
    slice_s: float,
    clock: Callable[[], float] = time.perf_counter,
    *,
    shared: bool = True,
) -> Iterator[bytes]:
    """The live stream's ``event: flow`` messages for ``kept``, in order, as chunks: each holds
    the flows rendered within about ``slice_s`` (at least one); the caller writes a chunk and lets
    the event loop turn before asking for the next. ``shared``: other clients will want the same
    rows (each row is then kept on its flow)."""
    parts: list[bytes] = []
    started = clock()
    for flow in kept:
        row = flow.summary_json(keep=shared)
        parts.append(b"id: %d\nevent: flow\ndata: %b\n\n" % (flow.seq, row))
        if clock() - started >= slice_s:
            yield b"".join(parts)
            parts = []
            started = clock()
    if parts:
        yield b"".join(parts)


def _error(status: int, code: str, message: str) -> web.Response:
    return _json({"error": {"code": code, "message": message}}, status)


class Inspector:
    """The inspector of one :class:`EdgeServer`: its capture, KVS timeline and token."""

    def __init__(self, server: EdgeServer, capture: FlowCapture, token: str) -> None:
        self.server = server
        self.capture = capture
        self.token = token
        self.timeline = views.KvsTimeline()
        self._page: bytes | None = None
        self._closing = False

    async def _close_streams(self, app: web.Application) -> None:
        """On shutdown, end the live streams at once instead of waiting out their idle wait."""
        self._closing = True
        self.capture.wake()

    def add_routes(self, app: web.Application) -> None:
        app[INSPECTOR_KEY] = self
        app.on_shutdown.append(self._close_streams)
        router = app.router
        router.add_get("/", self.page)
        router.add_get(STATIC + "/{name}", self.static)
        router.add_get(API + "/flows", self.flows)
        router.add_get(API + "/flows/{ref}", self.flow)
        router.add_get(API + "/stream", self.stream)
        router.add_get(API + "/functions", self.functions)
        router.add_get(API + "/kvs", self.kvs)
        router.add_get(API + "/kvs/{store}/keys", self.kvs_keys)
        router.add_get(API + "/cache", self.cache)
        router.add_get(API + "/distribution", self.distribution)
        router.add_get(API + "/info", self.info)
        router.add_post(API + "/send", self.send)

    # -- the page ------------------------------------------------------------------------------
    async def page(self, request: web.Request) -> web.Response:
        if self._page is None:
            text = _static_text("index.html")
            self._page = text.replace("{{TOKEN}}", html.escape(self.token)).encode()
        # The token is in the page: never let another origin frame it, and never cache it.
        headers = {
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
            "Referrer-Policy": "no-referrer",
        }
        return web.Response(
            body=self._page, content_type="text/html", charset="utf-8", headers=headers
        )

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        suffix = name[name.rfind(".") :] if "." in name else ""
        if "/" in name or name.startswith(".") or suffix not in _STATIC_TYPES:
            raise web.HTTPNotFound()
        try:
            text = _static_text(name)
        except FileNotFoundError:
            raise web.HTTPNotFound() from None
        return web.Response(
            text=text, content_type=_STATIC_TYPES[suffix], headers={"Cache-Control": "no-cache"}
        )

    # -- requests ------------------------------------------------------------------------------
    async def flows(self, request: web.Request) -> web.Response:
        """The captured flows, newest last, filtered (``pop``, ``status``, ``x_cache``, ``q``:
        text in the path), after ``after`` (a sequence number), at most ``limit``."""
        query = request.query
        try:
            after = int(query.get("after", "0"))
            limit = min(MAX_LIST, int(query.get("limit", str(MAX_LIST))))
        except ValueError:
            return _error(400, "InvalidArgument", "after and limit must be integers")
        match = _filter(query)
        rows = [row for row in map(KeptFlow.summary, self.capture.kept_since(after)) if match(row)]
        return _json(
            {
                "flows": rows[-limit:] if limit > 0 else [],
                "last": self.capture.last_seq,
                "capacity": self.capture.size,
                "kept": len(self.capture.flows),
            }
        )

    async def flow(self, request: web.Request) -> web.Response:
        ref = request.match_info["ref"]
        captured = self.capture.find(ref)
        if captured is None:
            return _error(
                404,
                "NotFound",
                f"no request {ref!r} among the last {self.capture.size} the inspector keeps",
            )
        return _json(self._in_sources(captured.detail()))

    def _in_sources(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Positions in a built function's file given in its sources, as the console gives
        them (issue 15): each run's error position and stack, and the request's error."""
        relabel = self.server.builds.relabeler.position
        for run in doc["function_runs"]:
            if run["error_position"]:
                run["error_position"] = relabel(run["error_position"])
            run["error_stack"] = [relabel(line) for line in run["error_stack"]]
        error = doc.get("error")
        if error and error.get("position"):
            error["position"] = relabel(error["position"])
        return doc

    async def stream(self, request: web.Request) -> web.StreamResponse:
        """Server-Sent Events: ``event: flow`` with a summary per new request (after the
        ``Last-Event-ID`` or ``after`` given, else only new ones), ``event: kvs`` when a store's
        replicas change, a comment line every 15 s when idle."""
        start = request.headers.get("Last-Event-ID") or request.query.get("after")
        last = int(start) if start and start.isdigit() else self.capture.last_seq
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        waiter = self.capture.subscribe()
        waiter.set()  # flows already kept after ``last`` go out at once
        kvs_state = self._kvs_state()
        try:
            await response.write(b"retry: 1000\n\n")
            while not self._closing:
                try:
                    await asyncio.wait_for(waiter.wait(), timeout=KEEPALIVE_S)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                waiter.clear()
                if self._closing:
                    break
                # A list, not the ring's live view: requests finishing while this client's
                # slices wait their turn shift the ring's positions.
                pending = list(self.capture.kept_since(last))
                shared = self.capture.clients > 1
                for chunk in flow_events(pending, STREAM_SLICE_S, shared=shared):
                    await response.write(chunk)
                    await asyncio.sleep(0)  # requests go on between slices
                if pending:
                    last = pending[-1].seq
                state = self._kvs_state()
                if state != kvs_state:
                    kvs_state = state
                    await response.write(b"event: kvs\ndata: {}\n\n")
                await asyncio.sleep(BATCH_S)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.capture.unsubscribe(waiter)
        return response

    def _kvs_state(self) -> tuple[tuple[str, str, tuple[int, ...]], ...]:
        """A cheap fingerprint of every store's replicas (the stream says when it changes)."""
        kvs = self.server.kvs
        return tuple(
            (info.name, info.etag, tuple(p.version for p in kvs.propagation_status(info.name)))
            for info in kvs.list_stores()
        )

    # -- the other views -----------------------------------------------------------------------
    async def functions(self, request: web.Request) -> web.Response:
        return _json(views.functions_view(self.server, self.capture))

    async def kvs(self, request: web.Request) -> web.Response:
        return _json(views.kvs_view(self.server, self.timeline))

    async def kvs_keys(self, request: web.Request) -> web.Response:
        try:
            return _json(views.kvs_keys_view(self.server, request.match_info["store"]))
        except KvsError as exc:
            return _error(404, "NotFound", str(exc))

    async def cache(self, request: web.Request) -> web.Response:
        return _json(views.cache_view(self.server))

    async def distribution(self, request: web.Request) -> web.Response:
        return _json(views.distribution_view(self.server))

    async def info(self, request: web.Request) -> web.Response:
        server = self.server
        return _json(
            {
                "viewer_port": server.viewer_port,
                "admin_port": server.admin_port,
                "pops": list(server.dist.edges.pops),
                "capacity": self.capture.size,
                "body_limit": self.capture.body_limit,
                "capturing": self.capture.enabled,
                "token_header": TOKEN_HEADER,
                "now_ms": server.clock.wall().timestamp() * 1000,
            }
        )

    # -- the request composer ------------------------------------------------------------------
    async def send(self, request: web.Request) -> web.Response:
        """Send a request to the viewer port: ``{"method", "path", "headers": [[n, v]...],
        "pop"?, "country"?}``; answers the new request's status and id (its detail is then in
        the flows)."""
        try:
            doc = await request.json()
        except ValueError:
            return _error(400, "InvalidArgument", "body must be JSON")
        problem = _send_problem(doc)
        if problem:
            return _error(400, "InvalidArgument", problem)
        headers = [(str(n), str(v)) for n, v in doc.get("headers") or []]
        if doc.get("pop"):
            headers.append(("x-edgesim-pop", str(doc["pop"])))
        if doc.get("country"):
            headers.append(("x-edgesim-viewer-country", str(doc["country"])))
        url = f"http://127.0.0.1:{self.server.viewer_port}{doc['path']}"
        timeout = aiohttp.ClientTimeout(total=30)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout, auto_decompress=False) as session,
                session.request(
                    str(doc.get("method") or "GET"), url, headers=headers, allow_redirects=False
                ) as reply,
            ):
                await reply.read()
                return _json(
                    {
                        "status": reply.status,
                        "id": reply.headers.get("x-amz-cf-id"),
                        "x_cache": reply.headers.get("x-cache"),
                    }
                )
        except aiohttp.ClientError as exc:
            return _error(502, "SendFailed", f"the viewer port did not answer: {exc}")


def _send_problem(doc: Any) -> str | None:
    if not isinstance(doc, dict):
        return 'expected {"method", "path", "headers"?, "pop"?, "country"?}'
    path = doc.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        return "path must be a string starting with /"
    headers = doc.get("headers") or []
    if not isinstance(headers, list) or not all(
        isinstance(h, list) and len(h) == 2 and all(isinstance(x, str) for x in h) for h in headers
    ):
        return 'headers must be a list of ["name", "value"] pairs'
    method = doc.get("method") or "GET"
    if not isinstance(method, str) or not method.isalpha():
        return "method must be an HTTP method such as GET"
    return None


def _filter(query: Any) -> Any:
    pops = {p for p in query.get("pop", "").upper().split(",") if p}
    statuses = {s for s in query.get("status", "").split(",") if s}
    caches = {x.lower() for x in query.get("x_cache", "").split(",") if x}
    text = query.get("q", "")

    def match(row: dict[str, Any]) -> bool:
        """On a flow's summary row: its POP, status, cache result and the path as the viewer
        sent it."""
        status = row["status"]
        if pops and row["pop"].upper() not in pops:
            return False
        if statuses and not (str(status) in statuses or f"{status // 100}xx" in statuses):
            return False
        if caches and row["x_cache"].lower() not in caches:
            return False
        return not text or text in row["path"]

    return match


def _static_text(name: str) -> str:
    return resources.files("edgesim.inspector").joinpath("static", name).read_text("utf-8")
