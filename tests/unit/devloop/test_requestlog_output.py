"""How the request log reaches its stream, and the line it makes straight from a flow.

Behaviour relied on: a request's console line is the same whether it is made from the flow
(text format, no access log) or from its :class:`RequestRecord` (JSON, access log); lines written
while serve's event loop runs reach the stream at the end of that turn of the loop, in order,
many in one write; without a running loop, and at ``close()``, they are out at once; the access
log's date and time are those of the request's second (UTC).
"""

from __future__ import annotations

import asyncio
import io
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim.devloop import requestlog
from edgesim.devloop.requestlog import ACCESS_LOG_FIELDS, RequestLog, RequestRecord
from edgesim.edge.flow import (
    Failure,
    Flow,
    FlowFailure,
    FunctionRun,
    GeneratedBody,
    XCache,
    generated,
)
from edgesim.edge.message import EdgeRequest


class CountingStream(io.StringIO):
    """A console that counts the writes it gets."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


class _Behavior:
    def __init__(self, path: str) -> None:
        self.path = path


names = st.text("abcxyz_-", min_size=1, max_size=8)
notes = st.none() | st.text(min_size=1, max_size=30)
runs = st.builds(
    FunctionRun,
    logs=st.lists(st.text(max_size=10), max_size=2),
    warnings=st.lists(st.text(max_size=10), max_size=1),
    error=notes,
    error_position=st.none() | st.just("fn.js:1:2"),
    error_stack=st.lists(st.just("handler (fn.js:1:2)"), max_size=2).map(tuple),
    custom_log_data=notes,
    name=names,
    event_type=st.sampled_from(["viewer-request", "viewer-response", "origin-request"]),
    utilization=st.integers(0, 200),
    error_kind=st.none() | st.sampled_from(["execution", "validation", "throttled"]),
    lambda_edge=st.booleans(),
    duration_ms=st.none() | st.floats(0, 5000),
)


@st.composite
def flows(draw: st.DrawFn) -> Flow:
    req = EdgeRequest(
        draw(st.sampled_from(["GET", "POST", "-"])),
        draw(st.sampled_from(["/", "/a/b", "-"])),
        draw(st.none() | st.sampled_from(["", "x=1&y=2"])),
        [],
        pop=draw(st.sampled_from(["IAD", "FRA"])),
    )
    flow = Flow(req, None, "rid", 0.0)  # type: ignore[arg-type]  # observers never read dist
    if draw(st.booleans()):
        flow.behavior = _Behavior(draw(st.sampled_from(["*", "/api/*"])))  # type: ignore[assignment]
    flow.function_runs = draw(st.lists(runs, max_size=3))
    flow.origin_status = draw(st.none() | st.sampled_from([200, 404, 502]))
    flow.bytes_sent = draw(st.integers(0, 10**9))
    if draw(st.booleans()):
        response = generated(
            draw(st.sampled_from([200, 302, 403, 503])), "x", draw(st.sampled_from(list(XCache)))
        )
        response.detail = draw(notes)
        flow.response = response
    flow.response_started = draw(st.booleans())
    if draw(st.booleans()):
        flow.failure = FlowFailure(draw(st.sampled_from(list(Failure))), draw(names))
    flow.started = 100.0
    return flow


@given(flow=flows())
def test_the_line_made_from_the_flow_is_the_records_line(flow: Flow) -> None:
    # An access log makes the log go through record_of(flow); without one the console line is
    # made from the flow: the console must not tell them apart.
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        patch.setattr("edgesim.edge.flow.time.perf_counter", lambda: 100.0123)  # one duration
        from_flow, from_record = io.StringIO(), io.StringIO()
        RequestLog(stream=from_flow).flow_finished(flow)
        with_access = RequestLog(stream=from_record, access_log=Path(folder) / "access.log")
        with_access.flow_finished(flow)
        with_access.close()
    assert from_flow.getvalue() == from_record.getvalue()
    assert from_flow.getvalue().count("→") == 1


def _flow(path: str) -> Flow:
    flow = Flow(EdgeRequest("GET", path, None, [], pop="IAD"), None, "rid", 0.0)  # type: ignore[arg-type]
    flow.response = generated(200, "ok", XCache.MISS)
    flow.response_started = True
    return flow


def test_lines_of_one_turn_of_the_loop_share_one_write_in_order(tmp_path: Path) -> None:
    stream = CountingStream()
    log = RequestLog(stream=stream, access_log=tmp_path / "access.log")

    async def serve() -> list[str]:
        for n in range(5):
            log.function_log("fn", f"line {n}")
            log.flow_finished(_flow(f"/p{n}"))
        held = stream.getvalue()
        await asyncio.sleep(0)  # the loop turns
        assert held == ""  # nothing was written before the turn ended
        return stream.getvalue().splitlines()

    lines = asyncio.run(serve())
    assert stream.writes == 1
    assert [line.split(" ")[-1] if line.startswith("  [") else line.split(" ")[2]
            for line in lines] == [x for n in range(5) for x in (str(n), f"/p{n}")]  # fmt: skip
    access = (tmp_path / "access.log").read_text().splitlines()
    assert [line.split("\t")[ACCESS_LOG_FIELDS.index("cs-uri-stem")] for line in access[2:]] == [
        f"/p{n}" for n in range(5)
    ]
    log.close()


def test_without_a_running_loop_each_line_is_out_at_once() -> None:
    stream = CountingStream()
    log = RequestLog(stream=stream)
    log.flow_finished(_flow("/a"))
    assert "GET /a → 200 [Miss]" in stream.getvalue()
    log.flow_finished(_flow("/b"))
    assert stream.writes == 2


def test_close_writes_what_is_still_held(tmp_path: Path) -> None:
    stream = io.StringIO()
    log = RequestLog(fmt="json", stream=stream, access_log=tmp_path / "access.log")

    async def serve() -> None:
        log.flow_finished(_flow("/held"))
        log.close()  # serve stopping within the same turn
        assert '"target":"/held"' in stream.getvalue()

    asyncio.run(serve())
    assert (tmp_path / "access.log").read_text().count("/held") == 1


def test_a_loop_that_never_turned_again_does_not_hold_lines_back() -> None:
    stream = io.StringIO()
    log = RequestLog(stream=stream)
    loop = asyncio.new_event_loop()

    def finish_and_stop() -> None:
        log.flow_finished(_flow("/one"))
        loop.stop()  # the loop ends with this turn: the flush it was asked for never runs

    loop.call_soon(finish_and_stop)
    loop.run_forever()
    loop.close()
    assert stream.getvalue() == ""

    async def finish() -> None:
        log.flow_finished(_flow("/two"))

    asyncio.run(finish())  # the next loop writes both, in order
    assert [line.split(" ")[2] for line in stream.getvalue().splitlines()] == ["/one", "/two"]


SECOND_MS = 1_000


@given(
    times=st.lists(
        st.integers(0, 4_102_444_800) .map(lambda s: s * SECOND_MS)  # 1970 … 2100
        .flatmap(lambda ms: st.sampled_from([0.0, 0.0004, 0.0005, 0.0006, 0.001, 1.0, 999.0,
                                             999.999, 999.9994, 999.9995, 999.9996])
                 .map(lambda frac: ms + frac)),
        min_size=1, max_size=20,
    )
)  # fmt: skip
def test_the_access_logs_stamp_is_the_requests_second(times: list[float]) -> None:
    stamp = requestlog._Stamp()
    for time_ms in times + times[::-1]:  # the remembered second, then others
        now = datetime.fromtimestamp(time_ms / 1000, UTC)
        assert stamp(time_ms) == (now.strftime("%Y-%m-%d"), now.strftime("%H:%M:%S"))


def test_a_generated_body_flow_is_logged_the_same_from_both_paths() -> None:
    flow = _flow("/g")
    flow.response.source = GeneratedBody(b"hi")  # type: ignore[union-attr]
    out = io.StringIO()
    RequestLog(stream=out).flow_finished(flow)
    assert out.getvalue().startswith("IAD GET /g → 200 [Miss] behavior=- origin=- fn=- 0B ")


def _access_by_name(record: RequestRecord) -> dict[str, str]:
    """The access log's fields as CloudFront's documentation names them (the reference the
    line is checked against; everything edgesim does not know is ``-``)."""
    now = datetime.fromtimestamp(record.time_ms / 1000, UTC)  # type: ignore[operator]
    stem, _, query = record.target.partition("?")

    def result(x_cache: str) -> str:
        if x_cache in ("Hit", "RefreshHit", "Miss", "Redirect", "LimitExceeded"):
            return x_cache
        if x_cache == "CapacityExceeded":
            return x_cache
        return "Error" if "Error" in x_cache else "Miss"

    return {
        "date": now.strftime("%Y-%m-%d"),
        "time": now.strftime("%H:%M:%S"),
        "x-edge-location": record.pop,
        "sc-bytes": str(record.bytes),
        "c-ip": record.client_ip,
        "cs-method": record.method,
        "cs-uri-stem": stem,
        "sc-status": f"{record.status:03d}",
        "cs-uri-query": query or "-",
        "x-edge-result-type": result(record.result_type),
        "x-edge-response-result-type": result(record.x_cache),
        "x-edge-detailed-result-type": record.failure or record.x_cache,
        "time-taken": f"{record.duration_ms / 1000:.3f}",
        "cs-protocol": "http",
        "viewer-request-log-data": record.request_log_data or "-",
        "viewer-response-log-data": record.response_log_data or "-",
    }


records = st.builds(
    RequestRecord,
    method=st.sampled_from(["GET", "POST"]),
    target=st.sampled_from(["/", "/a?b=1", "/x?", "/p/q?r=s&t"]),
    pop=st.sampled_from(["IAD", "FRA"]),
    behavior=st.just("*"),
    x_cache=st.sampled_from([*list(XCache), "LimitExceeded", "CapacityExceeded"]).map(str),
    status=st.integers(0, 599),
    bytes=st.integers(0, 10**12),
    duration_ms=st.floats(0, 10**7),
    client_ip=st.sampled_from(["192.0.2.1", "2001:db8::1"]),
    time_ms=st.floats(0, 4.1e12),
    # cf.logCustomData reaches the log URL-encoded: no tab ever.
    request_log_data=st.none() | st.text("ab%20=-", min_size=1, max_size=10),
    response_log_data=st.none() | st.text("ab%20=-", min_size=1, max_size=10),
    failure=st.none() | st.sampled_from(list(Failure)).map(str),
)


@given(record=records)
def test_each_access_log_field_is_in_its_place(record: RequestRecord) -> None:
    line = requestlog._access_line(record, requestlog._Stamp())
    fields = dict(zip(ACCESS_LOG_FIELDS, line.split("\t"), strict=True))
    known = _access_by_name(record)
    assert fields == {name: known.get(name, "-") for name in ACCESS_LOG_FIELDS}
