"""The admin port's own routes (next to the KVS control plane): ``/status``, ``/metrics`` and
``/cache/invalidations`` of a running :class:`~edgesim.app.EdgeServer`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from edgesim.edge.cache import invalidation_matcher

if TYPE_CHECKING:
    from edgesim.app import EdgeServer

EDGE_SERVER_KEY: web.AppKey[EdgeServer] = web.AppKey("edge_server")


def add_admin_routes(admin: web.Application, server: EdgeServer) -> None:
    admin[EDGE_SERVER_KEY] = server
    admin.router.add_get("/status", _status)
    admin.router.add_get("/metrics", _metrics)
    admin.router.add_post("/cache/invalidations", _invalidate)


async def _status(request: web.Request) -> web.Response:
    return web.json_response(request.app[EDGE_SERVER_KEY].status())


async def _metrics(request: web.Request) -> web.Response:
    server = request.app[EDGE_SERVER_KEY]
    # The cache's gauges per POP (every configured POP, even before it stores anything).
    text = server.metrics.render(cache=server.cache.stats(pops=server.dist.edges.pops))
    return web.Response(text=text, content_type="text/plain", charset="utf-8")


async def _invalidate(request: web.Request) -> web.Response:
    try:
        doc = await request.json()
    except ValueError:
        return web.json_response({"message": 'body must be JSON: {"paths": [...]}'}, status=400)
    paths = doc.get("paths") if isinstance(doc, dict) else None
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) and p for p in paths):
        return web.json_response(
            {"message": 'expected {"paths": ["/images/*", ...]} with at least one path'},
            status=400,
        )
    server = request.app[EDGE_SERVER_KEY]
    try:
        for path in paths:  # CloudFront refuses the whole batch if one path is invalid
            invalidation_matcher(path)
    except ValueError as exc:  # e.g. '*' not at the end, as CloudFront requires
        return web.json_response({"message": str(exc)}, status=400)
    removed = {path: server.cache.invalidate(path) for path in paths}
    return web.json_response({"invalidated": removed})
