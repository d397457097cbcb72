"""``load_lambda``: a Lambda@Edge function, ready to run on events in a test, and
:func:`lambda_event`, a builder of the Lambda@Edge event shape.

``run(event)`` has the shape of :func:`edgesim.testing.load_function`'s ``run``: it takes an
event (a whole ``{"Records": [...]}`` event or its ``cf`` object) and answers a
:class:`~edgesim.lambda_edge.function.LambdaOutcome` (``.kind``, ``.request``, ``.response``,
``.failure``, ``.logs``, ``.warnings``). The function runs in Node.js workers that live as long
as the loaded lambda (module state survives between runs, as in one Lambda instance); close it
with ``close()`` or a ``with`` block.

``run`` blocks, so it works in plain and in async tests; ``await arun(event)`` does not block
the test's event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from edgesim.lambda_edge import limits
from edgesim.lambda_edge.events import (
    DEFAULT_CLIENT_IP,
    build_event,
    custom_origin,
    event_config,
    parse_event,
    request,
    response,
    s3_origin,
)
from edgesim.lambda_edge.function import LambdaEdgeFunction, LambdaOutcome
from edgesim.lambda_edge.spec import Credentials, LambdaSpec, resolve_source, role_credentials

T = TypeVar("T")

__all__ = [
    "EdgeLambda",
    "custom_origin",
    "lambda_event",
    "load_lambda",
    "s3_origin",
]

Headers = Mapping[str, str | Sequence[str]]


def lambda_event(
    event_type: str = limits.VIEWER_REQUEST,
    uri: str = "/",
    *,
    method: str = "GET",
    headers: Headers | None = None,
    querystring: str = "",
    client_ip: str = DEFAULT_CLIENT_IP,
    origin: Mapping[str, Any] | None = None,
    body: bytes | str | None = None,
    status: int | str = 200,
    status_description: str = "OK",
    response_headers: Headers | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """A whole Lambda@Edge event. Origin events get a custom origin on ``example.org`` unless
    ``origin`` says otherwise (see :func:`s3_origin`, :func:`custom_origin`); response events
    get a response with ``status`` and ``response_headers``; ``body`` is the request body as the
    include-body option exposes it (base64, truncated per event)."""
    if event_type not in limits.EVENT_TYPES:
        raise ValueError(f"event_type {event_type!r}: one of {', '.join(limits.EVENT_TYPES)}")
    if origin is None and event_type.startswith("origin"):
        origin = custom_origin("example.org")
    raw_body = body.encode("utf-8") if isinstance(body, str) else body
    req = request(
        uri,
        method=method,
        headers=headers,
        querystring=querystring,
        client_ip=client_ip,
        origin=origin,
        body=raw_body,
        event_type=event_type,
    )
    resp = None
    if event_type in limits.RESPONSE_EVENTS:
        resp = response(status, status_description=status_description, headers=response_headers)
    cfg = event_config(event_type, **({"request_id": request_id} if request_id else {}))
    return build_event(event_type, req, resp, config=cfg)


class EdgeLambda:
    """A loaded Lambda@Edge function with its own worker pool (on a private event loop)."""

    def __init__(self, fn: LambdaEdgeFunction, loop: asyncio.AbstractEventLoop) -> None:
        self.function = fn
        self._loop = loop
        self._closed = False

    @property
    def spec(self) -> LambdaSpec:
        return self.function.spec

    def run(
        self,
        event: Mapping[str, Any],
        *,
        event_type: str | None = None,
        now: datetime | float | None = None,
    ) -> LambdaOutcome:
        """Run on ``event``; ``event_type`` overrides its ``config.eventType``; ``now`` sets the
        function's ``Date`` (it advances from there in real time)."""
        return self._call(self._invoke(event, event_type, now))

    async def arun(
        self,
        event: Mapping[str, Any],
        *,
        event_type: str | None = None,
        now: datetime | float | None = None,
    ) -> LambdaOutcome:
        """As :meth:`run`, awaited without blocking the caller's event loop."""
        future = asyncio.run_coroutine_threadsafe(self._invoke(event, event_type, now), self._loop)
        return await asyncio.wrap_future(future)

    def check(self) -> None:
        """Load the module in a worker; raises ``WorkerFailure`` (``init``) when it can't."""
        self._call(self.function.check())

    @property
    def workers(self) -> int:
        return self.function.pool.workers

    def close(self) -> None:
        if self._closed:
            return
        try:
            self._call(self.function.close())
        finally:
            self._closed = True
            self._loop.call_soon_threadsafe(self._loop.stop)

    def __enter__(self) -> EdgeLambda:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def _invoke(
        self, event: Mapping[str, Any], event_type: str | None, now: datetime | float | None
    ) -> LambdaOutcome:
        kind, whole = parse_event(dict(event), event_type)
        return await self.function.invoke_event(kind, whole, now=now)

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._closed:
            coro.close()
            raise RuntimeError("this lambda is closed")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()


def load_lambda(
    path: str | Path,
    *,
    handler: str | None = None,
    name: str | None = None,
    timeout_s: float = limits.DEFAULT_TIMEOUT_S,
    memory_mb: int = limits.DEFAULT_MEMORY_MB,
    region: str = "us-east-1",
    env: Mapping[str, str] | None = None,
    credentials: Credentials | tuple[str, str] | tuple[str, str, str] | None = None,
    max_workers: int = 1,
    node: str | None = None,
) -> EdgeLambda:
    """Load a Lambda@Edge function (a source file or its package directory).

    Nothing starts until the first ``run`` (call ``check()`` to load the module now).
    ``credentials`` (a ``Credentials`` or a (key id, secret[, token]) tuple) default to the
    emulated execution role's, which ``serve`` hands every lambda."""
    source = resolve_source(path, what="load_lambda")
    given = Path(path)
    stem = given.name if given.is_dir() else given.stem
    spec = LambdaSpec(
        name=name or "".join(c if c.isalnum() or c in "-_" else "-" for c in stem)[:64],
        path=source,
        handler=handler,
        timeout_s=timeout_s,
        memory_mb=memory_mb,
        region=region,
        env=dict(env or {}),
        credentials=role_credentials(credentials),
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(
        target=_serve_loop, args=(loop,), name=f"edgesim-lambda-{spec.name}", daemon=True
    )
    thread.start()
    fn = asyncio.run_coroutine_threadsafe(_make(spec, max_workers, node), loop).result()
    return EdgeLambda(fn, loop)


async def _make(spec: LambdaSpec, max_workers: int, node: str | None) -> LambdaEdgeFunction:
    return LambdaEdgeFunction(spec, max_workers=max_workers, node=node)


def _serve_loop(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        loop.close()
