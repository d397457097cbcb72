"""edgesim.origins.s3dir: a directory answered as S3's REST API answers GetObject/HeadObject.

Behaviour relied on (evidence cited in the module): a missing key is 403 AccessDenied without
s3:ListBucket and 404 NoSuchKey with it; error bodies are S3's <Error> XML as application/xml;
ETag is the quoted MD5 of the bytes; Content-Type is what ``aws s3 cp`` would store
(``mimetypes``), ``binary/octet-stream`` otherwise; conditional headers follow RFC 9110's order
as GetObject documents it; one byte range is served 206, several are ignored (200, whole
object), an unsatisfiable one is 416 InvalidRange; ``+`` in the path is a space; anything not
GET/HEAD is 405 MethodNotAllowed (read-only emulation).

Path-sensitive requests (``..``, percent-encoded dots and slashes) are written on a raw socket to
a started origin, so no client library normalises them first.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import http.client
import itertools
import os
import threading
import time
import tracemalloc
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import given
from hypothesis import strategies as st

from edgesim.origins import S3DirectoryOrigin, s3keys
from edgesim.origins.s3dir import (
    CHUNK_SIZE,
    ByteRange,
    RangeNotSatisfiable,
    content_type_for,
    key_from_raw_path,
    parse_range,
)

Client = TestClient[web.Request, web.Application]
MakeClient = Callable[[web.Application], Awaitable[Client]]

HELLO = b"hello world"  # 11 bytes
HELLO_ETAG = '"' + hashlib.md5(HELLO).hexdigest() + '"'
S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    (root / "dir" / "sub").mkdir(parents=True)
    (root / "index.html").write_bytes(HELLO)
    (root / "style.css").write_text("body{}")
    (root / "dir" / "a.json").write_text("{}")
    (root / "dir" / "sub" / "deep.txt").write_text("deep")
    (root / "a b.txt").write_text("space")
    (root / "c++.html").write_text("plus")
    (root / "Upper.txt").write_text("upper")
    (root / "empty.bin").write_bytes(b"")
    (tmp_path / "secret.txt").write_text("outside")
    (root / "leak").symlink_to(tmp_path / "secret.txt")
    (root / "leakdir").symlink_to(tmp_path)
    (root / "alias.html").symlink_to(root / "index.html")
    return root


@pytest.fixture
async def client(aiohttp_client: MakeClient, site: Path) -> Client:
    return await aiohttp_client(S3DirectoryOrigin(site).make_app())


@pytest.fixture
async def listing_client(aiohttp_client: MakeClient, site: Path) -> Client:
    return await aiohttp_client(S3DirectoryOrigin(site, list_bucket=True, bucket="b").make_app())


@pytest.fixture
async def started(site: Path) -> AsyncIterator[str]:
    origin = S3DirectoryOrigin(site)
    url = await origin.start()
    yield url
    await origin.stop()


async def raw(url: str, target: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 request with ``target`` written exactly as given."""
    port = int(url.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"{method} {target} HTTP/1.1\r\nHost: o\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def error_fields(body: bytes) -> dict[str, str]:
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Error>')
    root = ET.fromstring(body)
    assert root.tag == "Error"
    return {child.tag: child.text or "" for child in root}


def http_date(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)


# --- GET / HEAD of an object ------------------------------------------------------------------


async def test_get_answers_the_object_with_s3_headers(client: Client, site: Path) -> None:
    resp = await client.get("/index.html")
    assert resp.status == 200
    assert await resp.read() == HELLO
    h = resp.headers
    assert h["Content-Length"] == "11"
    assert h["Content-Type"] == "text/html"
    assert h["ETag"] == HELLO_ETAG
    assert h["Last-Modified"] == http_date(int((site / "index.html").stat().st_mtime))
    assert h["Accept-Ranges"] == "bytes"
    assert h["Server"] == "AmazonS3"
    assert h["x-amz-server-side-encryption"] == "AES256"
    assert len(h["x-amz-request-id"]) == 16
    assert h["x-amz-id-2"]
    assert "Content-Range" not in h


async def test_head_answers_the_same_headers_without_a_body(client: Client) -> None:
    get = await client.get("/index.html")
    head = await client.head("/index.html")
    assert head.status == 200
    assert await head.read() == b""
    for name in ("Content-Length", "Content-Type", "ETag", "Last-Modified", "Accept-Ranges"):
        assert head.headers[name] == get.headers[name]


async def test_each_response_has_its_own_request_id(client: Client) -> None:
    ids = {(await client.get("/index.html")).headers["x-amz-request-id"] for _ in range(3)}
    assert len(ids) == 3


async def test_nested_keys_and_symlinks_inside_the_directory_are_objects(client: Client) -> None:
    assert await (await client.get("/dir/sub/deep.txt")).read() == b"deep"
    alias = await client.get("/alias.html")
    assert alias.status == 200
    assert alias.headers["ETag"] == HELLO_ETAG


async def test_an_empty_object(client: Client) -> None:
    resp = await client.get("/empty.bin")
    assert resp.status == 200
    assert resp.headers["Content-Length"] == "0"
    assert resp.headers["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    assert resp.headers["Content-Type"] == content_type_for("empty.bin")


async def test_the_etag_follows_the_file(client: Client, site: Path) -> None:
    first = (await client.get("/style.css")).headers["ETag"]
    (site / "style.css").write_text("body{color:red}")
    os.utime(site / "style.css", (time.time() + 5, time.time() + 5))
    resp = await client.get("/style.css")
    assert resp.headers["ETag"] != first
    assert resp.headers["ETag"] == '"' + hashlib.md5(b"body{color:red}").hexdigest() + '"'


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("index.html", "text/html"),
        ("a/style.css", "text/css"),
        ("data.json", "application/json"),
        ("logo.svg", "image/svg+xml"),
        ("photo.PNG", "image/png"),
        ("README", "binary/octet-stream"),
        ("blob.unknownext", "binary/octet-stream"),
        ("archive.gz", "binary/octet-stream"),  # an encoding, not a type: aws s3 cp sets none
        ("dir.html/file", "binary/octet-stream"),  # the extension of the last segment only
    ],
)
def test_content_type_is_what_aws_s3_cp_stores(name: str, expected: str) -> None:
    assert content_type_for(name) == expected


