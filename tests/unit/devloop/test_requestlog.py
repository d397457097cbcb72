"""Request log lines and the access log in CloudFront's standard log fields."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from edgesim.devloop.requestlog import ACCESS_LOG_FIELDS, RequestLog, RequestRecord
from edgesim.edge.flow import Failure, Flow, FlowFailure, XCache, generated
from tests.unit.edge.stages.conftest import make_dist, make_flow, make_request

RECORD = RequestRecord(
    method="GET",
    target="/a?b=1",
    pop="FRA",
    behavior="*",
    x_cache="FunctionGeneratedResponse",
    status=302,
    bytes=12,
    duration_ms=1.5,
    client_ip="192.0.2.1",
    origin_status=None,
    functions=[("gate", 12, None)],
)


def test_json_format_and_access_log(tmp_path: Path) -> None:
    stream = io.StringIO()
    log = RequestLog(fmt="json", stream=stream, access_log=tmp_path / "access.log")
    log.function_log("gate", "hello")
    log.request(RECORD)
    log.close()
    first, second = stream.getvalue().splitlines()
    assert json.loads(first) == {"function": "gate", "log": "hello"}
    assert json.loads(second)["x_cache"] == "FunctionGeneratedResponse"
    lines = (tmp_path / "access.log").read_text().splitlines()
    assert lines[1] == "#Fields: " + " ".join(ACCESS_LOG_FIELDS)
    fields = dict(zip(ACCESS_LOG_FIELDS, lines[2].split("\t"), strict=True))
    assert fields["x-edge-location"] == "FRA"
    assert fields["cs-uri-stem"] == "/a"
    assert fields["cs-uri-query"] == "b=1"
    assert fields["sc-status"] == "302"
    assert fields["x-edge-detailed-result-type"] == "FunctionGeneratedResponse"


def test_text_line_names_pop_behaviour_functions_and_cache_result() -> None:
    stream = io.StringIO()
    RequestLog(stream=stream).request(RECORD)
    assert stream.getvalue().startswith(
        "FRA GET /a?b=1 → 302 [FunctionGeneratedResponse] behavior=* origin=- fn=gate=12% 12B"
    )


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="log format 'xml'"):
        RequestLog(fmt="xml")


# -- responses that broke off, and requests left out of the standard logs (issue 11, point 5) ---


def flow_with(tmp_path: Path, failure: FlowFailure | None, *, started: bool = True) -> Flow:
    flow = make_flow(make_dist(tmp_path), make_request(path="/big"))
    flow.response = generated(200, "", XCache.MISS)
    flow.response_started = started
    flow.bytes_sent = 65536
    flow.failure = failure
    return flow


def test_a_response_that_broke_off_is_one_line_with_result_error(tmp_path: Path) -> None:
    stream = io.StringIO()
    log = RequestLog(stream=stream, access_log=tmp_path / "access.log")
    cut = FlowFailure(Failure.ORIGIN_READ, "the origin's body broke off after 65536 of 99 bytes")
    log.flow_finished(flow_with(tmp_path, cut))
    log.close()
    first, second = stream.getvalue().splitlines()
    assert first.startswith("IAD GET /big → 200 [Error/OriginReadError, sent as Miss] ")
    assert second == (
        "  ! OriginReadError: the origin's body broke off after 65536 of 99 bytes; the viewer's "
        "connection was closed"
    )
    fields = access_fields(tmp_path)
    assert fields["sc-status"] == "200"
    assert fields["x-edge-result-type"] == "Error"
    assert fields["x-edge-response-result-type"] == "Miss"
    assert fields["x-edge-detailed-result-type"] == "OriginReadError"
    assert fields["sc-bytes"] == "65536"


def test_a_viewer_gone_before_the_response_is_status_000(tmp_path: Path) -> None:
    stream = io.StringIO()
    log = RequestLog(fmt="json", stream=stream, access_log=tmp_path / "access.log")
    gone = FlowFailure(Failure.CLIENT_COMM, "the viewer closed the connection before the response")
    flow = flow_with(tmp_path, gone, started=False)
    flow.bytes_sent = 0
    log.flow_finished(flow)
    log.close()
    record = json.loads(stream.getvalue())
    assert (record["status"], record["x_cache"], record["failure"]) == (
        0,
        "Miss",
        "ClientCommError",
    )
    assert access_fields(tmp_path)["sc-status"] == "000"


def test_requests_left_out_of_the_standard_logs_get_only_a_console_line(tmp_path: Path) -> None:
    stream = io.StringIO()
    log = RequestLog(stream=stream, access_log=tmp_path / "access.log")
    flow = flow_with(tmp_path, None)
    flow.standard_log = False
    log.flow_finished(flow)
    log.close()
    assert "→ 200 [Miss]" in stream.getvalue()
    lines = (tmp_path / "access.log").read_text().splitlines()
    assert all(line.startswith("#") for line in lines)


def access_fields(tmp_path: Path) -> dict[str, str]:
    line = (tmp_path / "access.log").read_text().splitlines()[-1]
    return dict(zip(ACCESS_LOG_FIELDS, line.split("\t"), strict=True))
