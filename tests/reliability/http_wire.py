"""The raw-HTTP fuzzer's material (tests/reliability/test_fuzz_http.py): what a fuzzed case is,
the hypothesis strategies that make cases, and a strict reader of the edge's HTTP/1.x answers."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from hypothesis import assume
from hypothesis import strategies as st

LIMIT = 20_480  # CloudFront's request line plus headers
URL_LIMIT = 8_192  # CloudFront's URL (path and query)


# --- reading what the edge answers ------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names (the last of duplicates)
    body: bytes

    @property
    def from_edge(self) -> bool:
        return self.headers.get("x-cache") == "Error from cloudfront"


STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3}) [^\r\n]*")


async def read_reply(reader: asyncio.StreamReader, method: str) -> Reply | None:
    """One response (interim 1xx ones skipped), checked for well-formed framing; None when the
    edge closed the connection before sending a byte of it."""
    while True:
        head = b""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            partial = exc.partial
        else:
            partial = b""
        assert not partial, f"the response head broke off: {partial[:200]!r}"
        if not head:
            return None
        lines = head[:-4].split(b"\r\n")
        match = STATUS_LINE.fullmatch(lines[0])
        assert match, f"not an HTTP/1.x status line: {lines[0][:200]!r}"
        status = int(match.group(1))
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            assert colon, f"bad response header {line!r}"
            assert name, f"bad response header {line!r}"
            assert name == name.strip(), f"bad response header {line!r}"
            headers[name.decode("latin-1").lower()] = value.strip().decode("latin-1")
        if 100 <= status < 200:
            continue
        break
    if method == "HEAD" or status in (204, 304):
        body = b""
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        body = await read_chunked(reader)
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    else:
        body = await reader.read()
    return Reply(status, headers, body)


async def read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = b""
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                pass
            return body
        body += await reader.readexactly(size)
        assert await reader.readexactly(2) == b"\r\n"


# --- what a fuzzed case is -------------------------------------------------------------------


@dataclass
class Case:
    """Bytes to send, and what is known about them."""

    data: bytes
    methods: list[str]  # the requests on the wire, in order (for reading HEAD answers)
    complete: bool = True  # every request is whole: it must be answered or refused promptly
    # Well-formed requests get a known answer: 200, 403 (a GET/HEAD with a body), 413.
    expected: list[int] | None = None
    pieces: list[int] = field(default_factory=list)  # where the bytes are split into writes
    abort: bool = False  # the client drops the connection right after sending
    read_then_drop: int | None = None  # read this many bytes of the answer, then reset

    def __repr__(self) -> str:  # hypothesis prints failing cases: keep them readable
        data = self.data if len(self.data) < 400 else self.data[:300] + b"..." + self.data[-60:]
        return (
            f"Case({data!r} ({len(self.data)} bytes), methods={self.methods}, "
            f"complete={self.complete}, expected={self.expected}, pieces={self.pieces}, "
            f"abort={self.abort}, read_then_drop={self.read_then_drop})"
        )

    def splits(self) -> Iterator[bytes]:
        start = 0
        for cut in sorted(set(self.pieces)):
            if 0 < cut < len(self.data):
                yield self.data[start:cut]
                start = cut
        yield self.data[start:]


# --- strategies ------------------------------------------------------------------------------

TOKEN = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!#$&'*+^`|", min_size=1, max_size=20)  # fmt: skip
PATH_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@%/"
VALUE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60).map(str.strip)
# Header values as viewers send them: visible ASCII, tabs inside, and non-ASCII text (UTF-8 on the
# wire; CloudFront reads header bytes as UTF-8, else ISO-8859-1).
WIDE_VALUE = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x2FF, exclude_characters="\x7f")
    | st.just("\t"),
    max_size=60,
).map(lambda v: v.strip(" \t"))
METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]


@st.composite
def targets(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(["/", "/c/", "/a/b/"]))
    path = prefix + draw(st.text(PATH_CHARS, max_size=40)).replace("%", "%25")
    if draw(st.booleans()):
        path += "?" + draw(st.text(PATH_CHARS + "?", max_size=40)).replace("%", "%25")
    if draw(st.integers(0, 9)) == 0:  # near CloudFront's URL limit (the query dropped: see
        # test_a_url_just_under_the_limit_passes_an_unchanging_function)
        path = path.partition("?")[0]
        path += "/" + "u" * (URL_LIMIT - len(path) + draw(st.integers(-3, 2)))
    return path


@st.composite
def well_formed(draw: st.DrawFn, *, last: bool = True) -> tuple[bytes, str, int]:
    """A request CloudFront serves (or refuses for its length): its bytes, method and status."""
    method = draw(st.sampled_from(METHODS))
    target = draw(targets())
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.0"]))
    names = draw(st.lists(TOKEN, max_size=8))
    fields = [("Host", "d111.cloudfront.net")]
    fields += [(f"X-F-{name}", draw(WIDE_VALUE)) for name in names]
    if draw(st.booleans()):
        pairs = draw(st.lists(st.tuples(TOKEN, WIDE_VALUE), min_size=1, max_size=4))
        fields.append(("Cookie", "; ".join(f"{k}={v.replace(';', '')}" for k, v in pairs)))
    if version == "HTTP/1.0" or last:
        fields.append(("Connection", "close" if last else "keep-alive"))
    elif draw(st.booleans()):
        fields.append(("Connection", "keep-alive"))
    body = draw(st.binary(max_size=200)) if draw(st.integers(0, 3)) == 0 else b""
    if method == "HEAD":
        body = b""  # a HEAD with a body hangs: test_a_head_with_a_body_is_answered_promptly
    chunked = bool(body) and version == "HTTP/1.1" and draw(st.booleans())
    if chunked:
        fields.append(("Transfer-Encoding", "chunked"))
    elif body:
        fields.append(("Content-Length", str(len(body))))
    line = f"{method} {target} {version}\r\n"
    head = line + "".join(f"{n}: {v}\r\n" for n, v in fields)
    if draw(st.integers(0, 5)) == 0:  # pad the head to just under or over 20,480 bytes
        pad = LIMIT - len(head.encode()) - len("X-Pad: \r\n\r\n") + draw(st.integers(-2, 2))
        head += "X-Pad: " + "p" * max(pad, 0) + "\r\n"
    head += "\r\n"
    if len(head.encode()) > LIMIT or len(target) >= URL_LIMIT:
        status = 413
    elif body and method in ("GET", "HEAD"):
        status = 403  # "CloudFront returns 403 (Forbidden) for a GET request with a body"
    else:
        status = 200
    if chunked:
        cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=3)))
        chunks = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
        wire = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks if c) + b"0\r\n\r\n"
    else:
        wire = body
    return head.encode() + wire, method, status


ODD_FIELDS = [
    b"Host: a\r\nHost: b",  # duplicate Host
    b"X-Folded: a\r\n  b",  # obs-fold
    b"X-No-Colon",
    b": no-name",
    b"X Space: v",
    b"X-Nul: a\x00b",
    b"X-Cr: a\rb",
    b"X-Bare-LF: a\nX-Next: b",
    b"X-Utf8: \xc3\xa9t\xc3\xa9",
    b"X-Latin1: caf\xe9",
    b"X-\xff: v",
    b"X-Ctl: \x01\x7f",
    b"X-Empty:",
    b"X-Trailing-Space : v",
    b"Content-Length: 3\r\nContent-Length: 4",
    b"Content-Length: -1",
    b"Content-Length: 1e3",
    b"Content-Length: 99999999999999999999999",
    b"Transfer-Encoding: gzip, chunked",
    b"Transfer-Encoding: chunked\r\nContent-Length: 3",
    b"Transfer-Encoding: identity",
    b"Expect: 100-continue",
    b"Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings",
    b"Upgrade: websocket\r\nConnection: Upgrade",
    b"Connection: close, close, keep-alive",
    b"Cookie: a=\xff; b=\x00",
    b"X-Edgesim-Pop: NOWHERE",
    b"X-Edgesim-Viewer-Country: ZZZ",
    b"CloudFront-Viewer-Country: FR",
    b"Range: bytes=9-3",
    b"If-None-Match: *",
]
ODD_LINES = [
    b"GET / HTTP/1.1",
    b"get / HTTP/1.1",
    b"GET  /  HTTP/1.1",
    b"GET / HTTP/1.1 ",
    b"GET / http/1.1",
    b"GET / HTTP/1",
    b"GET / HTTP/2.0",
    b"GET / HTTP/1.2",
    b"GET / HTTP/11.1",
    b"GET / HTTPS/1.1",
    b"GET /",
    b"GET",
    b" GET / HTTP/1.1",
    b"BREW / HTTP/1.1",
    b"TRACE / HTTP/1.1",
    b"CONNECT d111.cloudfront.net:443 HTTP/1.1",
    b"PRI * HTTP/2.0",
    b"OPTIONS * HTTP/1.1",
    b"GET http://d111.cloudfront.net/x HTTP/1.1",
    b"GET //d111.cloudfront.net/x HTTP/1.1",
    b"GET d111.cloudfront.net HTTP/1.1",
    b"GET /a b HTTP/1.1",
    b"GET /\xc3\xa9 HTTP/1.1",
    b"GET /%00%ff%zz HTTP/1.1",
    b"GET /a\x00b HTTP/1.1",
    b"GET /a\tb HTTP/1.1",
    b"GET /a#frag HTTP/1.1",
    b"GET /../../etc/passwd HTTP/1.1",
    b"GET /?a=%%% HTTP/1.1",
    b"G\xc3\x89T / HTTP/1.1",
]
BAD_CHUNKED = [
    b"zz\r\nabc\r\n0\r\n\r\n",  # not hex
    b"-3\r\nabc\r\n0\r\n\r\n",
    b"ffffffffffffffffffff\r\nabc\r\n0\r\n\r\n",  # absurd size
    b"3\r\nabcdef\r\n0\r\n\r\n",  # chunk longer than its size
    b"3;ext=1\r\nabc\r\n0\r\n\r\n",  # an extension (valid)
    b"3\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n",  # a trailer (valid)
    b"3\r\nabc\r\n0\r\nX-Trailer t\r\n\r\n",  # a malformed trailer
    b"3\nabc\n0\n\n",  # bare LF
    b"3\r\nabc0\r\n\r\n",  # missing CRLF after the data
]


@st.composite
def odd_request(draw: st.DrawFn) -> Case:
    """A request with something odd in it: line, header, framing; complete on the wire (ends
    with its blank line and whatever body it announces), so it must be answered promptly."""
    # Half the time the request line is fine, so the odd headers and framing get parsed.
    fine = [b"POST /x HTTP/1.1", b"OPTIONS /c/x HTTP/1.1", b"DELETE /x?a=1 HTTP/1.0"]
    line = draw(st.sampled_from(fine if draw(st.booleans()) else ODD_LINES))
    fields = [b"Host: d111.cloudfront.net"] if draw(st.integers(0, 5)) else []
    fields += draw(st.lists(st.sampled_from(ODD_FIELDS), min_size=0, max_size=2))
    fields += [b"X-R: " + v.encode() for v in draw(st.lists(VALUE, max_size=2))]
    fields.append(b"Connection: close")
    fields = draw(st.permutations(fields))
    eol = b"\n" if draw(st.integers(0, 9)) == 0 else b"\r\n"
    head = eol.join([line, *fields]) + eol + eol
    body = b""
    kind = draw(st.sampled_from(["none", "length", "chunked", "bad-chunked"]))
    if kind == "length":
        body = draw(st.binary(max_size=50))
        head = head[: -len(eol)] + b"Content-Length: %d" % len(body) + eol + eol
    elif kind in ("chunked", "bad-chunked"):
        head = head[: -len(eol)] + b"Transfer-Encoding: chunked" + eol + eol
        body = b"3\r\nabc\r\n0\r\n\r\n" if kind == "chunked" else draw(st.sampled_from(BAD_CHUNKED))
    data = head + body
    # Odd framing headers can make the parser wait for more body than is sent (a Content-Length
    # next to the body's own): such a request is not complete on the wire.
    framing = [f for f in fields if f.lower().startswith((b"content-length", b"transfer-enc"))]
    complete = not framing and kind != "bad-chunked"
    return Case(data, [line.split(b" ")[0].decode("latin-1")], complete=complete)


@st.composite
def pipelined(draw: st.DrawFn) -> Case:
    """1–3 well-formed requests in one write (possibly split anywhere), optionally followed by
    an odd one."""
    count = draw(st.integers(1, 3))
    parts = [draw(well_formed(last=i == count - 1)) for i in range(count)]
    data = b"".join(p[0] for p in parts)
    methods = [p[1] for p in parts]
    expected = [p[2] for p in parts]
    # The edge closes the connection after a 413 (CloudFront "terminates the TCP connection"):
    # requests after it get nothing.
    if 413 in expected:
        cut = expected.index(413) + 1
        methods, expected = methods[:cut], expected[:cut]
    # A 403 for a GET with a body: what follows is still answered (the body was read).
    pieces = draw(st.lists(st.integers(0, len(data)), max_size=4))
    return Case(data, methods, expected=expected, pieces=pieces)


@st.composite
def incomplete(draw: st.DrawFn) -> Case:
    """A request cut short: the head without its end, a body shorter than its Content-Length, a
    chunked body without its last chunk; the client waits briefly and gives up (or drops the
    connection at once)."""
    data, method, _ = draw(well_formed())
    kind = draw(st.sampled_from(["head", "short-body", "no-last-chunk"]))
    if kind == "head":
        data = data[: draw(st.integers(1, data.index(b"\r\n\r\n") + 2))]
    elif kind == "short-body":
        head = data[: data.index(b"\r\n\r\n")]
        head = re.sub(rb"\r\n(Content-Length|Transfer-Encoding): [^\r]*", b"", head)
        body = draw(st.binary(max_size=30))
        data = head + b"\r\nContent-Length: %d\r\n\r\n" % (len(body) + 1) + body
    else:
        head = data[: data.index(b"\r\n\r\n")]
        head = re.sub(rb"\r\n(Content-Length|Transfer-Encoding): [^\r]*", b"", head)
        data = head + b"\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"
    return Case(data, [method], complete=False, abort=draw(st.booleans()))


@st.composite
def left_mid_response(draw: st.DrawFn) -> Case:
    """A viewer that reads part of a large answer (cached or not, GET or pipelined behind
    another request), then resets the connection."""
    path = draw(st.sampled_from(["/big", "/c/big"]))
    request = f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    first = b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n" if draw(st.booleans()) else b""
    return Case(first + request, ["GET"], read_then_drop=draw(st.integers(1, 1_000_000)))


@st.composite
def garbage(draw: st.DrawFn) -> Case:
    """Bytes with no structure, ended by a blank line: the edge must refuse them at once."""
    junk = draw(st.binary(min_size=1, max_size=300)).replace(b"\r\n\r\n", b"")
    # Empty lines before a request line are skipped (RFC 9112 §2.2): the edge waits for one.
    assume(junk.strip(b"\r\n"))
    return Case(junk + b"\r\n\r\n", ["?"])
