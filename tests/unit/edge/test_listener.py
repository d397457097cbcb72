"""The viewer listener without sockets: the parser limits at CloudFront's total, the parser's
refusals handed to the pipeline, and aiohttp's logger kept free of client-caused tracebacks."""

from __future__ import annotations

import logging
import sys
from types import SimpleNamespace

import pytest
from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage, LineTooLong
from aiohttp.test_utils import make_mocked_request

from edgesim.edge import listener
from edgesim.edge.stages.viewer import MAX_REQUEST_BYTES


def test_parser_limits_cannot_refuse_a_request_within_cloudfronts_total() -> None:
    assert listener.MAX_LINE_SIZE == listener.MAX_FIELD_SIZE == MAX_REQUEST_BYTES == 20_480
    # "a:" plus CRLF is the smallest header line: no request within the total has more.
    assert MAX_REQUEST_BYTES // len(b"a:\r\n") == listener.MAX_HEADERS


def test_keepalive_default_is_sixty_seconds() -> None:
    assert listener.KEEPALIVE_TIMEOUT_S == 60.0


def test_refusals_for_length_are_told_apart() -> None:
    assert listener.too_long(LineTooLong(b"GET /aaaa", 20_480))
    assert listener.too_long(BadHttpMessage("Too many headers received"))
    assert not listener.too_long(BadHttpMessage("Invalid header token"))


def test_one_line_flattens_and_clips() -> None:
    assert listener.one_line("Invalid header:\n\n  b'x'\n    ^") == "Invalid header: b'x' ^"
    assert listener.one_line("x" * 500, limit=10) == "x" * 10 + "…"


async def test_the_parsers_refusal_goes_to_the_pipeline() -> None:
    refused: list[tuple[bool, str]] = []

    def refuse(request: web.BaseRequest, too_long: bool, detail: str) -> web.StreamResponse:
        refused.append((too_long, detail))
        return web.Response(status=418)

    async def handler(request: web.BaseRequest) -> web.StreamResponse:
        raise AssertionError("the handler never runs for a request the parser refused")

    protocol = listener.ViewerServer(handler, refuse=refuse)()
    request = make_mocked_request("GET", "/", writer=SimpleNamespace(output_size=0))
    bad = BadHttpMessage("Invalid header token:\n\n  b'No colon'\n    ^")
    assert protocol.handle_error(request, 400, bad).status == 418
    assert protocol.handle_error(request, 400, LineTooLong(b"x", 20_480)).status == 418
    assert refused[0] == (False, "Invalid header token: b'No colon' ^")
    assert refused[1][0] is True


def record_with(exc: BaseException) -> logging.LogRecord:
    try:
        raise exc
    except type(exc):
        info = sys.exc_info()
    return logging.LogRecord(
        "aiohttp.server", logging.ERROR, __file__, 1, "Error handling request from %s",
        ("127.0.0.1",), info,
    )  # fmt: skip


def test_a_malformed_request_becomes_one_warning_line() -> None:
    record = record_with(BadHttpMessage("Invalid header token:\n\n  b'x'"))
    assert listener.QuietClientErrors().filter(record)
    assert record.exc_info is None
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        "Error handling request from 127.0.0.1: BadHttpMessage: Invalid header token: b'x'"
    )


def test_a_connection_that_went_away_drops_to_debug() -> None:
    record = record_with(ConnectionResetError("Cannot write to closing transport"))
    listener.QuietClientErrors().filter(record)
    assert (record.exc_info, record.levelno) == (None, logging.DEBUG)


def test_edgesims_own_errors_keep_their_traceback() -> None:
    record = record_with(KeyError("a bug"))
    listener.QuietClientErrors().filter(record)
    assert record.exc_info is not None
    assert record.levelno == logging.ERROR


@pytest.fixture
def logger() -> logging.Logger:
    return logging.getLogger("edgesim.test.listener")


def test_the_filter_is_installed_once(logger: logging.Logger) -> None:
    listener.quiet_client_errors(logger)
    listener.quiet_client_errors(logger)
    assert sum(isinstance(f, listener.QuietClientErrors) for f in logger.filters) == 1
