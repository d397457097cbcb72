"""The ``cloudfront-keyvaluestore`` API (rest-json, 2022-07-26), as boto3 and the AWS CLI call it.

Six operations under ``/key-value-stores/{KvsARN}``. Requests are accepted whatever their Host
(clients prepend the account id: ``123456789012.localhost:8081``) and their signature is not
verified. Errors carry the code in the ``x-amzn-ErrorType`` header, which botocore reads first,
and ``{"Message": ...}`` in the body, the modelled shape of every KVS error.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import orjson
from aiohttp import web

from edgesim.errors import KvsApiError

if TYPE_CHECKING:
    from edgesim.kvs.service import KvsService, StoreInfo, WriteResult

log = logging.getLogger(__name__)

ROOT_SEGMENT = "key-value-stores"
# Far above the 3 MB UpdateKeys payload limit, so the service (not the transport) reports oversize
# batches; it only bounds memory.
MAX_BODY_BYTES = 8 * 1024 * 1024

ServiceGetter = Callable[[web.Request], "KvsService"]


class WireError(Exception):
    """An error answered in the service's shape before the model is reached (bad path, body…)."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(message)
        self.code, self.status, self.message = code, status, message


def validation(message: str) -> WireError:
    return WireError("ValidationException", 400, message)


@dataclass(frozen=True)
class KvsPath:
    """A request path split into its labels: ``KvsARN``, whether ``/keys`` follows, the ``Key``."""

    arn: str
    keys: bool = False
    key: str | None = None


def parse_path(raw_path: str) -> KvsPath | None:
    """Split the *raw* path on '/' first, then percent-decode each label.

    botocore encodes '/' in ARNs and keys as %2F, so decoding first would cut them apart. The
    ``key-value-stores`` segment may follow a prefix (an endpoint URL with a path). None when the
    path is not one of the API's.
    """
    segments = raw_path.split("/")
    try:
        start = segments.index(ROOT_SEGMENT)
    except ValueError:
        return None
    labels = segments[start + 1 :]
    if not labels or not labels[0]:
        return None
    arn = _decode(labels[0], "KvsARN")
    if len(labels) == 1:
        return KvsPath(arn)
    if labels[1] != "keys" or len(labels) > 3:
        return None
    if len(labels) == 2:
        return KvsPath(arn, keys=True)
    return KvsPath(arn, keys=True, key=_decode(labels[2], "Key"))


def _decode(label: str, name: str) -> str:
    try:
        return unquote(label, errors="strict")
    except UnicodeDecodeError:
        raise validation(f"{name} in the path is not valid percent-encoded UTF-8") from None


def check_arn(arn: str) -> None:
    # boto3 never sends anything else (its endpoint rules reject it); a raw caller gets told why.
    if not arn.startswith("arn:") or ":key-value-store/" not in arn:
        raise validation(
            f"KvsARN {arn!r} is not a key value store ARN "
            "(arn:aws:cloudfront::<account>:key-value-store/<id>)"
        )


def if_match(request: web.Request) -> str:
    etag = request.headers.get("If-Match", "").strip()
    if not etag:
        raise validation(
            "the If-Match header is required: pass the store's current ETag "
            "(from DescribeKeyValueStore or the previous write)"
        )
    return etag


async def read_json_object(request: web.Request, *, what: str) -> dict[str, Any]:
    raw = await read_body(request, limit=MAX_BODY_BYTES)
    return parse_json_object(raw, what=what)


