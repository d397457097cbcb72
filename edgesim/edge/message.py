"""The request as it moves through the edge pipeline, independent of aiohttp.

Header names are lower-case (HTTP/1.1 header names are case-insensitive and CloudFront Functions
see them lower-cased); order and repetitions are kept. Cookies travel in ``cookie`` headers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

Headers = list[tuple[str, str]]

# Hop-by-hop headers (RFC 9110 §7.6.1) never travel between the two connections.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


@dataclass
class EdgeRequest:
    method: str
    path: str  # URI path, percent-encoded as on the wire (what a function sees as ``uri``)
    query: str | None  # raw query string without '?'; None when the URL had no '?'
    headers: Headers
    client_ip: str = "127.0.0.1"
    client_port: int = 0
    http_version: str = "1.1"
    scheme: str = "http"
    has_body: bool = False  # the viewer sent a body (CloudFront refuses one on GET)
    # Bytes of the request line and header lines as the viewer sent them (0: not measured), for
    # CloudFront's limit on the request's length.
    head_bytes: int = 0
    # Filled in by the pipeline: edge location and viewer country for this request.
    pop: str = ""
    country: str = ""

    def header(self, name: str) -> str | None:
        """First value of header ``name`` (lower-case), or None."""
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]

    def cookies(self) -> list[tuple[str, str]]:
        """(name, value) pairs from every ``cookie`` header, in order."""
        return parse_cookie_headers(self.header_values("cookie"))

    @property
    def target(self) -> str:
        return self.path if self.query is None else f"{self.path}?{self.query}"


def parse_cookie_headers(values: Iterable[str]) -> list[tuple[str, str]]:
    # RFC 6265 section 4.2: "name=value" pairs separated by "; ". A pair without '=' is kept with
    # an empty value rather than dropped, so nothing a viewer sent disappears silently.
    pairs: list[tuple[str, str]] = []
    for header in values:
        for part in header.split(";"):
            part = part.strip()
            if not part:
                continue
            name, _, value = part.partition("=")
            pairs.append((name.strip(), value.strip()))
    return pairs


def lower_headers(pairs: Iterable[tuple[str, str]]) -> Headers:
    return [(name.lower(), value) for name, value in pairs]
