"""edgesim's own JSON API for managing stores and watching propagation (not an AWS API).

    GET    /__edgesim/kvs/stores               list stores
    POST   /__edgesim/kvs/stores               create {"name", "comment"?, "data"?: [import items]}
    GET    /__edgesim/kvs/stores/{ref}         describe (ref = name, id or ARN, percent-encoded)
    DELETE /__edgesim/kvs/stores/{ref}         delete (If-Match optional: the store's ETag)
    GET    /__edgesim/kvs/stores/{ref}/export  the store in CloudFront's import format
    GET    /__edgesim/kvs/stores/{ref}/status  which version each POP holds, what lands when

Errors: ``{"error": {"code": ..., "message": ...}}`` with the status of the matching AWS error.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from edgesim.controlplane.kvs_api import WireError, parse_json_object, read_body
from edgesim.errors import InputError, KvsApiError
from edgesim.kvs.importfile import validate_import
from edgesim.kvs.reader import iso_millis

if TYPE_CHECKING:
    from edgesim.kvs.service import KvsService, PopStatus, StoreInfo

log = logging.getLogger(__name__)

PREFIX = "/__edgesim/kvs"
# A full 5 MB store as an import document, with room for JSON overhead on small items.
MAX_CREATE_BYTES = 32 * 1024 * 1024

ServiceGetter = Callable[[web.Request], "KvsService"]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def store_json(info: StoreInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "id": info.id,
        "arn": info.arn,
        "comment": info.comment,
        "status": info.status,
        "etag": info.etag,
        "item_count": info.item_count,
        "total_size": info.total_size,
        "created": iso_millis(info.created),
        "last_modified": iso_millis(info.last_modified),
    }


def pop_json(status: PopStatus, latest_etag: str) -> dict[str, Any]:
    pending = [{"version": v, "lands_in_seconds": round(s, 3)} for v, s in status.pending]
    return {
        "pop": status.pop,
        "version": status.version,
        "etag": status.etag,
        "in_sync": status.etag == latest_etag,
        "pending": pending,
        # The soonest landing, not the lowest version: with random lags a later version can
        # land first (and the POP then skips the earlier one).
        "next_in_seconds": min(p["lands_in_seconds"] for p in pending) if pending else None,
    }


def parse_create(doc: dict[str, Any]) -> tuple[str, str, dict[str, str] | None]:
    name, comment = doc.get("name"), doc.get("comment", "")
    if not isinstance(name, str) or not name:
        raise WireError("ValidationException", 400, '"name" is required (a string)')
    if not isinstance(comment, str):
        raise WireError("ValidationException", 400, '"comment" must be a string')
    unknown = sorted(set(doc) - {"name", "comment", "data"})
    if unknown:
        raise WireError("ValidationException", 400, f"unknown member {unknown[0]!r}")
    items = None
    if "data" in doc:
        try:
            items = validate_import({"data": doc["data"]}, source="request body")
        except InputError as exc:
            raise WireError("ValidationException", 400, str(exc)) from None
    return name, comment, items


def json_response(body: object, *, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


def error_response(code: str, status: int, message: str) -> web.Response:
    return json_response({"error": {"code": code, "message": message}}, status=status)


class StoresApi:
    def __init__(self, service_of: ServiceGetter) -> None:
        self._service_of = service_of

    def add_routes(self, router: web.UrlDispatcher, *, prefix: str = "") -> None:
        base = prefix + PREFIX + "/stores"
        router.add_get(base, self._guard(self.list_stores))
        router.add_post(base, self._guard(self.create))
        # One catch-all: ARNs contain '/', percent-encoded or not, so the ref is the decoded rest
        # of the path less a known suffix.
        router.add_route("*", base + r"/{rest:[\s\S]*}", self._guard(self.dispatch))

    def _guard(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except (WireError, KvsApiError) as exc:
                return error_response(exc.code, exc.status, exc.message)
            except Exception as exc:
                log.exception("store API request failed: %s %s", request.method, request.rel_url)
                return error_response("InternalServerException", 500, f"internal error: {exc!r}")

        return guarded

    async def list_stores(self, request: web.Request) -> web.Response:
        stores = self._service_of(request).list_stores()
        return json_response({"stores": [store_json(s) for s in stores]})

    async def create(self, request: web.Request) -> web.Response:
        raw = await read_body(request, limit=MAX_CREATE_BYTES)
        doc = parse_json_object(raw, what='{"name": …, "comment": …, "data": […]}')
        name, comment, items = parse_create(doc)
        info = self._service_of(request).create_store(name, comment=comment, items=items)
        return json_response(store_json(info), status=201)

    async def describe(self, request: web.Request, ref: str) -> web.Response:
        info = self._service_of(request).describe(ref)
        return json_response(store_json(info))

    async def delete(self, request: web.Request, ref: str) -> web.Response:
        etag = request.headers.get("If-Match") or None
        self._service_of(request).delete_store(ref, if_match=etag)
        return web.Response(status=204)

    async def export(self, request: web.Request, ref: str) -> web.Response:
        items = self._service_of(request).export(ref)
        return json_response({"data": [{"key": k, "value": v} for k, v in items.items()]})

    async def status(self, request: web.Request, ref: str) -> web.Response:
        service = self._service_of(request)
        info = service.describe(ref)
        pops = [pop_json(p, info.etag) for p in service.propagation_status(info.arn)]
        return json_response({"store": store_json(info), "pops": pops})

    async def dispatch(self, request: web.Request) -> web.Response:
        rest = request.match_info["rest"]
        ref, _, tail = rest.rpartition("/")
        if ref and request.method == "GET" and tail in ("export", "status"):
            return await (self.export if tail == "export" else self.status)(request, ref)
        if request.method == "GET":
            return await self.describe(request, rest)
        if request.method == "DELETE":
            return await self.delete(request, rest)
        raise WireError("UnknownOperationException", 405, f"{request.method} is not supported here")