async def read_body(request: web.Request, *, limit: int) -> bytes:
    # Read the stream directly so the limit holds whatever client_max_size the host app sets.
    chunks, size = [], 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise WireError("ValidationException", 413, f"request body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json_object(raw: bytes, *, what: str) -> dict[str, Any]:
    if not raw.strip():
        raise validation(f"the request body is empty; expected {what}")
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise validation(f"the request body is not valid JSON ({exc}); expected {what}") from None
    if not isinstance(doc, dict):
        raise validation(f"the request body must be a JSON object: {what}")
    return doc


def string_member(doc: dict[str, Any], name: str, *, where: str = "") -> str:
    value = doc.get(name)
    if value is None:
        raise validation(f"{where}{name} is required")
    if not isinstance(value, str):
        raise validation(f"{where}{name} must be a string, not {type(value).__name__}")
    return value


def parse_put_body(doc: dict[str, Any]) -> str:
    return string_member(doc, "Value")


def parse_update_body(doc: dict[str, Any]) -> tuple[list[tuple[str, str]], list[str]]:
    puts = [
        (string_member(item, "Key", where=at), string_member(item, "Value", where=at))
        for at, item in _list_member(doc, "Puts")
    ]
    deletes = [string_member(item, "Key", where=at) for at, item in _list_member(doc, "Deletes")]
    return puts, deletes


def _list_member(doc: dict[str, Any], name: str) -> list[tuple[str, dict[str, Any]]]:
    items = doc.get(name)
    if items is None:
        return []
    if not isinstance(items, list):
        raise validation(f"{name} must be a list, not {type(items).__name__}")
    out = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise validation(f"{name}[{index}] must be an object")
        out.append((f"{name}[{index}].", item))
    return out


def parse_max_results(text: str | None) -> int:
    if text is None:
        return 10
    try:
        value = int(text)
    except ValueError:
        raise validation(f"MaxResults {text!r} is not an integer") from None
    if not 1 <= value <= 50:
        raise validation(f"MaxResults must be between 1 and 50, got {value}")
    return value


def describe_body(info: StoreInfo) -> dict[str, Any]:
    return {
        "ItemCount": info.item_count,
        "TotalSizeInBytes": info.total_size,
        "KvsARN": info.arn,
        # rest-json's default timestamp format: epoch seconds.
        "Created": info.created.timestamp(),
        "LastModified": info.last_modified.timestamp(),
        "Status": info.status,
    }


def _headers(**extra: str) -> dict[str, str]:
    # botocore reports this as ResponseMetadata.RequestId, as for AWS.
    return {"x-amzn-RequestId": str(uuid.uuid4()), **extra}


def json_response(body: dict[str, Any], *, etag: str | None = None) -> web.Response:
    headers = _headers(ETag=etag) if etag is not None else _headers()
    return web.Response(body=orjson.dumps(body), content_type="application/json", headers=headers)


def error_response(code: str, status: int, message: str) -> web.Response:
    return web.Response(
        status=status,
        body=orjson.dumps({"Message": message}),
        content_type="application/json",
        headers=_headers(**{"x-amzn-ErrorType": code}),
    )


def write_response(result: WriteResult) -> web.Response:
    body = {"ItemCount": result.item_count, "TotalSizeInBytes": result.total_size}
    return json_response(body, etag=result.etag)


class KvsApi:
    """Handlers of the six operations; ``service_of`` finds the model for a request."""

    def __init__(self, service_of: ServiceGetter) -> None:
        self._service_of = service_of

    def add_routes(self, router: web.UrlDispatcher, *, prefix: str = "") -> None:
        router.add_route("*", prefix + "/" + ROOT_SEGMENT + r"/{labels:[\s\S]*}", self.dispatch)
        # An endpoint URL with a path (http://host:8081/some/path) puts that path in front, as
        # with AWS; parse_path skips it. Paths of the other APIs on this port are left to them,
        # whatever order the routes were added in.
        router.add_route(
            "*",
            prefix
            + r"/{before:(?!__edgesim/|2020-05-31/)[\s\S]*}/"
            + ROOT_SEGMENT
            + r"/{labels:[\s\S]*}",
            self.dispatch,
        )

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._dispatch(request)
        except WireError as exc:
            return error_response(exc.code, exc.status, exc.message)
        except KvsApiError as exc:
            return error_response(exc.code, exc.status, exc.message)
        except Exception as exc:  # an edgesim bug: answer as AWS would, keep the traceback
            log.exception("KVS API request failed: %s %s", request.method, request.rel_url)
            return error_response("InternalServerException", 500, f"internal error: {exc!r}")

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = parse_path(request.rel_url.raw_path)
        if path is None:
            return error_response(
                "UnknownOperationException", 404, f"no operation at {request.rel_url.raw_path}"
            )
        operation = self._operation(request.method, path)
        if operation is None:
            return error_response(
                "UnknownOperationException",
                405,
                f"{request.method} is not an operation on {request.rel_url.raw_path}",
            )
        check_arn(path.arn)
        return await operation(request, self._service_of(request), path)

    def _operation(
        self, method: str, path: KvsPath
    ) -> Callable[[web.Request, KvsService, KvsPath], Awaitable[web.Response]] | None:
        if not path.keys:
            table = {"GET": self.describe}
        elif path.key is None:
            table = {"GET": self.list_keys, "POST": self.update_keys}
        else:
            table = {"GET": self.get_key, "PUT": self.put_key, "DELETE": self.delete_key}
        return table.get(method)

    # The service is synchronous and fast (tens of µs in memory, plus one SQLite commit per
    # write), so it is called on the loop directly; its own lock orders calls from other threads.

    async def describe(
        self, request: web.Request, service: KvsService, path: KvsPath
    ) -> web.Response:
        info = service.describe(path.arn)
        return json_response(describe_body(info), etag=info.etag)

    async def get_key(
        self, request: web.Request, service: KvsService, path: KvsPath
    ) -> web.Response:
        key = _key(path)
        value = service.get_key(path.arn, key)
        info = service.describe(path.arn)
        body = {
            "Key": key,
            "Value": value,
            "ItemCount": info.item_count,
            "TotalSizeInBytes": info.total_size,
        }
        return json_response(body)

    async def list_keys(
        self, request: web.Request, service: KvsService, path: KvsPath
    ) -> web.Response:
        query = request.rel_url.query
        max_results = parse_max_results(query.get("MaxResults"))
        items, token = service.list_keys(
            path.arn, max_results=max_results, next_token=query.get("NextToken") or None
        )
        body: dict[str, Any] = {"Items": [{"Key": k, "Value": v} for k, v in items]}
        if token is not None:
            body["NextToken"] = token
        return json_response(body)

    async def put_key(
        self, request: web.Request, service: KvsService, path: KvsPath
    ) -> web.Response:
        service.describe(path.arn)  # 404 before request checks, the service's documented order
        etag = if_match(request)
        value = parse_put_body(await read_json_object(request, what='{"Value": "..."}'))
        return write_response(service.put_key(path.arn, _key(path), value, if_match=etag))

    async def delete_key(
        self, request: web.Request, service: KvsService, path: KvsPath
    ) -> web.Response:
        service.describe(path.arn)
        etag = if_match(request)
        return write_response(service.delete_key(path.arn, _key(path), if_match=etag))

    async def update_keys(
        self, request: web.Request, service: KvsService, path: KvsPath
    ) -> web.Response:
        service.describe(path.arn)
        etag = if_match(request)
        doc = await read_json_object(
            request, what='{"Puts": [{"Key": …, "Value": …}], "Deletes": [{"Key": …}]}'
        )
        puts, deletes = parse_update_body(doc)
        result = service.update_keys(path.arn, puts=puts, deletes=deletes, if_match=etag)
        return write_response(result)


def _key(path: KvsPath) -> str:
    assert path.key is not None
    return path.key
