"""Properties of what crosses ``serve`` on the wire (issue 17, part 1), through a real ``serve``
and a :class:`~tests.e2e.rawhttp.RawOrigin` that sends and records header lines byte for byte.

1. Whatever header lines the origin sends (none, duplicates, odd case, empty values), the viewer
   gets them changed only as the Developer Guide says ("HTTP response headers that CloudFront
   removes or replaces"; docs/serve.md, "What the viewer receives"), plus CloudFront's own.
2. Whatever header lines the viewer sends, the origin gets the ones the policies select (and the
   protocol headers CloudFront forwards by default), plus what CloudFront adds — nothing else.

One ``serve`` runs for all examples of a property (started in the test's own event loop), so
each example costs one loopback round trip.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from email.utils import formatdate
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.e2e.rawhttp import EDGE_EPOCH_S, Lines, RawAnswer, RawEdge, RawRequest, raw_edge

Run = Callable[[Coroutine[Any, Any, Any]], Any]
EDGE_DATE = formatdate(EDGE_EPOCH_S, usegmt=True)
CLOUDFRONT_VIA = re.compile(r"1\.1 [0-9a-f]{32}\.cloudfront\.net \(CloudFront\)")

CONFIG = """
[[origins]]
id = "app"
url = "{origin}"

[[origin_request_policies]]
name = "pick"
headers = ["X-Keep", "Accept-Language"]

[[behaviors]]
path = "/all/*"
origin = "app"
cache_policy = "CachingDisabled"
origin_request_policy = "AllViewer"

