"""A small synchronous client of a running control plane, for the ``edgesim kvs`` commands.

Plain ``urllib``: a CLI command makes a handful of sequential requests and exits, so an event
loop and a session (aiohttp) would add start-up time and clean-up duties for nothing. Store
management goes through edgesim's JSON API, keys through the AWS wire API (the path boto3 uses,
so the CLI exercises it too). Proxies from the environment are ignored: the endpoint is local.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import orjson

from edgesim.controlplane.endpoint import DEFAULT_ENDPOINT, Endpoint
from edgesim.controlplane.plan import Batch

STORES = "/__edgesim/kvs/stores"
INVALIDATIONS = "/cache/invalidations"


class ControlPlaneError(Exception):
    """The control plane refused a request; ``code`` is the AWS-style error code."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.status, self.message = code, status, message


class EndpointUnreachable(Exception):
    """No edgesim admin endpoint answers at ``endpoint``; ``source`` says where the URL came
    from (see :mod:`edgesim.controlplane.endpoint`)."""

    def __init__(self, endpoint: str, reason: object, *, source: str | None = None) -> None:
        where = f" (from {source})" if source and source != "--endpoint" else ""
        super().__init__(
            f"cannot reach the admin endpoint at {endpoint}{where}: {reason}; start "
            "`edgesim serve` or `edgesim kvs serve`, or pass --endpoint URL"
        )
        self.endpoint, self.source = endpoint, source


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    etag: str | None


def _label(text: str) -> str:
    # As botocore does: everything but unreserved characters is escaped, '/' included.
    return quote(text, safe="-._~")


class ControlPlaneClient:
    def __init__(
        self, endpoint: str | Endpoint = DEFAULT_ENDPOINT, *, timeout: float = 30.0
    ) -> None:
        self.source = endpoint.source if isinstance(endpoint, Endpoint) else None
        self.endpoint = str(endpoint).rstrip("/")
        self.timeout = timeout
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # edgesim's store API

    def list_stores(self) -> list[dict[str, Any]]:
        stores: list[dict[str, Any]] = self._call("GET", STORES).body["stores"]
        return stores

    def create_store(
        self, name: str, *, comment: str = "", items: dict[str, str] | None = None
    ) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": name, "comment": comment}
        if items is not None:
            doc["data"] = [{"key": k, "value": v} for k, v in items.items()]
        store: dict[str, Any] = self._call("POST", STORES, doc).body
        return store

    def store(self, ref: str) -> dict[str, Any]:
        store: dict[str, Any] = self._call("GET", f"{STORES}/{_label(ref)}").body
        return store

    def delete_store(self, ref: str, *, if_match: str | None = None) -> None:
        headers = {"If-Match": if_match} if if_match else {}
        self._call("DELETE", f"{STORES}/{_label(ref)}", headers=headers)

    def export(self, ref: str) -> dict[str, str]:
        doc = self._call("GET", f"{STORES}/{_label(ref)}/export").body
        return {item["key"]: item["value"] for item in doc["data"]}

    def status(self, ref: str) -> dict[str, Any]:
        status: dict[str, Any] = self._call("GET", f"{STORES}/{_label(ref)}/status").body
        return status

    # serve's admin routes

    def invalidate_cache(self, paths: list[str]) -> dict[str, int]:
        """``POST /cache/invalidations``: how many cached objects each path pattern removed."""
        body = self._call("POST", INVALIDATIONS, {"paths": paths}).body
        removed = body.get("invalidated", {}) if isinstance(body, dict) else {}
        return {str(path): int(count) for path, count in removed.items()}

    # The AWS wire API (KvsARN in the path)

    def etag(self, arn: str) -> str:
        reply = self._call("GET", self._kvs(arn))
        assert reply.etag is not None
        return reply.etag

    def get_key(self, arn: str, key: str) -> dict[str, Any]:
        body: dict[str, Any] = self._call("GET", self._kvs(arn, key)).body
        return body

    def iter_keys(self, arn: str, *, page_size: int = 50) -> Iterator[tuple[str, str]]:
        token: str | None = None
        while True:
            query = {"MaxResults": str(page_size)}
            if token:
                query["NextToken"] = token
            body = self._call("GET", self._kvs(arn, keys=True) + "?" + urlencode(query)).body
            for item in body["Items"]:
                yield item["Key"], item["Value"]
            token = body.get("NextToken")
            if not token:
                return

    def put_key(self, arn: str, key: str, value: str, *, if_match: str) -> Reply:
        return self._call("PUT", self._kvs(arn, key), {"Value": value}, {"If-Match": if_match})

    def delete_key(self, arn: str, key: str, *, if_match: str) -> Reply:
        return self._call("DELETE", self._kvs(arn, key), headers={"If-Match": if_match})

    def update_keys(self, arn: str, batch: Batch, *, if_match: str) -> Reply:
        path = self._kvs(arn, keys=True)
        return self._call("POST", path, batch.body(), {"If-Match": if_match})

    @staticmethod
    def _kvs(arn: str, key: str | None = None, *, keys: bool = False) -> str:
        path = f"/key-value-stores/{_label(arn)}"
        if key is not None:
            return f"{path}/keys/{_label(key)}"
        return f"{path}/keys" if keys else path

    def _call(
        self,
        method: str,
        path: str,
        doc: object = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        data = None if doc is None else orjson.dumps(doc)
        request = urllib.request.Request(
            self.endpoint + path, data=data, method=method, headers=dict(headers or {})
        )
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                raw = response.read()
                return Reply(response.status, self._json(raw), response.headers["ETag"])
        except urllib.error.HTTPError as exc:
            with exc:
                raise _error(exc.code, exc.headers.get("x-amzn-ErrorType"), exc.read()) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise self._unreachable(reason) from None
        except http.client.HTTPException as exc:
            raise self._unreachable(f"it does not speak HTTP: {type(exc).__name__}") from None

    def _unreachable(self, reason: object) -> EndpointUnreachable:
        return EndpointUnreachable(self.endpoint, reason, source=self.source)

    def _json(self, raw: bytes) -> Any:
        try:
            return orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            raise self._unreachable(
                "the answer is not JSON: is this an edgesim admin endpoint?"
            ) from None


def _error(status: int, error_type: str | None, raw: bytes) -> ControlPlaneError:
    try:
        doc = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        doc = {}
    if not isinstance(doc, dict):
        doc = {}
    if error_type:  # the wire API: code in the header, {"Message": …} in the body
        return ControlPlaneError(error_type.split(":")[0], status, str(doc.get("Message", "")))
    error = doc.get("error")
    if isinstance(error, dict):
        return ControlPlaneError(str(error.get("code")), status, str(error.get("message")))
    if isinstance(doc.get("message"), str):  # serve's admin routes: {"message": …}
        return ControlPlaneError(f"HTTP{status}", status, doc["message"])
    text = raw.decode(errors="replace").strip()[:200]
    return ControlPlaneError(f"HTTP{status}", status, text or "no details")