# --- missing keys -----------------------------------------------------------------------------


async def test_a_missing_key_without_list_bucket_is_403_access_denied(client: Client) -> None:
    resp = await client.get("/missing.html")
    assert resp.status == 403
    assert resp.headers["Content-Type"] == "application/xml"
    assert resp.headers["Server"] == "AmazonS3"
    fields = error_fields(await resp.read())
    assert list(fields) == ["Code", "Message", "RequestId", "HostId"]
    assert fields["Code"] == "AccessDenied"
    assert fields["Message"] == "Access Denied"
    assert fields["RequestId"] == resp.headers["x-amz-request-id"]
    assert fields["HostId"] == resp.headers["x-amz-id-2"]


async def test_a_missing_key_with_list_bucket_is_404_no_such_key(listing_client: Client) -> None:
    resp = await listing_client.get("/docs/missing.html")
    assert resp.status == 404
    assert resp.headers["Content-Type"] == "application/xml"
    fields = error_fields(await resp.read())
    assert list(fields) == ["Code", "Message", "Key", "RequestId", "HostId"]
    assert fields["Code"] == "NoSuchKey"
    assert fields["Message"] == "The specified key does not exist."
    assert fields["Key"] == "docs/missing.html"


async def test_head_of_a_missing_key_has_the_status_and_no_body(
    client: Client, listing_client: Client
) -> None:
    denied = await client.head("/missing")
    assert (denied.status, await denied.read()) == (403, b"")
    assert denied.headers["Content-Type"] == "application/xml"
    missing = await listing_client.head("/missing")
    assert (missing.status, await missing.read()) == (404, b"")


@pytest.mark.parametrize("path", ["/dir", "/dir/", "/dir/sub/", "/index.html/"])
async def test_directories_are_no_objects(
    client: Client, listing_client: Client, path: str
) -> None:
    assert (await client.get(path)).status == 403
    assert (await listing_client.get(path)).status == 404


async def test_keys_are_case_sensitive(client: Client) -> None:
    assert (await client.get("/Upper.txt")).status == 200
    assert (await client.get("/upper.txt")).status == 403
    assert (await client.get("/INDEX.HTML")).status == 403


