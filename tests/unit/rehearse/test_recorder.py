"""The traffic recorder (a flow observer): the viewer's request as sent, with what the edge
decided (POP, country, time) and the origin's answer; buffered, flushed by size, by timer and at
close; an existing recording is appended to."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from edgesim.devloop import recorder as recorder_module
from edgesim.devloop.recorder import TrafficRecorder
from edgesim.distribution.config import load_config
from edgesim.edge.flow import EdgeResponse, Flow, FunctionRun, GeneratedBody, OriginBody, XCache
from edgesim.edge.message import EdgeRequest
from edgesim.errors import InputError
from edgesim.rehearse.traffic import OriginStub, read_traffic
from tests.unit.rehearse.traffic_gen import CONFIG

DIST = load_config(CONFIG)


class _Conn:
    def release(self) -> None:
        pass


def _flow(path: str = "/checkout", *, origin_status: int | None = 200) -> Flow:
    req = EdgeRequest(
        "GET", path, "a=1&b", [("host", "localhost:8080"), ("cookie", "uid=7"), ("x-y", "z")],
        client_ip="203.0.113.5", client_port=5555, scheme="http", pop="FRA", country="DE",
    )  # fmt: skip
    flow = Flow(req, DIST, "rid", 1_764_700_000_123.0)
    flow.viewer_request = req
    # The viewer stage adds CloudFront-Viewer-* headers to the same request object.
    req.headers.append(("cloudfront-viewer-country", "DE"))
    flow.origin_status = origin_status
    headers = [("content-type", "text/html"), ("cache-control", "max-age=60")]
    flow.response = EdgeResponse(200, headers, XCache.MISS, OriginBody(_Conn()))  # type: ignore[arg-type]
    return flow


def test_a_flow_is_recorded_as_the_viewer_sent_it(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    recorder = TrafficRecorder(path)
    recorder.flow_finished(_flow())
    recorder.close()
    (record,) = read_traffic(path)
    assert (record.method, record.uri, record.query) == ("GET", "/checkout", "a=1&b")
    assert record.headers == [("host", "localhost:8080"), ("cookie", "uid=7"), ("x-y", "z")]
    assert (record.ip, record.port, record.scheme) == ("203.0.113.5", 5555, "http")
    assert (record.pop, record.country, record.time_ms) == ("FRA", "DE", 1_764_700_000_123.0)
    assert record.origin == OriginStub(
        200, [("content-type", "text/html"), ("cache-control", "max-age=60")]
    )


def test_origin_headers_are_left_out_when_a_viewer_response_function_rewrote_them(
    tmp_path: Path,
) -> None:
    flow = _flow()
    flow.function_runs.append(FunctionRun("headers", "viewer-response"))
    recorder = TrafficRecorder(tmp_path / "t.jsonl")
    recorder.flow_finished(flow)
    recorder.close()
    assert read_traffic(tmp_path / "t.jsonl")[0].origin == OriginStub(200, [])


def test_responses_made_at_the_edge_record_no_origin(tmp_path: Path) -> None:
    flow = _flow(origin_status=None)
    flow.response = EdgeResponse(302, [], XCache.FUNCTION_GENERATED, GeneratedBody(b""))
    refused = _flow()
    refused.viewer_request = None  # refused before it was read: not recorded
    recorder = TrafficRecorder(tmp_path / "t.jsonl")
    recorder.flow_finished(flow)
    recorder.flow_finished(refused)
    recorder.close()
    (record,) = read_traffic(tmp_path / "t.jsonl")
    assert record.origin is None
    assert recorder.recorded == 1


def test_lines_are_buffered_until_a_batch_is_full_or_the_recorder_closes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recorder_module, "FLUSH_LINES", 3)
    path = tmp_path / "t.jsonl"
    recorder = TrafficRecorder(path)
    for _ in range(2):
        recorder.flow_finished(_flow())
    assert read_traffic(path) == []  # only the header so far
    recorder.flow_finished(_flow())
    assert len(read_traffic(path)) == 3
    recorder.flow_finished(_flow())
    recorder.close()
    recorder.flow_finished(_flow())  # after close: ignored
    assert len(read_traffic(path)) == 4


async def test_the_event_loop_flushes_a_partial_batch_on_a_timer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recorder_module, "FLUSH_INTERVAL_S", 0.01)
    path = tmp_path / "t.jsonl"
    recorder = TrafficRecorder(path)
    recorder.flow_finished(_flow())
    for _ in range(200):
        if read_traffic(path):
            break
        await asyncio.sleep(0.01)
    assert len(read_traffic(path)) == 1
    await recorder.aclose()


def test_an_existing_recording_is_appended_to(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    for _ in range(2):
        recorder = TrafficRecorder(path)
        recorder.flow_finished(_flow())
        recorder.close()
    assert len(read_traffic(path)) == 2
    assert path.read_text().count('"format"') == 1


def test_an_unwritable_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"--record .*cannot write"):
        TrafficRecorder(tmp_path / "missing-dir" / "t.jsonl")
    with pytest.raises(InputError, match="--record-body-limit -1"):
        TrafficRecorder(tmp_path / "t.jsonl", body_limit=-1)


def test_a_file_that_is_not_a_recording_is_never_appended_to(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("my notes\n")
    with pytest.raises(InputError, match="not an edgesim recording"):
        TrafficRecorder(path)
    assert path.read_text() == "my notes\n"
