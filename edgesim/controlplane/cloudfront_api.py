"""The CloudFront API's store operations (rest-xml, 2020-05-31), for boto3's ``cloudfront`` client.

Create, Describe, List and Delete KeyValueStore, so provisioning scripts can run unchanged against
``endpoint_url="http://127.0.0.1:8081"`` (this API has no account prefix in the host). The
CloudFront ETag of a store is not the KVS one (reference A.4); edgesim derives it from the store
id, as the comment, its only mutable part upstream, cannot change here. S3 import sources and
UpdateKeyValueStore answer ``UnsupportedOperation``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from edgesim.controlplane.kvs_api import WireError, read_body
from edgesim.errors import KvsApiError, KvsConflict, KvsNotFound, KvsQuotaExceeded
from edgesim.kvs.reader import iso_millis

if TYPE_CHECKING:
    from edgesim.kvs.service import KvsService, StoreInfo

log = logging.getLogger(__name__)

NS = "http://cloudfront.amazonaws.com/doc/2020-05-31/"
BASE = "/2020-05-31/key-value-store"
MAX_BODY_BYTES = 64 * 1024

ServiceGetter = Callable[[web.Request], "KvsService"]
Handler = Callable[[web.Request], Awaitable[web.Response]]


def cloudfront_etag(store_id: str) -> str:
    digest = hashlib.sha256(b"cloudfront/" + store_id.encode()).digest()
    return "ETV" + base64.b32encode(digest).decode()[:11]


def _error_code(exc: KvsApiError) -> tuple[str, int]:
    if isinstance(exc, KvsNotFound):
        return "EntityNotFound", 404
    if isinstance(exc, KvsConflict):
        return "EntityAlreadyExists", 409
    if isinstance(exc, KvsQuotaExceeded):
        return "EntityLimitExceeded", 400
    return "InvalidArgument", 400


def xml_response(root: ET.Element, *, status: int = 200, etag: str | None = None) -> web.Response:
    headers = {"ETag": etag} if etag else {}
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")
    return web.Response(status=status, body=body, content_type="text/xml", headers=headers)


def error_response(code: str, status: int, message: str) -> web.Response:
    root = ET.Element("ErrorResponse", xmlns=NS)
    error = ET.SubElement(root, "Error")
    ET.SubElement(error, "Type").text = "Sender" if status < 500 else "Receiver"
    ET.SubElement(error, "Code").text = code
    ET.SubElement(error, "Message").text = message
    return xml_response(root, status=status)


def store_element(info: StoreInfo, tag: str = "KeyValueStore") -> ET.Element:
    element = ET.Element(tag)
    for name, value in (
        ("Name", info.name),
        ("Id", info.id),
        ("Comment", info.comment),
        ("ARN", info.arn),
        ("Status", info.status),
        ("LastModifiedTime", iso_millis(info.last_modified)),
    ):
        ET.SubElement(element, name).text = value
    return element


def store_document(info: StoreInfo) -> ET.Element:
    """A store as the root of an answer (Create, Describe): in the CloudFront namespace."""
    element = store_element(info)
    element.set("xmlns", NS)
    return element


def parse_create(raw: bytes) -> tuple[str, str]:
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise WireError(
            "InvalidArgument", 400, f"the request body is not valid XML: {exc}"
        ) from None
    if root.tag != f"{{{NS}}}CreateKeyValueStoreRequest":
        raise WireError("InvalidArgument", 400, "expected a CreateKeyValueStoreRequest document")
    if root.find(f"{{{NS}}}ImportSource") is not None:
        raise WireError(
            "UnsupportedOperation",
            400,
            "edgesim cannot read S3: create the store, then `edgesim kvs import STORE FILE`",
        )
    name = root.findtext(f"{{{NS}}}Name")
    if not name:
        raise WireError("InvalidArgument", 400, "Name is required")
    return name, root.findtext(f"{{{NS}}}Comment") or ""


class CloudFrontStoresApi:
    def __init__(self, service_of: ServiceGetter) -> None:
        self._service_of = service_of

    def add_routes(self, router: web.UrlDispatcher, *, prefix: str = "") -> None:
        router.add_post(prefix + BASE, self._guard(self.create))
        router.add_get(prefix + BASE, self._guard(self.list_stores))
        router.add_route("*", prefix + BASE + r"/{name:[\s\S]*}", self._guard(self.one))

    def _guard(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.Response:
            try:
                return await handler(request)
            except WireError as exc:
                return error_response(exc.code, exc.status, exc.message)
            except KvsApiError as exc:
                code, status = _error_code(exc)
                return error_response(code, status, exc.message)
            except Exception as exc:
                log.exception("CloudFront API request failed: %s %s", request.method, request.url)
                return error_response("InternalError", 500, f"internal error: {exc!r}")

        return guarded

    async def create(self, request: web.Request) -> web.Response:
        name, comment = parse_create(await read_body(request, limit=MAX_BODY_BYTES))
        info = self._service_of(request).create_store(name, comment=comment)
        location = f"{request.scheme}://{request.host}{BASE}/{info.arn}"
        response = xml_response(store_document(info), status=201, etag=cloudfront_etag(info.id))
        response.headers["Location"] = location
        return response

    async def list_stores(self, request: web.Request) -> web.Response:
        query = request.rel_url.query
        stores = self._service_of(request).list_stores()
        if query.get("Status"):
            stores = [s for s in stores if s.status == query["Status"]]
        max_items = query.get("MaxItems", "100")
        if not max_items.isdigit() or int(max_items) < 1:
            raise WireError("InvalidArgument", 400, f"MaxItems {max_items!r}: expected 1 or more")
        marker = query.get("Marker", "")
        stores = [s for s in stores if s.name > marker] if marker else stores
        page, rest = stores[: int(max_items)], stores[int(max_items) :]
        root = ET.Element("KeyValueStoreList", xmlns=NS)
        if rest:
            ET.SubElement(root, "NextMarker").text = page[-1].name
        ET.SubElement(root, "MaxItems").text = max_items
        ET.SubElement(root, "Quantity").text = str(len(page))
        items = ET.SubElement(root, "Items")
        for info in page:
            items.append(store_element(info))
        return xml_response(root)

    async def one(self, request: web.Request) -> web.Response:
        service = self._service_of(request)
        info = service.describe(request.match_info["name"])
        etag = cloudfront_etag(info.id)
        if request.method == "GET":
            return xml_response(store_document(info), etag=etag)
        if request.method == "DELETE":
            given = request.headers.get("If-Match", "")
            if not given:
                raise WireError("InvalidIfMatchVersion", 400, "the If-Match header is required")
            if given != etag:
                raise WireError(
                    "PreconditionFailed", 412, f"If-Match {given!r} is not the store's ETag {etag}"
                )
            service.delete_store(info.arn)
            return web.Response(status=204)
        if request.method == "PUT":
            raise WireError("UnsupportedOperation", 400, "UpdateKeyValueStore is not emulated")
        raise WireError("UnsupportedOperation", 405, f"{request.method} is not supported here")
