"""Counters behind the admin port's ``/metrics`` (Prometheus text format).

Metric names follow CloudFront's CloudWatch metrics (AWS Developer Guide, "Viewing CloudFront and
edge function metrics"): FunctionInvocations, FunctionExecutionErrors, FunctionValidationErrors,
FunctionThrottles, FunctionComputeUtilization, plus Requests and the cache hit rate. Prometheus
names are the CloudWatch names in snake case with an ``edgesim_`` prefix.

The cache's figures (entries and bytes per POP, the budgets, evictions) are edgesim's own, not
CloudWatch's: CloudFront publishes no such metric (its cache size is not the user's to set).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from edgesim.edge.flow import NOT_LOADED, THROTTLED

if TYPE_CHECKING:
    from edgesim.edge.flow import Flow, FunctionRun


@dataclass
class FunctionStats:
    invocations: int = 0
    execution_errors: int = 0
    validation_errors: int = 0
    throttles: int = 0
    utilization_sum: int = 0
    utilization_max: int = 0


@dataclass
class Metrics:
    requests: Counter[str] = field(default_factory=Counter)  # by x-cache result type
    status: Counter[int] = field(default_factory=Counter)
    functions: dict[str, FunctionStats] = field(default_factory=dict)
    # Lambda@Edge invocations by (lambda, error kind or "").
    lambdas: Counter[tuple[str, str]] = field(default_factory=Counter)
    bytes_downloaded: int = 0
    # Responses that broke off after they started, by CloudFront's detailed result type
    # (ClientCommError, OriginReadError); they count as Error in ``requests``.
    failures: Counter[str] = field(default_factory=Counter)
    # Requests refused for private content (signed URLs and cookies), by CloudFront's error code
    # (MissingKey, InvalidKey, MalformedSignature, MalformedPolicy, AccessDenied).
    private_content: Counter[str] = field(default_factory=Counter)

    def flow_finished(self, flow: Flow) -> None:
        runs = flow.function_runs
        if runs:
            self._record_runs(runs)
        failure = flow.failure
        if failure is not None:
            self.failures[str(failure.kind)] += 1
        response = flow.response
        if response is not None:
            # Status 0 ("000"): the viewer went away before the response started.
            status = response.status if failure is None or flow.response_started else 0
            # record_request, inlined: this runs once per request.
            self.requests[flow.result_type] += 1
            self.status[status] += 1
            self.bytes_downloaded += flow.bytes_sent
            if status == 403:  # only refusals can carry a private-content code
                for event in flow.trace:
                    if event.stage == "private-content" and event.detail.get("code") != "OK":
                        self.private_content[str(event.detail.get("code"))] += 1

    def _record_runs(self, runs: list[FunctionRun]) -> None:
        for run in runs:
            if run.lambda_edge:
                self.lambdas[(run.name, run.error_kind or "")] += 1
            elif run.error_kind == THROTTLED:
                self.functions.setdefault(run.name, FunctionStats()).throttles += 1
            elif run.error_kind == NOT_LOADED:
                # CloudFront answers FunctionExecutionError for code it cannot run.
                self.functions.setdefault(run.name, FunctionStats()).execution_errors += 1
            else:
                self.record_function(
                    run.name, utilization=run.utilization, error_kind=run.error_kind
                )

    def record_request(self, result_type: str, status: int, size: int) -> None:
        """One request by its final result type (``Flow.result_type``), status and size."""
        self.requests[result_type] += 1
        self.status[status] += 1
        self.bytes_downloaded += size

    def record_function(self, name: str, *, utilization: int, error_kind: str | None) -> None:
        stats = self.functions.setdefault(name, FunctionStats())
        stats.invocations += 1
        stats.utilization_sum += utilization
        stats.utilization_max = max(stats.utilization_max, utilization)
        if error_kind == "execution":
            stats.execution_errors += 1
        elif error_kind == "validation":
            stats.validation_errors += 1

    @property
    def cache_hit_rate(self) -> float:
        hits = self.requests["Hit"] + self.requests["RefreshHit"]
        cacheable = hits + self.requests["Miss"]
        return hits / cacheable if cacheable else 0.0

    def render(self, cache: Mapping[str, Any] | None = None) -> str:
        """The Prometheus text; ``cache``: :meth:`HttpCache.stats` for the cache gauges."""
        lines = [
            "# HELP edgesim_requests Viewer requests by x-cache result type.",
            "# TYPE edgesim_requests counter",
        ]
        for result, count in sorted(self.requests.items()):
            lines.append(f'edgesim_requests{{result_type="{result}"}} {count}')
        lines += ["# TYPE edgesim_responses counter"]
        for status, count in sorted(self.status.items()):
            lines.append(f'edgesim_responses{{status="{status}"}} {count}')
        lines += [
            "# HELP edgesim_cache_hit_rate Hits (incl. RefreshHit) over hits plus misses.",
            "# TYPE edgesim_cache_hit_rate gauge",
            f"edgesim_cache_hit_rate {self.cache_hit_rate:.6f}",
            "# TYPE edgesim_bytes_downloaded counter",
            f"edgesim_bytes_downloaded {self.bytes_downloaded}",
            "# HELP edgesim_request_failures Responses that broke off after they started, by "
            "detailed result type.",
            "# TYPE edgesim_request_failures counter",
        ]
        for kind, count in sorted(self.failures.items()):
            lines.append(f'edgesim_request_failures{{detailed_result_type="{kind}"}} {count}')
        lines += [
            "# HELP edgesim_private_content_refusals Requests refused for a missing or invalid "
            "signed URL or signed cookies, by error code.",
            "# TYPE edgesim_private_content_refusals counter",
        ]
        for code, count in sorted(self.private_content.items()):
            lines.append(f'edgesim_private_content_refusals{{code="{code}"}} {count}')
        rows: tuple[tuple[str, str, Callable[[FunctionStats], int]], ...] = (
            ("function_invocations", "counter", lambda s: s.invocations),
            ("function_execution_errors", "counter", lambda s: s.execution_errors),
            ("function_validation_errors", "counter", lambda s: s.validation_errors),
            ("function_throttles", "counter", lambda s: s.throttles),
            (
                "function_compute_utilization",
                "gauge",
                lambda s: round(s.utilization_sum / s.invocations) if s.invocations else 0,
            ),
            ("function_compute_utilization_max", "gauge", lambda s: s.utilization_max),
        )
        for metric, kind, read in rows:
            lines.append(f"# TYPE edgesim_{metric} {kind}")
            for name, stats in sorted(self.functions.items()):
                lines.append(f'edgesim_{metric}{{function="{name}"}} {read(stats)}')
        lines += [
            "# HELP edgesim_lambda_invocations Lambda@Edge invocations, by lambda and error kind "
            '("" when it succeeded).',
            "# TYPE edgesim_lambda_invocations counter",
        ]
        for (name, error), count in sorted(self.lambdas.items()):
            lines.append(f'edgesim_lambda_invocations{{lambda="{name}",error="{error}"}} {count}')
        if cache is not None:
            lines += cache_lines(cache)
        return "\n".join(lines) + "\n"


def cache_lines(stats: Mapping[str, Any]) -> list[str]:
    """Entries and bytes per POP, the budgets (all POPs together) and evictions."""
    pops: Mapping[str, Mapping[str, int]] = stats.get("pops", {})
    lines: list[str] = []
    per_pop = (
        ("entries", "entries", "Objects in the POP's cache."),
        (
            "memory_bytes",
            "memory_bytes",
            "Estimated memory of the POP's entries (keys, headers, bookkeeping, in-memory "
            "bodies): what counts against the memory budget.",
        ),
        ("disk_bytes", "disk_bytes", "Bodies of the POP's entries spilled to disk."),
    )
    for metric, field_name, help_text in per_pop:
        lines += [
            f"# HELP edgesim_cache_{metric} {help_text}",
            f"# TYPE edgesim_cache_{metric} gauge",
        ]
        for pop, row in pops.items():
            lines.append(f'edgesim_cache_{metric}{{pop="{pop}"}} {row[field_name]}')
    lines += [
        "# HELP edgesim_cache_memory_limit_bytes The memory budget, for all POPs together.",
        "# TYPE edgesim_cache_memory_limit_bytes gauge",
        f"edgesim_cache_memory_limit_bytes {stats['memory_limit_bytes']}",
        "# HELP edgesim_cache_disk_limit_bytes The disk budget, for all POPs together.",
        "# TYPE edgesim_cache_disk_limit_bytes gauge",
        f"edgesim_cache_disk_limit_bytes {stats['disk_limit_bytes']}",
        "# HELP edgesim_cache_evictions Entries evicted to keep within the budgets.",
        "# TYPE edgesim_cache_evictions counter",
        f"edgesim_cache_evictions {stats['evictions']}",
    ]
    return lines