def test_on_a_case_insensitive_file_system_the_spelling_is_checked(site: Path) -> None:
    root = os.path.realpath(site)
    assert s3keys.exact_case(root, ["Upper.txt"])
    assert not s3keys.exact_case(root, ["upper.txt"])
    assert s3keys.exact_case(root, ["dir", "sub", "deep.txt"])
    assert not s3keys.exact_case(root, ["DIR", "sub", "deep.txt"])


async def test_a_case_insensitive_origin_refuses_a_wrong_spelling(
    aiohttp_client: MakeClient, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    origin, unchecked_origin = S3DirectoryOrigin(site), S3DirectoryOrigin(site)
    monkeypatch.setattr(origin, "_case_insensitive", True)
    # Pretend the file system would open the wrong spelling: only the spelling check refuses it.
    real_open = os.open
    monkeypatch.setattr(
        os, "open", lambda p, *a: real_open(p.replace("upper.txt", "Upper.txt"), *a)
    )
    monkeypatch.setattr(os.path, "realpath", lambda p: p)
    unchecked = await aiohttp_client(unchecked_origin.make_app())
    assert (await unchecked.get("/upper.txt")).status == 200  # what the check is there for
    client = await aiohttp_client(origin.make_app())
    assert (await client.get("/Upper.txt")).status == 200
    assert (await client.get("/upper.txt")).status == 403


async def test_special_files_are_no_objects(client: Client, site: Path) -> None:
    os.mkfifo(site / "pipe")
    resp = await asyncio.wait_for(client.get("/pipe"), timeout=5)
    assert resp.status == 403


# --- keys from paths, and paths that try to leave the directory --------------------------------


@pytest.mark.parametrize(
    ("raw_path", "key"),
    [
        ("/index.html", "index.html"),
        ("/a%20b.txt", "a b.txt"),
        ("/a+b.txt", "a b.txt"),  # S3 reads + in the path as a space
        ("/c%2B%2B.html", "c++.html"),
        ("/dir%2Fa.json", "dir/a.json"),
        ("/caf%C3%A9.txt?x=1&y", "café.txt"),
        ("/", ""),
        ("/%ff", None),
    ],
)
def test_the_key_is_the_decoded_path(raw_path: str, key: str | None) -> None:
    assert key_from_raw_path(raw_path) == key


async def test_plus_and_encoded_characters_reach_their_files(started: str) -> None:
    for target, body in [
        ("/a+b.txt", b"space"),
        ("/a%20b.txt", b"space"),
        ("/c%2B%2B.html", b"plus"),
        ("/dir%2Fa.json", b"{}"),
        ("/dir%2fsub%2Fdeep.txt", b"deep"),
        ("/index.html?versionId=ignored", HELLO),
    ]:
        status, _, got = await raw(started, target)
        assert (status, got) == (200, body), target
    status, _, _ = await raw(started, "/c++.html")  # the key "c  .html"
    assert status == 403


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/..%2fsecret.txt",
        "/dir/../../secret.txt",
        "/dir/..%2F..%2Fsecret.txt",
        "/dir/%2e%2e/%2e%2e/secret.txt",
        "/./index.html",
        "/dir/../index.html",  # a literal key in S3, and no file can be named so
        "//index.html",
        "/dir//a.json",
        "/leak",
        "/leakdir/secret.txt",
        "/leakdir/site/index.html",
        "/index.html%00",
        "/%00",
        "/..",
        "/%2e%2e",
    ],
)
async def test_no_path_leaves_the_directory(started: str, target: str) -> None:
    status, headers, body = await raw(started, target)
    assert status == 403, target
    assert error_fields(body)["Code"] == "AccessDenied"
    assert b"outside" not in body
    assert headers["content-type"] == "application/xml"


async def test_traversal_is_a_missing_key_with_list_bucket_too(site: Path) -> None:
    origin = S3DirectoryOrigin(site, list_bucket=True)
    url = await origin.start()
    try:
        status, _, body = await raw(url, "/%2e%2e/secret.txt")
        assert status == 404
        assert error_fields(body)["Key"] == "../secret.txt"
    finally:
        await origin.stop()


# --- conditional requests ---------------------------------------------------------------------


