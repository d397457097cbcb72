"""Sending the request to the origin, streaming bodies both ways.

CloudFront facts used (reference notes B.6, B.8): the origin gets ``X-Forwarded-For`` with the
viewer's address appended, ``X-Amz-Cf-Id``, ``Via``, ``User-Agent: Amazon CloudFront`` unless the
viewer's is forwarded, ``Host`` = the origin's domain unless the viewer's Host is forwarded, the
origin path prefixed to the URI, and the origin's custom headers. Connection attempts (1–3) are
retried only when the connection cannot be made; an unreachable origin is a 502, an origin that
does not answer in time a 504.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
import yarl

from edgesim.distribution.model import Origin
from edgesim.edge.message import Headers


class OriginFailure(Exception):
    """The origin could not be used: ``status`` is what CloudFront answers (502 or 504)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class OriginRequest:
    method: str
    path: str
    query: str | None
    headers: Headers  # lower-case names, already filtered by policy
    body: AsyncIterator[bytes] | bytes | None = None


def origin_host(origin: Origin) -> str:
    return urlsplit(origin.url).netloc


def origin_url(origin: Origin, path: str, query: str | None, *, base: str | None = None) -> str:
    base = (base or origin.url).rstrip("/")
    target = origin.origin_path.rstrip("/") + path
    return f"{base}{target}" if query is None else f"{base}{target}?{query}"


class OriginClient:
    """One aiohttp session for all origins (pooled connections, like CloudFront's keep-alive)."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                auto_decompress=False,
                # Redirects go back to the viewer untouched, as CloudFront does.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(
        self, origin: Origin, request: OriginRequest, *, base_url: str | None = None
    ) -> aiohttp.ClientResponse:
        """Open the origin response (headers read, body not yet); raises :class:`OriginFailure`.
        ``base_url`` is where the origin is reached locally (default: its own URL)."""
        timeout = aiohttp.ClientTimeout(
            sock_connect=origin.connect_timeout_s, sock_read=origin.response_timeout_s
        )
        # encoded=True: the path and query go out byte for byte as the pipeline has them (no dot
        # segment removal or unescaping), so the origin sees what the behaviour matched.
        target = origin_url(origin, request.path, request.query, base=base_url)
        url = yarl.URL(target, encoded=True)
        last: OriginFailure | None = None
        for _ in range(max(1, origin.connection_attempts)):
            try:
                return await self._client().request(
                    request.method,
                    url,
                    headers=request.headers,
                    data=request.body,
                    allow_redirects=False,
                    timeout=timeout,
                    skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept"),
                )
            except (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError) as exc:
                last = OriginFailure(502, f"origin {origin.id} unreachable: {exc}")
                streamed = request.body is not None and not isinstance(request.body, bytes)
                if streamed and not isinstance(exc, aiohttp.ClientConnectorError):
                    # The connection was made and part of a streamed body may be gone with it;
                    # a refused connection read nothing, so it is retried like any other.
                    break
            except TimeoutError as exc:
                raise OriginFailure(504, f"origin {origin.id} timed out: {exc!r}") from None
            except aiohttp.ClientError as exc:
                raise OriginFailure(502, f"origin {origin.id}: {exc}") from None
            except ValueError as exc:  # e.g. a header value aiohttp refuses to send
                raise OriginFailure(502, f"origin {origin.id}: invalid request: {exc}") from None
        assert last is not None
        raise last
