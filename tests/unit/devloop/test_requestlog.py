"""Request log lines and the access log in CloudFront's standard log fields."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from edgesim.devloop.requestlog import ACCESS_LOG_FIELDS, RequestLog, RequestRecord

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
