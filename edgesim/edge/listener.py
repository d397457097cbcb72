"""The viewer listener: aiohttp's HTTP/1.1 server with CloudFront's request limits instead of
aiohttp's defaults, and requests the parser cannot read answered as the edge answers them.

aiohttp 3.x offers these parser limits on the server (``RequestHandler``): ``max_line_size``
(the C parser applies it to the request target, the Python one to the whole request line),
``max_field_size`` (a header's name plus value) and ``max_headers`` (a count, 128 by default),
but no limit on the total. CloudFront has the opposite shape: 20,480 bytes for the request line
plus headers, 8,192 for the URL, and no documented header count (see
``edgesim.edge.stages.viewer``). So the parser limits are set where no request within
CloudFront's total can reach them, and the total is checked by the viewer stage; a request the
parser refuses for length is over the total anyway, and is answered 413 like it.

Timeouts: aiohttp's ``keepalive_timeout`` (default 3,630 s) closes a connection that is idle
between requests. Its timer starts when the connection opens and again after each response, and
incoming bytes do not restart it, so it is also the deadline for a complete request head (a
client sending headers slowly is cut off when it expires). aiohttp has no separate header-read
timeout; edgesim does not add one. CloudFront documents neither value for viewer connections
(only the origin keep-alive timeout, 5 s by default), so the value is edgesim's choice.

HTTP versions: the port speaks HTTP/1.x in text. CloudFront supports HTTP/1.0, 1.1 and 2 for
viewers, HTTP/2 only over TLS (AWS knowledge center, "Which protocols can I use with my CloudFront
distribution?"), so a request line naming another version (``HTTP/2.0``, ``HTTP/3.0``, or none:
HTTP/0.9) is refused like a request the parser cannot read (400, connection closed) instead of
being answered with a status line in that version. A higher HTTP/1 minor version (``HTTP/1.2``)
is refused the same way by aiohttp's C parser (llhttp, the one serve runs with); only under the
pure-Python parser (``AIOHTTP_NO_EXTENSIONS=1``) does it reach the listener, which serves it as
HTTP/1.1 (RFC 9110 §2.5).

Everything a client causes (a malformed request, a connection that goes away) ends as one log
line through the request log, never as a traceback from ``aiohttp.server``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.http import HttpVersion10, HttpVersion11, RawRequestMessage
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from aiohttp.streams import StreamReader

from edgesim.edge.delivery import ViewerAddress, ViewerRequest, viewer_address
from edgesim.edge.stages.viewer import MAX_REQUEST_BYTES

# Idle keep-alive connections, and the deadline for a request's head, in seconds (edgesim's
# choice: long enough for a browser's keep-alive between page loads, short enough that a stalled
# or slow-header client does not hold a connection for an hour).
KEEPALIVE_TIMEOUT_S = 60.0

# Parser limits at CloudFront's total: a request line or one header can be as long as the whole
# head may be; and the smallest header line ("a:" plus CRLF) is 4 bytes, so no request within the
# total has more headers than this.
MAX_LINE_SIZE = MAX_REQUEST_BYTES
MAX_FIELD_SIZE = MAX_REQUEST_BYTES
MAX_HEADERS = MAX_REQUEST_BYTES // 4

# The listener tells the pipeline about a request it could not read: whether it was refused for
# its length, and what the parser said. The pipeline answers (and logs) it.
Refuse = Callable[[web.BaseRequest, bool, str], web.StreamResponse]
Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


class ViewerProtocol(web.RequestHandler):
    """aiohttp's connection handler with the parser's refusals answered by the pipeline."""

    def __init__(self, manager: web.Server, *, refuse: Refuse, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._refuse = refuse
        self._viewer: ViewerAddress | None = None

    def viewer(self) -> ViewerAddress:
        """The viewer's address and scheme: one per connection, worked out for its first
        request."""
        if self._viewer is None:
            self._viewer = viewer_address(self.peername, bool(self.ssl_context))
        return self._viewer

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if isinstance(exc, HttpProcessingError) and request.writer.output_size == 0:
            # The parser refused the request (the handler never ran): malformed, or too long.
            return self._refuse(request, too_long(exc), one_line(exc.message or str(exc)))
        if isinstance(exc, ConnectionError):
            # The viewer went away under a handler: nothing can be answered, nothing to log.
            self.force_close()
            if request.transport is not None:
                request.transport.close()
            response = web.Response(status=status)
            response.force_close()
            return response
        return super().handle_error(request, status, exc, message)


def too_long(exc: HttpProcessingError) -> bool:
    """Whether the parser refused the request for a length limit (which, with the limits above,
    only a request over CloudFront's total reaches)."""
    return isinstance(exc, LineTooLong) or "Too many headers" in (exc.message or "")


def one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


class _UnsupportedVersion(web.BaseRequest):
    """A request whose version the port does not speak. Its message says HTTP/1.1, so the
    refusal's status line is one the viewer can read; the version it came with is kept here.
    (A class of its own: telling such a request apart costs one type check per request.)"""

    ATTRS = web.BaseRequest.ATTRS | frozenset({"unsupported"})
    unsupported = ""


class ViewerServer(web.Server):
    """``web.Server`` (aiohttp's low-level server) whose connections use :class:`ViewerProtocol`
    and whose requests are HTTP/1.0 or HTTP/1.1 (others are refused)."""

    def __init__(self, handler: Handler, *, refuse: Refuse, **kwargs: Any) -> None:
        super().__init__(self._checked, request_factory=self._viewer_request, **kwargs)
        self._handler = handler
        self._refuse = refuse
        self._protocol_kwargs = kwargs
        self._running_loop = asyncio.get_running_loop()

    def _viewer_request(
        self,
        message: RawRequestMessage,
        payload: StreamReader,
        protocol: web.RequestHandler,
        writer: AbstractStreamWriter,
        task: asyncio.Task[None],
    ) -> web.BaseRequest:
        version = message.version
        # The parser hands out its own HttpVersion11 / HttpVersion10 for these two versions.
        if not (version is HttpVersion11 or version is HttpVersion10 or version in _SPOKEN):
            if version.major == 1 and version.minor > 1:
                message = message._replace(version=HttpVersion11)  # RFC 9110 §2.5
            else:
                message = message._replace(version=HttpVersion11, should_close=True)
                refused = _UnsupportedVersion(
                    message, payload, protocol, writer, task, self._running_loop
                )
                refused.unsupported = "HTTP/0.9 (no version)" if version < HttpVersion10 else (
                    f"HTTP/{version.major}.{version.minor}"
                )  # fmt: skip
                return refused
        request = ViewerRequest(message, payload, protocol, writer, task, self._running_loop)
        request.raw_message = message
        request.viewer = (
            protocol.viewer()
            if isinstance(protocol, ViewerProtocol)
            else viewer_address(protocol.peername, bool(protocol.ssl_context))
        )
        return request

    def _checked(self, request: web.BaseRequest) -> Awaitable[web.StreamResponse]:
        # Not a coroutine itself: the handler's coroutine is handed to aiohttp as it is (one
        # coroutine less per request).
        if type(request) is _UnsupportedVersion:
            return _answered(
                self._refuse(
                    request,
                    False,
                    f"{request.unsupported} in the request line: this port speaks HTTP/1.0 and "
                    "HTTP/1.1 (CloudFront takes HTTP/2 only over TLS; edgesim does not emulate "
                    "it)",
                )
            )
        return self._handler(request)

    def __call__(self) -> web.RequestHandler:
        return ViewerProtocol(
            self, refuse=self._refuse, loop=self._running_loop, **self._protocol_kwargs
        )


_SPOKEN = frozenset({HttpVersion10, HttpVersion11})


async def _answered(response: web.StreamResponse) -> web.StreamResponse:
    return response


def viewer_runner(
    handler: Handler,
    refuse: Refuse,
    *,
    keepalive_timeout: float = KEEPALIVE_TIMEOUT_S,
    shutdown_timeout: float = 1.0,
) -> web.ServerRunner:
    """A runner for the viewer port(s): CloudFront's limits, edgesim's timeouts, no access log
    from aiohttp (the request log is edgesim's)."""
    server = ViewerServer(
        handler,
        refuse=refuse,
        access_log=None,
        keepalive_timeout=keepalive_timeout,
        max_line_size=MAX_LINE_SIZE,
        max_field_size=MAX_FIELD_SIZE,
        max_headers=MAX_HEADERS,
    )
    return web.ServerRunner(server, shutdown_timeout=shutdown_timeout)


class QuietClientErrors(logging.Filter):
    """On ``aiohttp.server``: an error a client caused loses its traceback. A request the parser
    refused becomes one warning line; a connection that went away (a viewer leaving, or the edge
    abandoning a body it was fetching from serve's own S3 emulation) drops to debug, since the
    request log already says so. A safety net for the admin listener and the S3 emulation;
    edgesim's own bugs keep their tracebacks."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError | ConnectionError):
            detail = one_line(getattr(exc, "message", None) or str(exc)) or type(exc).__name__
            record.msg = f"{record.getMessage()}: {type(exc).__name__}: {detail}"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
            level = logging.DEBUG if isinstance(exc, ConnectionError) else logging.WARNING
            record.levelno, record.levelname = level, logging.getLevelName(level)
        return True


def quiet_client_errors(logger: logging.Logger | None = None) -> None:
    """Install :class:`QuietClientErrors` on ``aiohttp.server`` (once)."""
    logger = logger or logging.getLogger("aiohttp.server")
    if not any(isinstance(f, QuietClientErrors) for f in logger.filters):
        logger.addFilter(QuietClientErrors())