[[behaviors]]
path = "/pick/*"
origin = "app"
cache_policy = "CachingDisabled"
origin_request_policy = "pick"

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
"""
PATHS = ("/all/x", "/pick/x", "/none/x")  # every cookie and header forwarded / some / none


@contextmanager
def serving(answer: Callable[[RawRequest], RawAnswer]) -> Iterator[tuple[Run, RawEdge]]:
    """A ``serve`` for :data:`CONFIG` in front of a raw origin, on an event loop of its own;
    yields ``run`` (runs a coroutine on that loop) and the edge."""
    loop = asyncio.new_event_loop()
    with tempfile.TemporaryDirectory() as tmp:
        context = raw_edge(CONFIG, Path(tmp), answer)
        edge = loop.run_until_complete(context.__aenter__())
        try:
            yield loop.run_until_complete, edge
        finally:
            loop.run_until_complete(context.__aexit__(None, None, None))
            loop.close()


def odd_case(name: str) -> st.SearchStrategy[str]:
    flips = st.lists(st.booleans(), min_size=len(name), max_size=len(name))
    return flips.map(
        lambda up: "".join(c.upper() if u else c for c, u in zip(name, up, strict=True))
    )


# Printable ASCII; leading and trailing blanks are not part of a field value (RFC 9110 §5.5).
values = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=16) | st.just("")


# -- 1. origin → viewer ----------------------------------------------------------------------

RESPONSE_NAMES = (
    "x-app", "x-dup", "content-type", "server", "date", "set-cookie", "vary", "via", "x-cache",
    "x-amz-cf-id", "x-amz-cf-pop", "cache-control", "etag", "age", "expires", "last-modified",
    "trailer", "upgrade", "keep-alive", "access-control-allow-origin",
)  # fmt: skip
VARY_TOKENS = (
    "Accept-Encoding",
    "Cookie",
    "Origin",
    "User-Agent",
    "X-Keep",
    "Accept-Language",
    "*",
)
vary_values = st.lists(st.sampled_from(VARY_TOKENS), max_size=4).map(", ".join)


@st.composite
def response_lines(draw: st.DrawFn) -> Lines:
    lines: Lines = []
    for _ in range(draw(st.integers(0, 10))):
        name = draw(
            st.sampled_from(RESPONSE_NAMES) | st.from_regex(r"x-[a-z0-9]{1,8}", fullmatch=True)
        )
        value = draw(vary_values if name == "vary" else values)
        lines.append((draw(odd_case(name)), value))
    return lines


HOP_BY_HOP = {"connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"}
HOP_BY_HOP |= {"proxy-authenticate", "proxy-authorization", "proxy-connection"}


def kept_vary(value: str, path: str) -> str | None:
    """The guide's Vary rule: Accept-Encoding and Cookie stay, forwarded headers' names stay,
    the rest goes (``*`` stays with the minimum TTL of 0 that CachingDisabled has)."""
    forwarded = {"/all/x": None, "/pick/x": {"x-keep", "accept-language"}, "/none/x": set()}[path]
    tokens = [t.strip() for t in value.split(",") if t.strip()]
    kept = [
        t
        for t in tokens
        if t.lower() in ("accept-encoding", "cookie", "*")
        or forwarded is None
        or t.lower() in forwarded
    ]
    if len(kept) == len(tokens):
        return value
    return ", ".join(kept) or None


def expected_viewer_lines(origin: Lines, path: str) -> Lines:
    """The viewer's header lines (lower-case names) for ``origin``'s; CloudFront's Via entry,
    POP and request id as ``None`` (checked apart)."""
    cookies_forwarded = path == "/all/x"
    out: list[tuple[str, str | None]] = []
    via: list[str] = []
    origin_via = False
    for name, value in origin:
        lowered = name.lower()
        if lowered in HOP_BY_HOP or lowered in ("x-cache", "x-amz-cf-id"):
            continue
        if lowered == "set-cookie" and not cookies_forwarded:
            continue
        if lowered == "vary":
            pruned = kept_vary(value, path)
            if pruned is None:
                continue
            value = pruned
        if lowered == "via":
            # One Via line where the origin's first was: its values, then CloudFront's.
            if not origin_via:
                out.append(("via", "ORIGIN-VIA"))
            origin_via = True
            if value:
                via.append(value)
            continue
        out.append((lowered, value))
    out.append(("x-cache", "Miss from cloudfront"))
    if not origin_via:
        out.append(("via", None))
    out += [("x-amz-cf-pop", None), ("x-amz-cf-id", None)]
    if not any(name == "date" for name, _ in out):
        out.append(("date", EDGE_DATE))
    return [
        (n, ", ".join([*via, "CLOUDFRONT-VIA"]) if v == "ORIGIN-VIA" else v)  # type: ignore[misc]
        for n, v in out
    ]


def test_viewer_sees_the_origins_headers_changed_only_as_documented() -> None:
    current: dict[str, Lines] = {"lines": []}

    def answer(request: RawRequest) -> RawAnswer:
        body = b"body"
        return RawAnswer(headers=[*current["lines"], ("Content-Length", "4")], body=body)

    with serving(answer) as (run, edge):

        @given(response_lines(), st.sampled_from(PATHS))
        def check(origin: Lines, path: str) -> None:
            current["lines"] = origin
            status, lines, body = run(edge.get(path))
            assert (status, body) == (200, b"body")
            got = [(n.lower(), v) for n, v in lines if n.lower() != "content-length"]
            want = expected_viewer_lines(origin, path)
            assert [n for n, _ in got] == [n for n, _ in want], (origin, got)
            for (name, value), (_, wanted) in zip(got, want, strict=True):
                if name == "via":
                    prefix, _, _ = (wanted or "CLOUDFRONT-VIA").rpartition("CLOUDFRONT-VIA")
                    assert value.startswith(prefix)
                    assert CLOUDFRONT_VIA.fullmatch(value[len(prefix) :]), value
                elif wanted is not None:
                    assert value == wanted, (name, origin)
            assert [v for n, v in lines if n.lower() == "content-length"] == ["4"]

        check()


# -- 2. viewer → origin ----------------------------------------------------------------------

REQUEST_NAMES = (
    "x-keep", "x-drop", "accept-language", "accept", "accept-encoding", "referer", "authorization",
    "cache-control", "pragma", "if-none-match", "if-modified-since", "date", "from", "warning",
    "max-forwards", "origin", "user-agent", "x-amz-cf-id", "x-amz-cf-pop", "x-edge-location",
    "x-cache", "x-amzn-requestid", "cloudfront-viewer-country", "cloudfront-is-mobile-viewer",
    "keep-alive", "te",
)  # fmt: skip
ip_lists = st.lists(st.ip_addresses(v=4).map(str), min_size=1, max_size=3).map(", ".join)
cookie_lines = st.dictionaries(
    st.from_regex(r"[a-z]{1,6}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9]{0,6}", fullmatch=True),
    min_size=1,
    max_size=4,
).map(lambda jar: "; ".join(f"{k}={v}" for k, v in jar.items()))


@st.composite
def request_lines(draw: st.DrawFn) -> Lines:
    lines: Lines = []
    for _ in range(draw(st.integers(0, 10))):
        name = draw(st.sampled_from((*REQUEST_NAMES, "x-forwarded-for", "via", "cookie")))
        if name == "x-forwarded-for":
            value = draw(ip_lists)
        elif name == "via":
            value = draw(st.sampled_from(["1.1 proxy", "1.0 fred, 1.1 p.example.net"]))
        elif name == "cookie":
            value = draw(cookie_lines)
        else:
            value = draw(values)
        if name in SINGLE and name in [n.lower() for n, _ in lines]:
            continue
        lines.append((draw(odd_case(name)), value))
    return lines


# The viewer's HTTP parser refuses a request repeating one of these (400, like any request it
# cannot read: edgesim.edge.listener); what CloudFront does then is not documented.
SINGLE = {"max-forwards", "user-agent"}

# Never from the viewer: hop-by-hop fields and the names CloudFront keeps for itself (reference
# notes B.2; CloudFront-* only when a policy lists one, and these policies list none).
NEVER = HOP_BY_HOP | {"x-cache", "x-amzn-requestid"}
NEVER_PREFIXES = ("x-amz-cf-", "x-edge-", "cloudfront-")
# The protocol headers the guide's table says CloudFront forwards without being told to
# ("HTTP request headers and CloudFront behavior"), as edgesim keeps them (Origin and the body
# headers of a request without a body excepted: edgesim.edge.policy_rules.DEFAULT_FORWARDED).
FORWARDED_BY_DEFAULT = {
    "cache-control", "pragma", "if-match", "if-none-match", "if-modified-since",
    "if-unmodified-since", "if-range", "range", "date", "from", "max-forwards", "warning",
}  # fmt: skip
PICKED = {"/all/x": None, "/pick/x": {"x-keep", "accept-language"}, "/none/x": set()}
# What CloudFront writes itself (checked one by one below).
ADDED = {"host", "x-forwarded-for", "via", "user-agent", "cookie", "x-amz-cf-id"}


def reaches_origin(name: str, path: str) -> bool:
    if name in NEVER or name.startswith(NEVER_PREFIXES):
        return False
    picked = PICKED[path]
    return picked is None or name in picked or name in FORWARDED_BY_DEFAULT


def sent(lines: Lines, name: str) -> list[str]:
    return [v for n, v in lines if n.lower() == name]


def test_origin_gets_only_what_the_policies_and_cloudfront_add() -> None:
    with serving(lambda request: RawAnswer(headers=[("Content-Length", "2")], body=b"ok")) as (
        run,
        edge,
    ):
        origin_host = edge.origin.url.removeprefix("http://")
        viewer_host = edge.url.removeprefix("http://")

        @given(request_lines(), st.sampled_from(PATHS))
        def check(viewer: Lines, path: str) -> None:
            edge.origin.seen.clear()
            status, response, _ = run(edge.send_raw(path, viewer))
            assert status == 200
            (request,) = edge.origin.seen
            got = request.headers
            lowered = [(n.lower(), v) for n, v in viewer]
            # Every other line: exactly the viewer's lines the policies select, in order.
            assert [(n.lower(), v) for n, v in got if n.lower() not in ADDED] == [
                (n, v) for n, v in lowered if n not in ADDED and reaches_origin(n, path)
            ]
            everything = path == "/all/x"
            assert sent(got, "host") == [viewer_host if everything else origin_host]
            assert sent(got, "x-forwarded-for") == [
                ", ".join([*sent(viewer, "x-forwarded-for"), "127.0.0.1"])
            ]
            (via,) = sent(got, "via")
            *theirs, ours = via.split(", ")
            assert ", ".join(theirs) == ", ".join(sent(viewer, "via"))
            assert CLOUDFRONT_VIA.fullmatch(ours)
            assert sent(got, "x-amz-cf-id") == sent(response, "x-amz-cf-id")
            agents = sent(viewer, "user-agent") if everything else []
            assert sent(got, "user-agent") == (agents or ["Amazon CloudFront"])
            jar = [pair for line in sent(viewer, "cookie") for pair in line.split("; ")]
            if everything and jar:
                (cookie,) = sent(got, "cookie")
                by_name = sorted(jar, key=lambda pair: pair.partition("=")[0])
                assert cookie.split("; ") == by_name
            else:
                assert sent(got, "cookie") == []

        check()