@pytest.fixture
def mtime(site: Path) -> int:
    return int((site / "index.html").stat().st_mtime)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"If-None-Match": HELLO_ETAG}, 304),
        ({"If-None-Match": '"other", ' + HELLO_ETAG}, 304),
        ({"If-None-Match": "W/" + HELLO_ETAG}, 304),  # weak comparison
        ({"If-None-Match": "*"}, 304),
        ({"If-None-Match": '"other"'}, 200),
        ({"If-Match": HELLO_ETAG}, 200),
        ({"If-Match": HELLO_ETAG.strip('"')}, 200),  # as an SDK passes it through
        ({"If-Match": '"other", ' + HELLO_ETAG}, 200),
        ({"If-Match": "*"}, 200),
        ({"If-Match": '"other"'}, 412),
        ({"If-Match": "W/" + HELLO_ETAG}, 412),  # strong comparison
    ],
)
async def test_entity_tag_conditions(client: Client, headers: dict[str, str], status: int) -> None:
    for method in ("GET", "HEAD"):
        resp = await client.request(method, "/index.html", headers=headers)
        assert resp.status == status, (method, headers)
        if status == 304:
            assert await resp.read() == b""
            assert resp.headers["ETag"] == HELLO_ETAG
            assert "Last-Modified" in resp.headers
        if status == 412 and method == "GET":
            fields = error_fields(await resp.read())
            assert fields["Code"] == "PreconditionFailed"
            assert (
                fields["Message"] == "At least one of the pre-conditions you specified did not hold"
            )
            assert fields["Condition"] == "If-Match"


async def test_date_conditions(client: Client, mtime: int) -> None:
    async def status(**headers: str) -> int:
        return (await client.get("/index.html", headers=headers)).status

    assert await status(**{"If-Modified-Since": http_date(mtime)}) == 304
    assert await status(**{"If-Modified-Since": http_date(mtime + 3600)}) == 304
    assert await status(**{"If-Modified-Since": http_date(mtime - 1)}) == 200
    assert await status(**{"If-Unmodified-Since": http_date(mtime)}) == 200
    assert await status(**{"If-Unmodified-Since": http_date(mtime + 60)}) == 200
    assert await status(**{"If-Unmodified-Since": http_date(mtime - 1)}) == 412
    # An invalid date is ignored.
    assert await status(**{"If-Modified-Since": "yesterday"}) == 200
    assert await status(**{"If-Unmodified-Since": "not a date"}) == 200
    resp = await client.get("/index.html", headers={"If-Unmodified-Since": http_date(mtime - 1)})
    assert error_fields(await resp.read())["Condition"] == "If-Unmodified-Since"


async def test_s3s_documented_precedence(client: Client, mtime: int) -> None:
    # If-Match true and If-Unmodified-Since false: 200 OK and the data.
    resp = await client.get(
        "/index.html",
        headers={"If-Match": HELLO_ETAG, "If-Unmodified-Since": http_date(mtime - 3600)},
    )
    assert (resp.status, await resp.read()) == (200, HELLO)
    # If-None-Match false and If-Modified-Since true: 304 Not Modified.
    resp = await client.get(
        "/index.html",
        headers={"If-None-Match": HELLO_ETAG, "If-Modified-Since": http_date(mtime - 3600)},
    )
    assert resp.status == 304
    # If-None-Match true takes the place of If-Modified-Since (RFC 9110 §13.1.4).
    resp = await client.get(
        "/index.html",
        headers={"If-None-Match": '"other"', "If-Modified-Since": http_date(mtime + 3600)},
    )
    assert resp.status == 200
    # A failed If-Match wins over a matching If-None-Match: 412 before 304.
    resp = await client.get(
        "/index.html", headers={"If-Match": '"other"', "If-None-Match": HELLO_ETAG}
    )
    assert resp.status == 412


async def test_a_missing_key_is_missing_whatever_the_conditions(client: Client) -> None:
    resp = await client.get("/missing", headers={"If-Match": "*", "If-None-Match": "*"})
    assert resp.status == 403


