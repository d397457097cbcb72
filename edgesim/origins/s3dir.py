"""A directory served as Amazon S3's REST API serves a bucket's objects to CloudFront.

``S3DirectoryOrigin(directory)`` starts a small aiohttp server on loopback that answers
GetObject and HeadObject for the files under ``directory`` (the object key is the URL path,
decoded, without its leading ``/``), so the edge reaches a directory-mapped S3 origin like any
other HTTP origin. It is read-only: PUT, DELETE and every other method are answered 405 (writes
through CloudFront to S3 are not emulated). The default root object is CloudFront's business
and is handled by the edge, not here.

Each behaviour cites the evidence it follows (AWS documentation first, field reports where the
documentation is silent). docs/s3-origins.md lists what is emulated and what is not.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import hashlib
import mimetypes
import os
import re
import secrets
import stat
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final
from urllib.parse import unquote_to_bytes
from xml.sax.saxutils import escape

from aiohttp import web

__all__ = [
    "CHUNK_SIZE",
    "DEFAULT_CONTENT_TYPE",
    "ByteRange",
    "RangeNotSatisfiable",
    "S3DirectoryOrigin",
    "content_type_for",
    "key_from_raw_path",
    "parse_range",
]

# Bodies are streamed in chunks of this size (os.pread on an open descriptor): a large object
# is never read into memory whole.
CHUNK_SIZE: Final = 256 * 1024
_HASH_CHUNK: Final = 1024 * 1024

# S3's own default when an object was stored without a Content-Type: PutObject's Content-Type
# "Default: binary/octet-stream" (S3 API reference, RESTObjectPUT, as quoted by the AWS SDK for
# Java maintainers in aws/aws-sdk-java#1082 and #1143, and by localstack/localstack#589).
DEFAULT_CONTENT_TYPE: Final = "binary/octet-stream"

# Amazon S3 error responses (S3 API reference, "Error responses"): an XML document with
# Code, Message, operation-specific elements, RequestId and HostId, sent as application/xml.
_XML_DECLARATION: Final = '<?xml version="1.0" encoding="UTF-8"?>\n'
_S3_NAMESPACE: Final = "http://s3.amazonaws.com/doc/2006-03-01/"

_QUOT: Final = {'"': "&quot;"}  # S3 listings write an ETag's quotes as &quot;
_RANGE_RE: Final = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


# --- keys -------------------------------------------------------------------------------------


def key_from_raw_path(raw_path: str) -> str | None:
    """The object key a request path names: the path without its query and its leading ``/``,
    percent-decoded as UTF-8. ``None`` when the bytes are not UTF-8 (no key can match).

    S3 takes a ``+`` in the path of a REST request as a space (only ``%2B`` is a plus): field
    reports s3tools/s3cmd#554, dnbert/prm#46, imgix/js-core#88. ``%2F`` decodes to ``/`` as in S3,
    where the key is the decoded path.
    """
    path = raw_path.split("?", 1)[0]
    try:
        key = unquote_to_bytes(path.replace("+", " ")).decode("utf-8")
    except UnicodeDecodeError:
        return None
    return key[1:] if key.startswith("/") else key


def content_type_for(key: str) -> str:
    """The Content-Type an object uploaded from this file would carry: the AWS CLI's
    ``aws s3 cp/sync`` sets ``mimetypes.guess_type(filename)[0]`` (aws/aws-cli,
    awscli/customizations/s3/utils.py, ``guess_content_type``) and S3 answers
    ``binary/octet-stream`` for an object stored without one."""
    guessed, _encoding = mimetypes.guess_type(key.rsplit("/", 1)[-1], strict=True)
    return guessed or DEFAULT_CONTENT_TYPE


def _fs_is_case_insensitive(root: str) -> bool:
    swapped = root.swapcase()
    if swapped == root:
        return False
    try:
        return os.path.samefile(root, swapped)
    except OSError:
        return False


def _exact_case(root: str, segments: list[str]) -> bool:
    """Whether every segment is spelled in the directory exactly as in the key (S3 keys are
    case-sensitive; a case-insensitive file system would otherwise open ``Index.html`` for
    ``index.html``)."""
    current = root
    for segment in segments:
        try:
            names = os.listdir(current)
        except OSError:
            return False
        if segment not in names:
            return False
        current = os.path.join(current, segment)
    return True


# --- ranges -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


class RangeNotSatisfiable(Exception):
    """The Range names no byte of the object: S3 answers 416 ``InvalidRange``."""


def parse_range(header: str, size: int) -> ByteRange | None:
    """The single byte range ``header`` asks of an object of ``size`` bytes, ``None`` when the
    whole object is to be sent, or :class:`RangeNotSatisfiable`.

    - One range ``a-b``, ``a-`` or ``-n`` (RFC 9110 §14.1.1, which GetObject's Range refers to);
      an end past the object is cut to its last byte.
    - Several ranges: "Amazon S3 doesn't support retrieving multiple ranges of data per GET
      request" (GetObject, Range) and it answers 200 with the whole object, no Content-Range
      (field captures in awslabs/aws-c-s3#257 and basho/riak_cs#304).
    - A malformed header (another unit, ``b < a``, no digits) is ignored and the whole object
      sent, as RFC 9110 lets a server do (S3 does: scality/cloudserver#2194).
    - A first byte at or past the end, ``-0``, or any range of an empty object is unsatisfiable
      (S3's 416 ``InvalidRange``: scality/cloudserver#400, minio/minio#6557 on empty objects).
    """
    match = _RANGE_RE.match(header)
    if match is None:
        return None
    first, last = match.group(1), match.group(2)
    if first:
        start = int(first)
        if last:
            end = int(last)
            if end < start:
                return None
        else:
            end = size - 1
        if start >= size:
            raise RangeNotSatisfiable
        return ByteRange(start, min(end, size - 1))
    if not last:
        return None
    suffix = int(last)
    if suffix == 0 or size == 0:
        raise RangeNotSatisfiable
    return ByteRange(max(0, size - suffix), size - 1)


# --- conditional requests ---------------------------------------------------------------------


def _http_date(timestamp: int) -> str:
    return email.utils.formatdate(timestamp, usegmt=True)


def _parse_http_date(value: str | None) -> int | None:
    """An HTTP-date as whole seconds since the epoch; ``None`` when absent or not a date (an
    invalid date is ignored, RFC 9110 §13.1.3/§13.1.4)."""
    if value is None:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def _etag_listed(header: str, etag: str, *, weak: bool) -> bool:
    """Whether ``etag`` (quoted) is in the header's list of entity tags, or the list is ``*``.
    An unquoted tag is taken as quoted, as S3 takes the values SDKs pass through unchanged."""
    for raw in header.split(","):
        candidate = raw.strip()
        if candidate == "*":
            return True
        if candidate.startswith("W/"):
            if not weak:
                continue
            candidate = candidate[2:]
        if not candidate.startswith('"'):
            candidate = f'"{candidate}"'
        if candidate == etag:
            return True
    return False


def _precondition(headers: Mapping[str, str], etag: str, modified: int) -> int | str | None:
    """What the conditional headers decide: ``304``, the failed header's name (412), or
    ``None`` (go on).

    RFC 9110 §13.2.2's order, which GetObject/HeadObject document for the mixed cases:
    "If both of the If-Match and If-Unmodified-Since headers are present ... If-Match condition
    evaluates to true, and; If-Unmodified-Since condition evaluates to false; then, S3 returns
    200 OK"; "If both of the If-None-Match and If-Modified-Since headers are present ...
    If-None-Match condition evaluates to false, and; If-Modified-Since condition evaluates to
    true; then, S3 returns 304 Not Modified". If-Match compares strongly, If-None-Match weakly.
    Dates are compared at S3's one-second Last-Modified resolution.
    """
    if_match = headers.get("If-Match")
    if if_match is not None:
        if not _etag_listed(if_match, etag, weak=False):
            return "If-Match"
    else:
        unmodified_since = _parse_http_date(headers.get("If-Unmodified-Since"))
        if unmodified_since is not None and modified > unmodified_since:
            return "If-Unmodified-Since"
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        if _etag_listed(if_none_match, etag, weak=True):
            return 304
    else:
        modified_since = _parse_http_date(headers.get("If-Modified-Since"))
        if modified_since is not None and modified <= modified_since:
            return 304
    return None


def _if_range_holds(value: str, etag: str, modified: int) -> bool:
    """If-Range (RFC 9110 §13.1.5): the range is served only while the validator still names
    this representation (an entity tag compared strongly, or exactly the Last-Modified date);
    otherwise the whole object. S3 honours it (field report, aws/aws-sdk-kotlin#1645)."""
    value = value.strip()
    if value.startswith(('"', "W/")):
        return not value.startswith("W/") and value == etag
    return _parse_http_date(value) == modified


# --- the origin -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Opened:
    fd: int
    size: int
    modified: int  # whole seconds: S3's Last-Modified has no sub-second part
    identity: tuple[int, int, int, int, int]  # what the ETag cache is keyed on


class S3DirectoryOrigin:
    """Serves ``directory`` as S3's REST API serves a bucket's objects (GetObject/HeadObject).

    ``list_bucket`` says whether the principal CloudFront signs as (OAC) also holds
    ``s3:ListBucket``: without it, S3 answers a missing key 403 ``AccessDenied``; with it,
    404 ``NoSuchKey`` (GetObject, "Permissions": "If you have the s3:ListBucket permission on
    the bucket, Amazon S3 will return an HTTP status code 404 ("no such key") error. If you
    don't have the s3:ListBucket permission, Amazon S3 will return an HTTP status code 403
    ("access denied") error"; the usual OAC bucket policy grants only s3:GetObject, CloudFront
    "Restricting access to an Amazon S3 origin"). ``bucket`` names the bucket in listings
    (default: the directory's name).

    ``await start()`` returns the base URL (``http://127.0.0.1:PORT``); ``await stop()`` ends it.
    """

    def __init__(self, directory: Path, *, list_bucket: bool = False, bucket: str = "") -> None:
        self.directory = Path(directory)
        self.list_bucket = list_bucket
        self.bucket = bucket or self.directory.name
        self._root = os.path.realpath(self.directory)
        self._case_insensitive = _fs_is_case_insensitive(self._root)
        self._etags: OrderedDict[tuple[int, int, int, int, int], str] = OrderedDict()
        self._etag_cache_size = 4096
        self._runner: web.AppRunner | None = None
        self.url: str | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host`` (a free port unless ``port`` is given); the base URL."""
        if not Path(self._root).is_dir():  # noqa: ASYNC240 (once, at start-up)
            raise NotADirectoryError(f"S3 origin directory {self.directory} is not a directory")
        runner = web.AppRunner(self.make_app(), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        bound = runner.addresses[0]
        self.url = f"http://{host}:{bound[1]}"
        return self.url

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        self.url = None
        if runner is not None:
            await runner.cleanup()

    # -- requests -------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        ids = _request_ids()
        key = key_from_raw_path(request.raw_path)
        if request.method not in ("GET", "HEAD"):
            # Read-only: S3's answer to a method a resource does not take (MethodNotAllowed with
            # Method and ResourceType, field captures in versity/versitygw#1810 and
            # mhart/aws4fetch#14). PUT/DELETE through CloudFront to S3 are not emulated.
            return _error(
                ids,
                405,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
                [("Method", request.method), ("ResourceType", "BUCKET" if key == "" else "OBJECT")],
                extra_headers={"Allow": "GET, HEAD"},
            )
        if key == "":
            return await self._bucket_root(request, ids)
        if key is None:  # not UTF-8: no key can match
            return self._missing(ids, request.raw_path.split("?", 1)[0][1:])
        loop = asyncio.get_running_loop()
        opened = await loop.run_in_executor(None, self._open, key)
        if opened is None:
            return self._missing(ids, key)
        try:
            return await self._serve(request, ids, key, opened)
        finally:
            os.close(opened.fd)

    def _missing(self, ids: tuple[str, str], key: str) -> web.Response:
        if self.list_bucket:
            # "NoSuchKey ... The specified key does not exist." with the Key (field captures:
            # frostealth/yii2-aws-s3#25; S3 API reference, "Error responses").
            message = "The specified key does not exist."
            return _error(ids, 404, "NoSuchKey", message, [("Key", key)])
        # Without s3:ListBucket: 403 AccessDenied, "Access Denied", no Key (field captures behind
        # CloudFront: glowfic-constellation/glowfic#893, awslabs/aws-well-architected-labs#214).
        return _error(ids, 403, "AccessDenied", "Access Denied", [])

    def _open(self, key: str) -> _Opened | None:
        """The regular file ``key`` names under the root, opened; ``None`` when S3 would hold no
        such object: a key ending in ``/`` (S3 has no directories, and the REST endpoint has no
        index document), an empty, ``.`` or ``..`` segment (no file can be named so, so ``..``
        never leaves the root), a directory or special file, a symlink resolving outside the
        root, a wrong-case spelling."""
        if "\x00" in key or key.endswith("/"):
            return None
        segments = key.split("/")
        if any(segment in ("", ".", "..") for segment in segments):
            return None
        try:
            # Every step resolves inside the root: a symlink leading out is refused even when a
            # later one would lead back (the listing skips such symlinks too).
            real = self._root
            for depth in range(1, len(segments) + 1):
                real = os.path.realpath(os.path.join(self._root, *segments[:depth]))
                if os.path.commonpath([self._root, real]) != self._root or real == self._root:
                    return None
            if self._case_insensitive and not _exact_case(self._root, segments):
                return None
            fd = os.open(real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except (OSError, ValueError):
            return None
        try:
            info = os.fstat(fd)
        except OSError:
            os.close(fd)
            return None
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            return None
        identity = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
        return _Opened(fd, info.st_size, int(info.st_mtime), identity)

    async def _etag(self, opened: _Opened) -> str:
        """The object's ETag: the quoted MD5 hex digest of its bytes, as S3 gives for an object
        uploaded in a single PUT without SSE-KMS/SSE-C (PutObject's ETag: "for objects where
        the ETag is the MD5 digest of the object"; multipart uploads differ). Hashed in chunks
        off the event loop, then remembered while the file is unchanged."""
        cached = self._etags.get(opened.identity)
        if cached is not None:
            self._etags.move_to_end(opened.identity)
            return cached
        loop = asyncio.get_running_loop()
        etag = await loop.run_in_executor(None, _md5_etag, opened.fd, opened.size)
        self._etags[opened.identity] = etag
        while len(self._etags) > self._etag_cache_size:
            self._etags.popitem(last=False)
        return etag

    async def _serve(
        self, request: web.Request, ids: tuple[str, str], key: str, opened: _Opened
    ) -> web.StreamResponse:
        etag = await self._etag(opened)
        last_modified = _http_date(opened.modified)
        decision = _precondition(request.headers, etag, opened.modified)
        if decision == 304:
            headers = {**_id_headers(ids), "ETag": etag, "Last-Modified": last_modified}
            return web.Response(status=304, headers=headers)
        if isinstance(decision, str):
            # "PreconditionFailed ... At least one of the pre-conditions you specified did not
            # hold" naming the Condition (field capture, versity/versitygw#2044).
            return _error(
                ids,
                412,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
                [("Condition", decision)],
            )

        headers = {
            **_id_headers(ids),
            "Last-Modified": last_modified,
            "ETag": etag,
            # Every object uploaded since 5 January 2023 is encrypted with SSE-S3 and S3 says so
            # on GET/HEAD (S3 User Guide, "Using server-side encryption with Amazon S3 managed
            # keys"; HeadObject capture in versity/versitygw#1849).
            "x-amz-server-side-encryption": "AES256",
            "Accept-Ranges": "bytes",
            "Content-Type": content_type_for(key),
        }
        # HEAD takes a Range too: "If the Range is satisfiable, only the ContentLength is
        # affected in the response. If the Range is not satisfiable, S3 returns a 416"
        # (HeadObject, Range); it is answered as GET answers it (206, Content-Range), bodiless.
        status, byte_range = 200, None
        range_header = request.headers.get("Range")
        if_range = request.headers.get("If-Range")
        if range_header is not None and (
            if_range is None or _if_range_holds(if_range, etag, opened.modified)
        ):
            try:
                byte_range = parse_range(range_header, opened.size)
            except RangeNotSatisfiable:
                # InvalidRange with RangeRequested and ActualObjectSize (field captures:
                # durch/rust-s3#341, versity/versitygw#2069).
                return _error(
                    ids,
                    416,
                    "InvalidRange",
                    "The requested range is not satisfiable",
                    [("RangeRequested", range_header), ("ActualObjectSize", str(opened.size))],
                )
        if byte_range is None:
            byte_range = ByteRange(0, opened.size - 1)
        else:
            status = 206
            headers["Content-Range"] = byte_range.content_range(opened.size)

        response = web.StreamResponse(status=status, headers=headers)
        response.content_length = byte_range.length
        await response.prepare(request)
        if request.method == "GET":
            loop = asyncio.get_running_loop()
            for offset, size in _chunks(byte_range):
                chunk = await loop.run_in_executor(None, os.pread, opened.fd, size, offset)
                if not chunk:  # the file shrank under us: the body ends short, as a reset would
                    break
                await response.write(chunk)
        await response.write_eof()
        return response

    # -- the bucket itself (the empty key) ------------------------------------------------------

    async def _bucket_root(self, request: web.Request, ids: tuple[str, str]) -> web.StreamResponse:
        """``/`` is no object: S3 answers it as ListObjects (GET) or HeadBucket (HEAD), which
        need s3:ListBucket; without it, 403 AccessDenied. (CloudFront's default root object,
        which would change the key, is applied by the edge before the request gets here.)"""
        if not self.list_bucket:
            return _error(ids, 403, "AccessDenied", "Access Denied", [])
        if request.method == "HEAD":
            return web.Response(status=200, headers={**_id_headers(ids)})
        loop = asyncio.get_running_loop()
        files = await loop.run_in_executor(None, self._all_files)
        entries: list[tuple[str, int, int, str]] = []
        query = request.query
        prefix = query.get("prefix", "")
        for key, real in files:
            if not key.startswith(prefix):
                continue
            opened = await loop.run_in_executor(None, self._open_real, real)
            if opened is None:
                continue
            try:
                etag = await self._etag(opened)
            finally:
                os.close(opened.fd)
            entries.append((key, opened.size, opened.modified, etag))
        body = _list_objects_xml(self.bucket, query, entries)
        return web.Response(
            status=200,
            body=body.encode("utf-8"),
            headers={**_id_headers(ids), "Content-Type": "application/xml"},
        )

    def _open_real(self, real: str) -> _Opened | None:
        try:
            fd = os.open(real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            return None
        try:
            info = os.fstat(fd)
        except OSError:
            os.close(fd)
            return None
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            return None
        identity = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
        return _Opened(fd, info.st_size, int(info.st_mtime), identity)

    def _all_files(self) -> list[tuple[str, str]]:
        """Every (key, real path) under the root, symlinks followed only while they stay inside
        it, in S3's listing order (UTF-8 binary order of the keys)."""
        found: list[tuple[str, str]] = []
        seen: set[str] = set()

        def walk(directory: str, prefix: str) -> Iterator[tuple[str, str]]:
            real_dir = os.path.realpath(directory)
            if real_dir in seen:
                return
            seen.add(real_dir)
            try:
                entries = list(os.scandir(directory))
            except OSError:
                return
            for entry in entries:
                real = os.path.realpath(entry.path)
                if os.path.commonpath([self._root, real]) != self._root:
                    continue
                key = prefix + entry.name
                if os.path.isdir(real):
                    yield from walk(entry.path, key + "/")
                elif os.path.isfile(real):
                    yield key, real

        found.extend(walk(self._root, ""))
        found.sort(key=lambda item: item[0].encode("utf-8", "surrogateescape"))
        return found


# --- helpers ----------------------------------------------------------------------------------


def _chunks(byte_range: ByteRange) -> Iterator[tuple[int, int]]:
    offset = byte_range.start
    end = byte_range.end + 1
    while offset < end:
        size = min(CHUNK_SIZE, end - offset)
        yield offset, size
        offset += size


def _md5_etag(fd: int, size: int) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    offset = 0
    while offset < size:
        chunk = os.pread(fd, min(_HASH_CHUNK, size - offset), offset)
        if not chunk:
            break
        digest.update(chunk)
        offset += len(chunk)
    return f'"{digest.hexdigest()}"'


def _request_ids() -> tuple[str, str]:
    """An ``x-amz-request-id`` (16 characters) and ``x-amz-id-2`` (base64), which S3 returns on
    every response (S3 User Guide, "The REST error response", "Response headers")."""
    request_id = secrets.token_hex(8).upper()
    host_id = base64.b64encode(secrets.token_bytes(57)).decode("ascii")
    return request_id, host_id


def _id_headers(ids: tuple[str, str]) -> dict[str, str]:
    return {"x-amz-request-id": ids[0], "x-amz-id-2": ids[1], "Server": "AmazonS3"}


def _error(
    ids: tuple[str, str],
    status: int,
    code: str,
    message: str,
    details: list[tuple[str, str]],
    *,
    extra_headers: Mapping[str, str] | None = None,
) -> web.Response:
    """S3's REST error response: "An XML error document as the response body",
    "Content-Type: application/xml" (S3 API reference, "Error responses"). A HEAD answer has
    no body (aws/aws-cli#666), which aiohttp sees to."""
    parts = [f"<Code>{code}</Code>", f"<Message>{escape(message)}</Message>"]
    parts.extend(f"<{name}>{escape(value)}</{name}>" for name, value in details)
    parts.append(f"<RequestId>{ids[0]}</RequestId><HostId>{ids[1]}</HostId>")
    body = _XML_DECLARATION + "<Error>" + "".join(parts) + "</Error>"
    headers = {**_id_headers(ids), "Content-Type": "application/xml", **(extra_headers or {})}
    return web.Response(status=status, body=body.encode("utf-8"), headers=headers)


def _iso8601(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _max_keys(value: str | None) -> int:
    try:
        return max(0, min(1000, int(value))) if value is not None else 1000
    except ValueError:
        return 1000


def _list_objects_xml(
    bucket: str, query: Mapping[str, str], entries: list[tuple[str, int, int, str]]
) -> str:
    """ListObjects (V1), or ListObjectsV2 with ``list-type=2``, over ``entries`` (already
    filtered by prefix and sorted): Contents then CommonPrefixes when a delimiter groups keys,
    at most ``max-keys`` (1000) of them together."""
    v2 = query.get("list-type") == "2"
    prefix = query.get("prefix", "")
    delimiter = query.get("delimiter", "")
    max_keys = _max_keys(query.get("max-keys"))
    if v2:
        token = query.get("continuation-token")
        after = _decode_token(token) if token else query.get("start-after", "")
    else:
        after = query.get("marker", "")

    contents: list[tuple[str, int, int, str]] = []
    common: list[str] = []
    truncated = False
    last = ""
    for key, size, modified, etag in entries:
        if key <= after and after:
            continue
        if delimiter:
            cut = key.find(delimiter, len(prefix))
            if cut != -1:
                group = key[: cut + len(delimiter)]
                if common and common[-1] == group:
                    continue
                if group <= after:
                    continue
                if len(contents) + len(common) >= max_keys:
                    truncated = True
                    break
                common.append(group)
                last = group
                continue
        if len(contents) + len(common) >= max_keys:
            truncated = True
            break
        contents.append((key, size, modified, etag))
        last = key

    out = [_XML_DECLARATION, f'<ListBucketResult xmlns="{_S3_NAMESPACE}">']
    out.append(f"<Name>{escape(bucket)}</Name><Prefix>{escape(prefix)}</Prefix>")
    if v2:
        if query.get("continuation-token"):
            out.append(
                f"<ContinuationToken>{escape(query['continuation-token'])}</ContinuationToken>"
            )
        if query.get("start-after"):
            out.append(f"<StartAfter>{escape(query['start-after'])}</StartAfter>")
        out.append(f"<KeyCount>{len(contents) + len(common)}</KeyCount>")
    else:
        out.append(f"<Marker>{escape(after)}</Marker>")
    out.append(f"<MaxKeys>{max_keys}</MaxKeys>")
    if delimiter:
        out.append(f"<Delimiter>{escape(delimiter)}</Delimiter>")
    out.append(f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>")
    if truncated and v2:
        out.append(f"<NextContinuationToken>{_encode_token(last)}</NextContinuationToken>")
    elif truncated and delimiter:
        out.append(f"<NextMarker>{escape(last)}</NextMarker>")
    for key, size, modified, etag in contents:
        out.append(
            f"<Contents><Key>{escape(key)}</Key><LastModified>{_iso8601(modified)}</LastModified>"
            f"<ETag>{escape(etag, _QUOT)}</ETag><Size>{size}</Size>"
            "<StorageClass>STANDARD</StorageClass></Contents>"
        )
    for group in common:
        out.append(f"<CommonPrefixes><Prefix>{escape(group)}</Prefix></CommonPrefixes>")
    out.append("</ListBucketResult>")
    return "".join(out)


def _encode_token(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode("utf-8")).decode("ascii")


def _decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (ValueError, UnicodeError):
        return ""
