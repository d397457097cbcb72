"""Builders shared by the stage tests: a distribution from TOML text, a viewer request, a flow,
and fakes for the aiohttp objects a stage holds (an origin response). Nothing here opens a
socket."""

from __future__ import annotations

import textwrap
import tomllib
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

from edgesim.distribution.config import parse_config
from edgesim.distribution.model import Distribution
from edgesim.edge.flow import Flow
from edgesim.edge.message import EdgeRequest, Headers

ORIGIN = """
[[origins]]
id = "app"
url = "http://127.0.0.1:3000"
"""
DEFAULT = """
[default_behavior]
origin = "app"
"""
BASE = ORIGIN + DEFAULT


def make_dist(
    base_dir: Path, text: str = BASE, files: dict[str, str] | None = None
) -> Distribution:
    """The distribution ``text`` describes; ``files`` (name → content) are written to
    ``base_dir`` first, so ``[[functions]]`` can name them."""
    for name, content in (files or {}).items():
        (base_dir / name).write_text(textwrap.dedent(content))
    doc = tomllib.loads(textwrap.dedent(text))
    return parse_config(doc, base_dir=base_dir, source="edgesim.toml")


def make_request(
    method: str = "GET",
    path: str = "/",
    query: str | None = None,
    headers: Headers | None = None,
    **kw: Any,
) -> EdgeRequest:
    kw.setdefault("client_ip", "203.0.113.7")
    kw.setdefault("pop", "IAD")
    return EdgeRequest(method, path, query, list(headers or []), **kw)


def make_flow(dist: Distribution, req: EdgeRequest | None = None, **kw: Any) -> Flow:
    return Flow(req or make_request(), dist, kw.pop("request_id", "req-id"), 0.0, **kw)


class FakeContent:
    """``aiohttp.StreamReader`` as far as the pipeline uses it: ``iter_chunked``."""

    def __init__(self, chunks: Iterable[bytes], fail_after: int | None = None) -> None:
        self.chunks = list(chunks)
        self.fail_after = fail_after

    async def iter_chunked(self, size: int) -> AsyncIterator[bytes]:
        for index, chunk in enumerate(self.chunks):
            if self.fail_after is not None and index >= self.fail_after:
                raise ConnectionResetError("origin went away mid-body")
            yield chunk


class FakeOriginResponse:
    """An origin response (``aiohttp.ClientResponse`` stand-in): status, raw headers, a body
    read in chunks, and whether the connection was given back."""

    def __init__(
        self,
        status: int = 200,
        chunks: Iterable[bytes] = (),
        *,
        headers: Headers | None = None,
        fail_after: int | None = None,
        origin: str = "",
    ) -> None:
        self.status = status
        self.reason = "OK" if status == 200 else None
        self.raw_headers = tuple((n.encode(), v.encode()) for n, v in headers or [])
        self.content = FakeContent(chunks, fail_after)
        self.content_length: int | None = None
        self.origin = origin
        self.released = 0

    def release(self) -> None:
        self.released += 1