# --- ranges -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "content_range", "body"),
    [
        ("bytes=0-4", "bytes 0-4/11", b"hello"),
        ("bytes=6-", "bytes 6-10/11", b"world"),
        ("bytes=-5", "bytes 6-10/11", b"world"),
        ("bytes=-100", "bytes 0-10/11", HELLO),
        ("bytes=3-100", "bytes 3-10/11", b"lo world"),
        ("bytes=10-10", "bytes 10-10/11", b"d"),
        ("bytes=0-0", "bytes 0-0/11", b"h"),
        ("Bytes = 1 - 2", "bytes 1-2/11", b"el"),
    ],
)
async def test_one_range_is_206(
    client: Client, header: str, content_range: str, body: bytes
) -> None:
    resp = await client.get("/index.html", headers={"Range": header})
    assert resp.status == 206
    assert resp.headers["Content-Range"] == content_range
    assert resp.headers["Content-Length"] == str(len(body))
    assert resp.headers["ETag"] == HELLO_ETAG  # the whole object's
    assert await resp.read() == body
    head = await client.head("/index.html", headers={"Range": header})
    assert head.status == 206
    assert head.headers["Content-Range"] == content_range
    assert await head.read() == b""


@pytest.mark.parametrize(
    "header",
    [
        "bytes=0-1,3-4",  # several ranges: S3 answers the whole object
        "bytes=0-1, 5-",
        "bytes=5-2",  # last before first: invalid, ignored
        "items=0-1",  # another unit
        "bytes=abc",
        "bytes=-",
        "bytes 0-4",
    ],
)
async def test_several_or_malformed_ranges_answer_the_whole_object(
    client: Client, header: str
) -> None:
    resp = await client.get("/index.html", headers={"Range": header})
    assert resp.status == 200
    assert "Content-Range" not in resp.headers
    assert await resp.read() == HELLO


@pytest.mark.parametrize(("path", "header", "size"), [
    ("/index.html", "bytes=11-", "11"),
    ("/index.html", "bytes=11-20", "11"),
    ("/index.html", "bytes=-0", "11"),
    ("/empty.bin", "bytes=0-", "0"),
    ("/empty.bin", "bytes=0-0", "0"),
    ("/empty.bin", "bytes=-1", "0"),
])  # fmt: skip
async def test_an_unsatisfiable_range_is_416_invalid_range(
    client: Client, path: str, header: str, size: str
) -> None:
    resp = await client.get(path, headers={"Range": header})
    assert resp.status == 416
    assert resp.headers["Content-Type"] == "application/xml"
    fields = error_fields(await resp.read())
    assert fields["Code"] == "InvalidRange"
    assert fields["Message"] == "The requested range is not satisfiable"
    assert fields["RangeRequested"] == header
    assert fields["ActualObjectSize"] == size


async def test_conditions_come_before_the_range(client: Client) -> None:
    resp = await client.get(
        "/index.html", headers={"Range": "bytes=0-1", "If-None-Match": HELLO_ETAG}
    )
    assert resp.status == 304
    resp = await client.get("/index.html", headers={"Range": "bytes=50-", "If-Match": '"x"'})
    assert resp.status == 412


async def test_if_range(client: Client, mtime: int) -> None:
    async def status(if_range: str) -> int:
        resp = await client.get("/index.html", headers={"Range": "bytes=0-1", "If-Range": if_range})
        return resp.status

    assert await status(HELLO_ETAG) == 206
    assert await status('"stale"') == 200
    assert await status("W/" + HELLO_ETAG) == 200  # If-Range compares strongly
    assert await status(http_date(mtime)) == 206
    assert await status(http_date(mtime - 60)) == 200
    assert await status("garbage") == 200


def test_parse_range_edges() -> None:
    assert parse_range("bytes=0-", 1) == ByteRange(0, 0)
    assert parse_range("bytes=-1", 1) == ByteRange(0, 0)
    assert parse_range("bytes=0-1,2-3", 10) is None
    with pytest.raises(RangeNotSatisfiable):
        parse_range("bytes=1-", 1)
    assert ByteRange(2, 5).length == 4
    assert ByteRange(2, 5).content_range(9) == "bytes 2-5/9"


@st.composite
def range_specs(draw: st.DrawFn, size: int) -> tuple[str, int, int]:
    """A satisfiable single range over ``size`` bytes: the header and the slice it names."""
    kind = draw(st.sampled_from(["closed", "open", "suffix"]))
    if kind == "suffix":
        n = draw(st.integers(1, size + 50))
        return f"bytes=-{n}", max(0, size - n), size
    start = draw(st.integers(0, size - 1))
    if kind == "open":
        return f"bytes={start}-", start, size
    end = draw(st.integers(start, size + 50))
    return f"bytes={start}-{end}", start, min(end + 1, size)


