"""Fuzz the admin port's three APIs over HTTP: the KVS data-plane API (what boto3's
``cloudfront-keyvaluestore`` client calls), the CloudFront API's store operations, and edgesim's
store API.

Requests are built around real ones (the store's ARN, its current ETag, the modelled bodies) and
then broken: malformed JSON and XML, members of the wrong type, empty, huge and badly encoded
keys and values, missing, stale and odd If-Match values, unknown methods and operations, odd
paths and query strings, and SigV4-looking headers of every kind (signatures are not verified,
see docs/kvs.md, so none may change an answer).

Invariants, for every request:

* no 5xx (the only documented one, ``InternalServerException``, is an edgesim bug) and nothing
  logged at ERROR (a traceback) by the server;
* a refusal (4xx) is in its API's error format with a message: the KVS API's ``x-amzn-ErrorType``
  header naming a modelled error (what botocore reads first) and ``{"Message": …}``; CloudFront's
  ``<ErrorResponse><Error><Code>…<Message>…``; edgesim's ``{"error": {"code", "message"}}``;
* a refused request changes nothing: every store's data and ETag are as before (an accepted one
  leaves the store self-consistent);
* the server still answers a plain DescribeKeyValueStore afterwards.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgesim.controlplane.app import BackgroundServer
from edgesim.controlplane.cloudfront_api import cloudfront_etag
from edgesim.controlplane.guard import HostPolicy
from edgesim.kvs.service import KvsService
from tests.reliability.conftest import budget

STORE = "fuzz"
SENTINEL = "sentinel-never-named"  # the health check's store: no request names it
NS = "{http://cloudfront.amazonaws.com/doc/2020-05-31/}"
# The modelled errors of cloudfront-keyvaluestore (reference A.3) with their statuses, plus the
# UnknownOperationException of docs/kvs.md; 413 is a ValidationException for an oversized body.
KVS_ERRORS = {
    "ValidationException": {400, 413},
    "ServiceQuotaExceededException": {402},
    "ResourceNotFoundException": {404},
    "ConflictException": {409},
    "UnknownOperationException": {404, 405},
}
CLOUDFRONT_ERRORS = {
    "InvalidArgument": {400},
    "EntityNotFound": {404},
    "EntityAlreadyExists": {409},
    "EntityLimitExceeded": {400},
    "UnsupportedOperation": {400, 405},
    "InvalidIfMatchVersion": {400},
    "PreconditionFailed": {412},
}
STORE_API_ERRORS = {**KVS_ERRORS}
TRANSPORT_LINE_LIMIT = 8190 - len("DELETE  HTTP/1.1")  # aiohttp's default max_line_size


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def __repr__(self) -> str:  # a falsifying example stays readable
        path = self.path if len(self.path) < 300 else f"{self.path[:300]}… ({len(self.path)})"
        body = self.body[:300] + (b"..." if len(self.body) > 300 else b"")
        return f"Request({self.method!r}, {path!r}, {self.headers!r}, {body!r})"


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Admin:
    service: KvsService
    port: int
    log: Recorder

    def ensure_store(self) -> None:
        names = {s.name for s in self.service.list_stores()}
        for name in (STORE, SENTINEL):
            if name not in names:
                self.service.create_store(name, items={f"k{i}": f"v{i}" for i in range(20)})

    @property
    def arn(self) -> str:
        return self.service.describe(STORE).arn

    def snapshot(self) -> dict[str, tuple[str, dict[str, str]]]:
        return {s.name: (s.etag, self.service.export(s.id)) for s in self.service.list_stores()}


@pytest.fixture(scope="module")
def admin() -> Iterator[Admin]:
    recorder = Recorder()
    loggers = [logging.getLogger(n) for n in ("edgesim", "aiohttp", "asyncio")]
    for logger in loggers:
        logger.addHandler(recorder)
    try:
        with KvsService(pops=("IAD", "FRA")) as service, BackgroundServer(service) as server:
            yield Admin(service, server.port, recorder)
    finally:
        for logger in loggers:
            logger.removeHandler(recorder)


# -- building blocks -----------------------------------------------------------------------------

URL_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))
HEADER_TEXT = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=60
).map(str.strip)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=20)
)
any_json = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def sized_text(draw: st.DrawFn) -> str:
    """Keys and values around the limits: empty, 512/513 and 1,024/1,025 bytes, multi-byte."""
    unit = draw(st.sampled_from(["x", "é", "日", "😀", "\x00", "%", "/"]))
    count = draw(st.sampled_from([0, 1, 170, 171, 256, 257, 511, 512, 513, 1024, 1025, 5000]))
    return unit * count


key_text = st.text(max_size=30) | sized_text() | st.sampled_from(["k1", "k2", "new", "a/b"])
value_like = st.text(max_size=20) | sized_text() | any_json


def encode_label(text: str, draw: st.DrawFn) -> str:
    how = draw(st.sampled_from(["quote", "quote", "quote", "raw", "broken"]))
    if how == "quote":
        return quote(text, safe="")
    if how == "raw":  # printable ASCII only: http.client refuses anything else in a path
        return "".join(c for c in quote(text, safe="/:@") if c in URL_SAFE)
    return quote(text, safe="") + draw(st.sampled_from(["%", "%F", "%FF", "%zz", "%C3", "%00"]))


@st.composite
def if_match(draw: st.DrawFn, etag: str) -> tuple[tuple[str, str], ...]:
    choice = draw(
        st.sampled_from(
            ["current"] * 4 + ["absent", "stale", "empty", "spaces", "quoted", "star", "text"]
        )
    )
    values = {
        "current": etag,
        "stale": "KVAAAAAAAAAAAAA",
        "empty": "",
        "spaces": "   ",
        "quoted": f'"{etag}"',
        "star": "*",
    }
    if choice == "absent":
        return ()
    if choice == "text":
        return (("If-Match", draw(HEADER_TEXT)),)
    return (("If-Match", values[choice]),)


@st.composite
def signature_headers(draw: st.DrawFn) -> tuple[tuple[str, str], ...]:
    """What SigV4/SigV4A signers send, valid-looking or garbage (never verified)."""
    out: list[tuple[str, str]] = []
    if draw(st.booleans()):
        algorithm = draw(
            st.sampled_from(["AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", "AWS", "Bearer", ""])
        )
        garbage = draw(HEADER_TEXT)
        out.append(
            (
                "Authorization",
                draw(
                    st.sampled_from(
                        [
                            f"{algorithm} Credential=x/20260101/us-east-1/"
                            "cloudfront-keyvaluestore/aws4_request, SignedHeaders=host;x-amz-date,"
                            " Signature=00",
                            f"{algorithm} {garbage}",
                            garbage,
                        ]
                    )
                ),
            )
        )
    for name in ("X-Amz-Date", "X-Amz-Content-SHA256", "X-Amz-Region-Set", "X-Amz-Security-Token"):
        if draw(st.booleans()):
            out.append((name, draw(HEADER_TEXT | st.just("20260101T000000Z"))))
    if draw(st.booleans()):
        # Mostly names the admin server answers to, so most requests reach the APIs; now and
        # then one its DNS-rebinding guard refuses.
        refused = draw(st.integers(0, 9)) == 0
        names = (
            ["", "x" * 300, "attacker.example"]
            if refused
            else ["123456789012.localhost", "kvs.localhost"]
        )
        out.append(("Host", draw(st.sampled_from(names))))
    if draw(st.booleans()):
        out.append(("Content-Type", draw(st.sampled_from(["application/json", "text/xml", "x/y"]))))
    return tuple(out)


def dump(doc: Any, draw: st.DrawFn) -> bytes:
    how = draw(st.sampled_from(["json", "json", "cut", "junk"]))
    text = json.dumps(doc)  # NaN and Infinity included: not JSON, orjson must refuse them
    if how == "cut":
        return text[: draw(st.integers(0, max(0, len(text) - 1)))].encode()
    if how == "junk":
        return text.encode() + draw(st.sampled_from([b"x", b"\xff", b"}", b"\x00"]))
    return text.encode()


@st.composite
def kvs_body(draw: st.DrawFn) -> bytes:
    shape = draw(
        st.sampled_from(["put", "update"])
        | st.sampled_from(["put", "update", "any", "bytes", "empty", "big"])
    )
    if shape == "put":
        return dump({"Value": draw(value_like)}, draw)
    if shape == "update":
        entry = st.fixed_dictionaries(
            {}, optional={"Key": key_text | any_json, "Value": value_like}
        )
        many = st.integers(0, 60).map(lambda n: [{"Key": f"b{i}", "Value": "v"} for i in range(n)])
        doc = {
            name: draw(st.lists(entry | any_json, max_size=5) | many | any_json)
            for name in draw(st.sets(st.sampled_from(["Puts", "Deletes", "Other"])))
        }
        return dump(doc, draw)
    if shape == "any":
        return dump(draw(any_json), draw)
    if shape == "bytes":
        return draw(st.binary(max_size=64))
    if shape == "big":
        return b'{"Value": "' + b"x" * draw(st.sampled_from([1025, 70_000, 3_200_000])) + b'"}'
    return b""


def query(draw: st.DrawFn) -> str:
    pairs = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["MaxResults", "NextToken", "MaxItems", "Marker", "Status", "x"]),
                st.sampled_from(["", "0", "1", "50", "51", "-1", "1e3", "nan", "9" * 30])
                | st.text(max_size=12),
            ),
            max_size=3,
        )
    )
    if not pairs:
        return ""
    return "?" + "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in pairs)


# The six operations (method, path after the ARN) as boto3 sends them; the fuzzer starts from
# one of them most of the time, so that a good share of requests reach the model.
OPERATIONS = [
    ("GET", ""),
    ("GET", "/keys/K"),
    ("GET", "/keys"),
    ("PUT", "/keys/K"),
    ("DELETE", "/keys/K"),
    ("POST", "/keys"),
]


@st.composite
def kvs_request(draw: st.DrawFn, arn: str, etag: str) -> Request:
    prefix = draw(st.sampled_from(["", "", "/prefix", "//"]))
    target = draw(
        st.sampled_from([arn] * 6 + [arn.replace("-", "0"), "fuzz", "arn:aws:s3:::b", ""])
        | st.text(max_size=20)
    )
    path = prefix + "/key-value-stores/" + encode_label(target, draw)
    method, tail = draw(st.sampled_from(OPERATIONS))
    if draw(st.integers(0, 3)) == 0:  # an operation that does not exist
        tail = draw(st.sampled_from(["", "/keys", "/keys/K", "/keys/", "/keys/K/x", "/items", "/"]))
        method = draw(
            st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS", "FOO"])
        )
    if "K" in tail:
        tail = tail.replace("K", encode_label(draw(key_text), draw))
    headers = draw(if_match(etag)) + draw(signature_headers())
    body = draw(kvs_body()) if method in ("PUT", "POST", "PATCH") or draw(st.booleans()) else b""
    return Request(method, path + tail + query(draw), headers, body)


@st.composite
def cloudfront_request(draw: st.DrawFn, etag: str) -> Request:
    base = "/2020-05-31/key-value-store"
    name = draw(
        st.sampled_from([STORE, "new-store", "", "a" * 65, "bad name"]) | st.text(max_size=10)
    )
    comment = draw(st.sampled_from(["", "c" * 129]) | st.text(max_size=20))
    templates = [
        f'<CreateKeyValueStoreRequest xmlns="{NS[1:-1]}"><Name>{name}</Name>'
        f"<Comment>{comment}</Comment></CreateKeyValueStoreRequest>",
        f'<CreateKeyValueStoreRequest xmlns="{NS[1:-1]}"><Name>{name}</Name><ImportSource>'
        "<SourceType>S3</SourceType><SourceARN>arn:aws:s3:::b/k</SourceARN></ImportSource>"
        "</CreateKeyValueStoreRequest>",
        f"<CreateKeyValueStoreRequest><Name>{name}</Name></CreateKeyValueStoreRequest>",
        '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "eeeeeeeeee">'
        '<!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">]><a>&f;&f;</a>',
        "<a><b></a>",
        name,
    ]
    body = draw(st.sampled_from(templates)).encode("utf-8", "surrogatepass")
    method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]))
    path = base + draw(st.sampled_from(["", "/" + encode_label(name, draw), "/" + STORE, "/"]))
    match = draw(st.sampled_from([(), (("If-Match", etag),), (("If-Match", "ETVXYZ"),)]))
    return Request(method, path + query(draw), match + draw(signature_headers()), body)


@st.composite
def store_api_request(draw: st.DrawFn, arn: str, etag: str) -> Request:
    base = "/__edgesim/kvs/stores"
    ref = draw(st.sampled_from([STORE, arn, "nope", ""]) | st.text(max_size=10))
    path = base + draw(
        st.sampled_from(["", "/R", "/R/export", "/R/status", "/R/other", "/R/"])
    ).replace("R", encode_label(ref, draw))
    doc = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "name": st.sampled_from([STORE, "made-by-fuzz"]) | any_json,
                "comment": any_json,
                "data": st.lists(
                    st.fixed_dictionaries({}, optional={"key": key_text, "value": value_like})
                    | any_json,
                    max_size=4,
                )
                | any_json,
                "extra": any_json,
            },
        )
    )
    body = dump(doc, draw)
    method = draw(st.sampled_from(["GET", "POST", "DELETE", "PUT"]))
    match = draw(if_match(etag))
    return Request(method, path + query(draw), match + draw(signature_headers()), body)


# -- the invariants -----------------------------------------------------------------------------


def send(admin: Admin, request: Request) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", admin.port, timeout=30)
    try:
        conn.putrequest(request.method, request.path, skip_host=True, skip_accept_encoding=True)
        names = {name.lower() for name, _ in request.headers}
        if "host" not in names:
            conn.putheader("Host", f"127.0.0.1:{admin.port}")
        for name, value in request.headers:
            conn.putheader(name, value.encode("latin-1"))
        conn.putheader("Content-Length", str(len(request.body)))
        # The server may answer (and close) before the whole body is sent: its answer is still
        # there to read; if not, there is none (status 0).
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.endheaders(request.body)
        try:
            response = conn.getresponse()
        except (http.client.HTTPException, OSError):
            return 0, {}, b""
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def transport_refusal(request: Request) -> bool:
    """Whether aiohttp's HTTP parser refuses the request before any route: a request line over
    its default limit, or a method llhttp does not know (the raw HTTP fuzzer's ground)."""
    return len(request.path) > TRANSPORT_LINE_LIMIT or request.method == "FOO"


def check_error_format(request: Request, status: int, headers: dict[str, str], body: bytes) -> None:
    path = request.path.split("?")[0]
    if transport_refusal(request):
        assert status in (0, 400, 405), status  # 0: closed while the body was still being sent
        return
    if headers.get("x-amzn-errortype") == "ForbiddenHost":
        # The admin server's DNS-rebinding guard, in front of every API: only for a Host that is
        # not a name it answers to (docs/kvs.md, "Host names").
        host = dict((n.lower(), v) for n, v in request.headers).get("host")
        assert status == 403, status
        assert host is not None, request
        assert not HostPolicy(bound="127.0.0.1").allows(host), host
        return
    if "/key-value-stores/" in path:
        code = headers.get("x-amzn-errortype", "")
        assert status in KVS_ERRORS.get(code, set()), (status, code, body[:200])
        if request.method == "HEAD":
            return  # the same answer without its body
        message = json.loads(body)["Message"]
        assert isinstance(message, str)
        assert message
    elif path.startswith("/2020-05-31/key-value-store"):
        if status == 405 and not headers.get("content-type", "").endswith("xml"):
            return  # aiohttp's router: a method the collection routes do not have
        if request.method == "HEAD":
            return
        root = ET.fromstring(body)
        assert root.tag == NS + "ErrorResponse", body[:200]
        code = root.findtext(f"{NS}Error/{NS}Code") or ""
        assert status in CLOUDFRONT_ERRORS.get(code, set()), (status, code, body[:200])
        assert root.findtext(f"{NS}Error/{NS}Message")
    elif path.startswith("/__edgesim/kvs/stores"):
        if status == 405 and path == "/__edgesim/kvs/stores":
            return  # aiohttp's router: PUT/DELETE on the collection
        error = json.loads(body)["error"]
        assert status in STORE_API_ERRORS.get(error["code"], set()), (status, error)
        assert error["message"]
    else:
        assert status in (404, 405), status  # no API here: aiohttp's own answer


def check_request(admin: Admin, request: Request, figures: dict[str, object]) -> None:
    before = admin.snapshot()
    del admin.log.records[:]
    status, headers, body = send(admin, request)
    figures["requests"] = int(figures.get("requests", 0)) + 1  # type: ignore[call-overload]
    statuses = figures.setdefault("statuses", Counter())
    statuses[status] += 1  # type: ignore[index]
    assert admin.log.records == [], [r.getMessage() for r in admin.log.records]
    # No answer at all only when the HTTP parser refused the request before any route.
    assert status or transport_refusal(request), "the connection closed without an answer"
    assert status < 500, (status, body[:300])
    after = admin.snapshot()
    if status >= 400:
        check_error_format(request, status, headers, body)
        assert after == before, "a refused request changed stored data"
    for name, (_, items) in after.items():
        info = admin.service.describe(name)
        size = sum(len(k.encode()) + len(v.encode()) for k, v in items.items())
        assert (info.item_count, info.total_size) == (len(items), size)
    # Still healthy: a plain describe answers.
    arn = admin.service.describe(SENTINEL).arn
    assert (
        send(admin, Request("GET", "/key-value-stores/" + quote(arn, safe=""), (), b""))[0] == 200
    )


FUZZ = settings(
    max_examples=int(budget(150, 3000)),
    # ``figures`` is meant to outlive the examples: it adds up the answers of all of them.
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
    deadline=None,
)


@FUZZ
@given(data=st.data())
def test_kvs_data_plane_api(admin: Admin, figures: dict[str, object], data: st.DataObject) -> None:
    admin.ensure_store()
    request = data.draw(kvs_request(admin.arn, admin.service.describe(STORE).etag))
    check_request(admin, request, figures)


@FUZZ
@given(data=st.data())
def test_cloudfront_store_api(
    admin: Admin, figures: dict[str, object], data: st.DataObject
) -> None:
    admin.ensure_store()
    etag = cloudfront_etag(admin.service.describe(STORE).id)
    check_request(admin, data.draw(cloudfront_request(etag)), figures)


@FUZZ
@given(data=st.data())
def test_edgesim_store_api(admin: Admin, figures: dict[str, object], data: st.DataObject) -> None:
    admin.ensure_store()
    request = data.draw(store_api_request(admin.arn, admin.service.describe(STORE).etag))
    check_request(admin, request, figures)
