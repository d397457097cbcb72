"""Metrics observe finished flows: requests by X-Cache result and status, bytes, and the
CloudWatch function metrics (FunctionInvocations, -ExecutionErrors, -ValidationErrors,
-Throttles, -ComputeUtilization), rendered as Prometheus text."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesim.devloop.metrics import Metrics
from edgesim.distribution.model import Distribution
from edgesim.edge.flow import (
    NOT_LOADED,
    THROTTLED,
    Failure,
    Flow,
    FlowFailure,
    FunctionRun,
    XCache,
    generated,
)
from tests.unit.edge.stages.conftest import BASE, make_dist, make_flow


@pytest.fixture
def dist(tmp_path: Path) -> Distribution:
    return make_dist(tmp_path, BASE)


def finished(
    dist: Distribution,
    x_cache: XCache = XCache.MISS,
    status: int = 200,
    *,
    sent: int = 0,
    runs: list[FunctionRun] | None = None,
) -> Flow:
    flow = make_flow(dist)
    flow.response = generated(status, "", x_cache)
    flow.bytes_sent = sent
    flow.function_runs = runs or []
    return flow


def test_requests_counted_by_x_cache_status_and_bytes(dist: Distribution) -> None:
    metrics = Metrics()
    metrics.flow_finished(finished(dist, XCache.HIT, 200, sent=10))
    metrics.flow_finished(finished(dist, XCache.HIT, 304))
    metrics.flow_finished(finished(dist, XCache.MISS, 200, sent=5))
    metrics.flow_finished(finished(dist, XCache.FUNCTION_EXECUTION_ERROR, 503, sent=7))
    assert metrics.requests == {"Hit": 2, "Miss": 1, "FunctionExecutionError": 1}
    assert metrics.status == {200: 2, 304: 1, 503: 1}
    assert metrics.bytes_downloaded == 22


def test_flow_without_a_response_counts_no_request(dist: Distribution) -> None:
    metrics = Metrics()
    flow = make_flow(dist)
    flow.function_runs = [FunctionRun("fn", "viewer-request", utilization=3)]
    metrics.flow_finished(flow)
    assert sum(metrics.requests.values()) == 0
    assert metrics.functions["fn"].invocations == 1


def test_function_invocations_errors_and_utilization(dist: Distribution) -> None:
    metrics = Metrics()
    metrics.flow_finished(
        finished(
            dist,
            runs=[
                FunctionRun("gate", "viewer-request", utilization=20),
                FunctionRun("hdrs", "viewer-response", utilization=5),
            ],
        )
    )
    metrics.flow_finished(
        finished(
            dist,
            XCache.FUNCTION_EXECUTION_ERROR,
            503,
            runs=[FunctionRun("gate", "viewer-request", 40, "execution", "boom")],
        )
    )
    metrics.flow_finished(
        finished(
            dist,
            XCache.FUNCTION_VALIDATION_ERROR,
            502,
            runs=[FunctionRun("gate", "viewer-request", 130, "validation", "bad")],
        )
    )
    gate = metrics.functions["gate"]
    assert (gate.invocations, gate.execution_errors, gate.validation_errors) == (3, 1, 1)
    assert gate.throttles == 0  # over budget is not throttled (a throttled run does not run)
    assert (gate.utilization_sum, gate.utilization_max) == (190, 130)
    assert metrics.functions["hdrs"].invocations == 1


def test_function_that_never_loaded_is_an_execution_error_not_an_invocation(
    dist: Distribution,
) -> None:
    metrics = Metrics()
    run = FunctionRun("broken", "viewer-request", error_kind=NOT_LOADED, error="syntax")
    metrics.flow_finished(finished(dist, XCache.FUNCTION_EXECUTION_ERROR, 503, runs=[run]))
    broken = metrics.functions["broken"]
    assert (broken.invocations, broken.execution_errors, broken.utilization_sum) == (0, 1, 0)
    assert metrics.requests == {"FunctionExecutionError": 1}


def test_throttled_runs_count_as_throttles_not_invocations(dist: Distribution) -> None:
    metrics = Metrics()
    for _ in range(2):
        run = FunctionRun("hot", "viewer-request", error_kind=THROTTLED)
        metrics.flow_finished(finished(dist, XCache.FUNCTION_THROTTLED, 503, runs=[run]))
    hot = metrics.functions["hot"]
    assert (hot.throttles, hot.invocations, hot.execution_errors) == (2, 0, 0)
    assert 'edgesim_function_throttles{function="hot"} 2' in metrics.render().splitlines()


def test_cache_hit_rate_counts_refresh_hits_over_hits_and_misses(dist: Distribution) -> None:
    metrics = Metrics()
    assert metrics.cache_hit_rate == 0.0
    for x_cache in (XCache.HIT, XCache.REFRESH_HIT, XCache.MISS, XCache.MISS, XCache.ERROR):
        metrics.flow_finished(finished(dist, x_cache))
    assert metrics.cache_hit_rate == 0.5  # errors and generated responses do not count


def test_render_is_prometheus_text(dist: Distribution) -> None:
    metrics = Metrics()
    metrics.flow_finished(finished(dist, XCache.HIT, 200, sent=12))
    metrics.flow_finished(
        finished(
            dist,
            XCache.MISS,
            404,
            runs=[
                FunctionRun("b-fn", "viewer-request", utilization=10),
                FunctionRun("a-fn", "viewer-response", 30, "execution", "x"),
            ],
        )
    )
    metrics.flow_finished(
        finished(dist, XCache.MISS, 200, runs=[FunctionRun("b-fn", "viewer-request", 21)])
    )
    text = metrics.render()
    assert text.endswith("\n")
    lines = text.splitlines()
    for expected in (
        "# TYPE edgesim_requests counter",
        'edgesim_requests{result_type="Hit"} 1',
        'edgesim_requests{result_type="Miss"} 2',
        'edgesim_responses{status="200"} 2',
        'edgesim_responses{status="404"} 1',
        "edgesim_cache_hit_rate 0.333333",
        "edgesim_bytes_downloaded 12",
        "# TYPE edgesim_function_invocations counter",
        'edgesim_function_invocations{function="b-fn"} 2',
        'edgesim_function_execution_errors{function="a-fn"} 1',
        'edgesim_function_execution_errors{function="b-fn"} 0',
        'edgesim_function_validation_errors{function="a-fn"} 0',
        'edgesim_function_throttles{function="b-fn"} 0',
        "# TYPE edgesim_function_compute_utilization gauge",
        'edgesim_function_compute_utilization{function="b-fn"} 16',  # mean of 10 and 21
        'edgesim_function_compute_utilization_max{function="b-fn"} 21',
    ):
        assert expected in lines, expected
    # One series per function, in name order; every sample line is "name{labels} number".
    invocations = [line for line in lines if line.startswith("edgesim_function_invocations{")]
    assert invocations == [
        'edgesim_function_invocations{function="a-fn"} 1',
        'edgesim_function_invocations{function="b-fn"} 2',
    ]
    for line in lines:
        if not line.startswith("#"):
            float(line.rsplit(" ", 1)[1])


def test_a_response_that_broke_off_counts_as_error_by_detailed_type(dist: Distribution) -> None:
    metrics = Metrics()
    cut = finished(dist, XCache.MISS, 200, sent=100)
    cut.response_started = True
    cut.failure = FlowFailure(Failure.ORIGIN_READ, "broke off")
    gone = finished(dist, XCache.HIT, 200)
    gone.failure = FlowFailure(Failure.CLIENT_COMM, "left before the response")
    metrics.flow_finished(cut)
    metrics.flow_finished(gone)
    metrics.flow_finished(finished(dist, XCache.MISS, 200))
    assert metrics.requests == {"Error": 2, "Miss": 1}
    assert metrics.status == {200: 2, 0: 1}  # 0: the viewer left before the response
    assert metrics.failures == {"OriginReadError": 1, "ClientCommError": 1}
    assert metrics.cache_hit_rate == 0.0  # a miss, and two errors that are neither
    text = metrics.render()
    assert 'edgesim_request_failures{detailed_result_type="OriginReadError"} 1' in text
    assert 'edgesim_requests{result_type="Error"} 2' in text