@given(st.binary(min_size=1, max_size=3000), st.data())
def test_parse_range_names_the_slice(content: bytes, data: st.DataObject) -> None:
    header, start, stop = data.draw(range_specs(len(content)))
    byte_range = parse_range(header, len(content))
    assert byte_range is not None
    assert (byte_range.start, byte_range.end + 1) == (start, stop)


# The property over HTTP: one origin on a background loop for every example.


@pytest.fixture(scope="module")
def threaded_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("prop")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    origin = S3DirectoryOrigin(root)
    url = asyncio.run_coroutine_threadsafe(origin.start(), loop).result(timeout=10)
    yield url, root
    asyncio.run_coroutine_threadsafe(origin.stop(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()


_names = itertools.count()


@given(st.binary(min_size=1, max_size=3000), st.data())
def test_a_206_body_is_the_slice_its_content_range_names(
    threaded_origin: tuple[str, Path], content: bytes, data: st.DataObject
) -> None:
    url, root = threaded_origin
    name = f"obj{next(_names)}.bin"
    (root / name).write_bytes(content)
    header, start, stop = data.draw(range_specs(len(content)))
    conn = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1]), timeout=10)
    try:
        conn.request("GET", f"/{name}", headers={"Range": header})
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    assert resp.status == 206
    assert body == content[start:stop]
    unit, _, spec = resp.headers["Content-Range"].partition(" ")
    first, _, rest = spec.partition("-")
    last, _, total = rest.partition("/")
    assert unit == "bytes"
    assert (int(first), int(last) + 1, int(total)) == (start, stop, len(content))
    assert int(resp.headers["Content-Length"]) == len(body) == int(last) - int(first) + 1
    assert resp.headers["ETag"] == '"' + hashlib.md5(content).hexdigest() + '"'


# --- large objects stream -----------------------------------------------------------------------


