"""A directory served as Amazon S3's REST API serves a bucket's objects to CloudFront.

``S3DirectoryOrigin(directory)`` starts a small aiohttp server on loopback that answers
GetObject and HeadObject for the files under ``directory`` (the object key is the URL path,
decoded, without its leading ``/``), so the edge reaches a directory-mapped S3 origin like any
other HTTP origin. It is read-only: PUT, DELETE and every other method are answered 405 (writes
through CloudFront to S3 are not emulated). The default root object is CloudFront's business
and is handled by the edge, not here.

Each behaviour cites the evidence it follows (AWS documentation first, field reports where the
documentation is silent). docs/s3-origins.md lists what is emulated and what is not.

The origin is here; its parts: s3keys (keys, Content-Types, case checks), s3ranges (Range),
s3conditional (conditional requests), s3objects (opened files, MD5 ETags), s3xml (request
ids, error documents, ListObjects XML).
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

from aiohttp import web

from edgesim.origins.s3auth import S3RequestAuth
from edgesim.origins.s3conditional import http_date, if_range_holds, precondition
from edgesim.origins.s3keys import (
    DEFAULT_CONTENT_TYPE,
    content_type_for,
    exact_case,
    fs_is_case_insensitive,
    key_from_raw_path,
)
from edgesim.origins.s3objects import Opened, md5_etag
from edgesim.origins.s3ranges import CHUNK_SIZE, ByteRange, RangeNotSatisfiable, chunks, parse_range
from edgesim.origins.s3xml import error, id_headers, list_objects_xml, request_ids

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


# --- the origin -------------------------------------------------------------------------------


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

    ``auth`` checks each request's SigV4/SigV4A signature first, as S3 does for a private
    bucket (:mod:`edgesim.origins.s3auth`).

    ``await start()`` returns the base URL (``http://127.0.0.1:PORT``); ``await stop()`` ends it.
    """

    def __init__(
        self,
        directory: Path,
        *,
        list_bucket: bool = False,
        bucket: str = "",
        auth: S3RequestAuth | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.auth = auth  # None: every request is let in (no credentials configured)
        self.list_bucket = list_bucket
        self.bucket = bucket or self.directory.name
        self._root = os.path.realpath(self.directory)
        self._case_insensitive = fs_is_case_insensitive(self._root)
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
        ids = request_ids()
        if self.auth is not None:
            # S3 authenticates a request before it looks at the method or the key.
            path, _, query = request.raw_path.partition("?")
            failure = self.auth.check(request.method, path, query, list(request.headers.items()))
            if failure is not None:
                return error(ids, failure.status, failure.code, failure.message, failure.fields)
        key = key_from_raw_path(request.raw_path)
        if request.method not in ("GET", "HEAD"):
            # Read-only: S3's answer to a method a resource does not take (MethodNotAllowed with
            # Method and ResourceType, field captures in versity/versitygw#1810 and
            # mhart/aws4fetch#14). PUT/DELETE through CloudFront to S3 are not emulated.
            return error(
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
            return error(ids, 404, "NoSuchKey", message, [("Key", key)])
        # Without s3:ListBucket: 403 AccessDenied, "Access Denied", no Key (field captures behind
        # CloudFront: glowfic-constellation/glowfic#893, awslabs/aws-well-architected-labs#214).
        return error(ids, 403, "AccessDenied", "Access Denied", [])

    def _open(self, key: str) -> Opened | None:
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
            if self._case_insensitive and not exact_case(self._root, segments):
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
        return Opened(fd, info.st_size, int(info.st_mtime), identity)

    async def _etag(self, opened: Opened) -> str:
        """The object's ETag: the quoted MD5 hex digest of its bytes, as S3 gives for an object
        uploaded in a single PUT without SSE-KMS/SSE-C (PutObject's ETag: "for objects where
        the ETag is the MD5 digest of the object"; multipart uploads differ). Hashed in chunks
        off the event loop, then remembered while the file is unchanged."""
        cached = self._etags.get(opened.identity)
        if cached is not None:
            self._etags.move_to_end(opened.identity)
            return cached
        loop = asyncio.get_running_loop()
        etag = await loop.run_in_executor(None, md5_etag, opened.fd, opened.size)
        self._etags[opened.identity] = etag
        while len(self._etags) > self._etag_cache_size:
            self._etags.popitem(last=False)
        return etag

    async def _serve(
        self, request: web.Request, ids: tuple[str, str], key: str, opened: Opened
    ) -> web.StreamResponse:
        etag = await self._etag(opened)
        last_modified = http_date(opened.modified)
        decision = precondition(request.headers, etag, opened.modified)
        if decision == 304:
            headers = {**id_headers(ids), "ETag": etag, "Last-Modified": last_modified}
            return web.Response(status=304, headers=headers)
        if isinstance(decision, str):
            # "PreconditionFailed ... At least one of the pre-conditions you specified did not
            # hold" naming the Condition (field capture, versity/versitygw#2044).
            return error(
                ids,
                412,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
                [("Condition", decision)],
            )

        headers = {
            **id_headers(ids),
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
            if_range is None or if_range_holds(if_range, etag, opened.modified)
        ):
            try:
                byte_range = parse_range(range_header, opened.size)
            except RangeNotSatisfiable:
                # InvalidRange with RangeRequested and ActualObjectSize (field captures:
                # durch/rust-s3#341, versity/versitygw#2069).
                return error(
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
            for offset, size in chunks(byte_range):
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
            return error(ids, 403, "AccessDenied", "Access Denied", [])
        if request.method == "HEAD":
            return web.Response(status=200, headers={**id_headers(ids)})
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
        body = list_objects_xml(self.bucket, query, entries)
        return web.Response(
            status=200,
            body=body.encode("utf-8"),
            headers={**id_headers(ids), "Content-Type": "application/xml"},
        )

    def _open_real(self, real: str) -> Opened | None:
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
        return Opened(fd, info.st_size, int(info.st_mtime), identity)

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
