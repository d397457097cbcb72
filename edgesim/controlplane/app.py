"""The admin application over one :class:`KvsService`: the KVS wire API, edgesim's store API, and
the CloudFront API's store operations.

Composable three ways: ``make_admin_app`` (a standalone app), ``setup_admin`` (add the routes to
an existing app, e.g. the admin port of ``edgesim serve``), or ``run_admin_server`` /
:class:`BackgroundServer` to serve it on its own (the latter in a thread, for sync callers such
as boto3 in tests and benchmarks).
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from typing import TYPE_CHECKING

from aiohttp import web

from edgesim.controlplane.cloudfront_api import CloudFrontStoresApi
from edgesim.controlplane.guard import HostPolicy, guard, new_token
from edgesim.controlplane.kvs_api import KvsApi
from edgesim.controlplane.stores_api import StoresApi

if TYPE_CHECKING:
    from edgesim.kvs.service import KvsService

SERVICE_KEY: web.AppKey[KvsService] = web.AppKey("edgesim_kvs_service")
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8081


def _service_of(request: web.Request) -> KvsService:
    # config_dict also sees the parent's keys when these routes live in a sub-application.
    return request.config_dict[SERVICE_KEY]


def setup_admin(app: web.Application, service: KvsService, *, prefix: str = "") -> None:
    """Add both APIs' routes to ``app`` (the wire API must stay at the root for boto3, unless
    the endpoint URL given to clients carries the same ``prefix``)."""
    app[SERVICE_KEY] = service
    KvsApi(_service_of).add_routes(app.router, prefix=prefix)
    StoresApi(_service_of).add_routes(app.router, prefix=prefix)
    CloudFrontStoresApi(_service_of).add_routes(app.router, prefix=prefix)


def make_admin_app(service: KvsService, *, host: str = DEFAULT_HOST) -> web.Application:
    """The KVS APIs alone (``edgesim kvs serve``), behind the same guards as serve's admin port:
    loopback ``Host`` names only (DNS rebinding) and no cross-site writes from browsers."""
    app = web.Application(middlewares=[guard(HostPolicy(bound=host), new_token())])
    setup_admin(app, service)
    return app


async def start_admin_site(
    service: KvsService, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
) -> tuple[web.AppRunner, int]:
    """Bind and start serving; returns the runner (``await runner.cleanup()`` to stop) and the
    bound port (useful with ``port=0``)."""
    from edgesim.edge.listener import quiet_client_errors

    # A request the HTTP parser refuses (a request line over aiohttp's 8,190 bytes, say) is
    # answered 400 by aiohttp and logged as one warning line, not as a traceback (issue 11).
    quiet_client_errors()
    # The default 60 s graceful shutdown would wait on idle keep-alive clients such as boto3's.
    runner = web.AppRunner(
        make_admin_app(service, host=host), access_log=None, shutdown_timeout=2.0
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound = runner.addresses[0][1]
    return runner, int(bound)


async def run_admin_server(
    service: KvsService, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
) -> None:
    """Serve until cancelled. The caller owns (and closes) the service."""
    runner, _ = await start_admin_site(service, host, port)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


class BackgroundServer:
    """The admin app on its own event loop in a daemon thread; ``with BackgroundServer(s) as srv``.

    The service is still shared with whoever else holds it (an edge reading replicas, a test):
    it guards its own state with a lock.
    """

    def __init__(self, service: KvsService, host: str = DEFAULT_HOST, port: int = 0) -> None:
        self.service, self.host, self.port = service, host, port
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> BackgroundServer:
        self._thread = threading.Thread(target=self._run, name="edgesim-kvs-admin", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            raise self._error
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()
        self._thread = None

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:
            self._error = exc
        finally:
            loop.close()
            self._ready.set()

    async def _serve(self) -> None:
        runner, self.port = await start_admin_site(self.service, self.host, self.port)
        self._stop = asyncio.Event()
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()