async def test_a_large_object_streams_in_chunks(
    client: Client, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    size = 20 * 1024 * 1024
    block = os.urandom(1024 * 1024)
    with (site / "big.bin").open("wb") as f:
        for _ in range(size // len(block)):
            f.write(block)
    expected = hashlib.md5(block * (size // len(block))).hexdigest()

    reads: list[int] = []
    real_pread = os.pread

    def spy(fd: int, n: int, offset: int) -> bytes:
        reads.append(n)
        return real_pread(fd, n, offset)

    monkeypatch.setattr(os, "pread", spy)
    tracemalloc.start()
    try:
        resp = await client.get("/big.bin")
        assert resp.status == 200
        assert resp.headers["Content-Length"] == str(size)
        digest = hashlib.md5()
        received = 0
        async for chunk in resp.content.iter_chunked(64 * 1024):
            digest.update(chunk)
            received += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == size
    assert digest.hexdigest() == expected
    assert resp.headers["ETag"] == f'"{expected}"'
    # Hashing and sending both read pieces, never the whole file (hash: 1 MiB, body: CHUNK_SIZE).
    assert max(reads) <= 1024 * 1024
    assert sum(1 for n in reads if n <= CHUNK_SIZE) >= size // CHUNK_SIZE
    assert peak < 8 * 1024 * 1024, peak


# --- methods ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "DELETE", "POST", "PATCH", "OPTIONS"])
async def test_other_methods_are_405_method_not_allowed(client: Client, method: str) -> None:
    resp = await client.request(method, "/index.html", data=b"x" if method != "OPTIONS" else None)
    assert resp.status == 405
    assert resp.headers["Allow"] == "GET, HEAD"
    assert resp.headers["Content-Type"] == "application/xml"
    fields = error_fields(await resp.read())
    assert fields["Code"] == "MethodNotAllowed"
    assert fields["Message"] == "The specified method is not allowed against this resource."
    assert fields["Method"] == method
    assert fields["ResourceType"] == "OBJECT"
    root = await client.request(method, "/")
    assert error_fields(await root.read())["ResourceType"] == "BUCKET"


async def test_the_file_is_untouched_by_a_put(client: Client, site: Path) -> None:
    await client.put("/index.html", data=b"changed")
    await client.delete("/index.html")
    assert (site / "index.html").read_bytes() == HELLO


# --- the bucket root ----------------------------------------------------------------------------


async def test_the_root_without_list_bucket_is_403(client: Client) -> None:
    resp = await client.get("/")
    assert resp.status == 403
    assert error_fields(await resp.read())["Code"] == "AccessDenied"
    assert (await client.head("/")).status == 403


def listed(body: bytes) -> tuple[dict[str, str], list[dict[str, str]], list[str]]:
    root = ET.fromstring(body)
    assert root.tag == f"{S3_NS}ListBucketResult"
    scalars = {c.tag.removeprefix(S3_NS): c.text or "" for c in root if len(c) == 0}
    contents = [
        {c.tag.removeprefix(S3_NS): c.text or "" for c in item}
        for item in root.findall(f"{S3_NS}Contents")
    ]
    prefixes = [p.text or "" for p in root.findall(f"{S3_NS}CommonPrefixes/{S3_NS}Prefix")]
    return scalars, contents, prefixes


async def test_the_root_with_list_bucket_lists_the_objects(
    listing_client: Client, site: Path
) -> None:
    resp = await listing_client.get("/")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/xml"
    raw_body = await resp.read()
    assert b"<ETag>&quot;" in raw_body
    scalars, contents, prefixes = listed(raw_body)
    assert scalars["Name"] == "b"
    assert scalars["IsTruncated"] == "false"
    assert scalars["MaxKeys"] == "1000"
    keys = [c["Key"] for c in contents]
    # UTF-8 binary order; symlinks leaving the directory are not listed, those inside are.
    assert keys == [
        "Upper.txt",
        "a b.txt",
        "alias.html",
        "c++.html",
        "dir/a.json",
        "dir/sub/deep.txt",
        "empty.bin",
        "index.html",
        "style.css",
    ]
    index = contents[keys.index("index.html")]
    assert index["ETag"] == HELLO_ETAG
    assert index["Size"] == "11"
    assert index["StorageClass"] == "STANDARD"
    mtime = int((site / "index.html").stat().st_mtime)
    assert index["LastModified"] == time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(mtime))
    assert prefixes == []
    assert (await listing_client.head("/")).status == 200


async def test_listing_with_prefix_delimiter_and_pages(listing_client: Client) -> None:
    scalars, contents, prefixes = listed(await (await listing_client.get("/?delimiter=/")).read())
    assert prefixes == ["dir/"]
    assert "dir/a.json" not in [c["Key"] for c in contents]
    _, contents, prefixes = listed(
        await (await listing_client.get("/?prefix=dir/&delimiter=/")).read()
    )
    assert [c["Key"] for c in contents] == ["dir/a.json"]
    assert prefixes == ["dir/sub/"]

    scalars, contents, _ = listed(await (await listing_client.get("/?max-keys=2")).read())
    assert scalars["IsTruncated"] == "true"
    assert [c["Key"] for c in contents] == ["Upper.txt", "a b.txt"]
    scalars, contents, _ = listed(
        await (await listing_client.get("/?max-keys=2&marker=a%20b.txt")).read()
    )
    assert [c["Key"] for c in contents] == ["alias.html", "c++.html"]

    seen: list[str] = []
    query = "/?list-type=2&max-keys=4"
    while True:
        scalars, contents, _ = listed(await (await listing_client.get(query)).read())
        seen += [c["Key"] for c in contents]
        assert scalars["KeyCount"] == str(len(contents))
        if scalars["IsTruncated"] == "false":
            break
        query = f"/?list-type=2&max-keys=4&continuation-token={scalars['NextContinuationToken']}"
    assert len(seen) == 9
    assert seen == sorted(seen, key=lambda k: k.encode())


# --- lifecycle --------------------------------------------------------------------------------


async def test_start_serves_on_loopback_and_stop_closes(site: Path) -> None:
    origin = S3DirectoryOrigin(site)
    url = await origin.start()
    assert url.startswith("http://127.0.0.1:")
    assert origin.url == url
    status, headers, body = await raw(url, "/index.html")
    assert (status, body) == (200, HELLO)
    assert headers["etag"] == HELLO_ETAG
    await origin.stop()
    assert origin.url is None
    with pytest.raises(ConnectionRefusedError):
        await raw(url, "/index.html")
    await origin.stop()  # twice is harmless


async def test_start_refuses_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        await S3DirectoryOrigin(tmp_path / "nope").start()


def test_the_bucket_name_defaults_to_the_directory_name(site: Path) -> None:
    assert S3DirectoryOrigin(site).bucket == "site"
    assert S3DirectoryOrigin(site, bucket="assets").bucket == "assets"
