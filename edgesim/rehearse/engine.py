"""Run recorded requests through the current and the proposed version and keep what differs.

The work is split over worker processes (``jobs``; each loads its own functions, as QuickJS
state cannot be shared) for large recordings. A worker returns only the requests whose outcomes
differ, so what crosses the process boundary stays small.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from edgesim.distribution.config import load_config
from edgesim.distribution.model import Distribution
from edgesim.edge.flow import Flow
from edgesim.edge.stages.viewer import is_cloudfront_generated
from edgesim.edge.viewer import CONTROL_HEADERS, ViewerResolver
from edgesim.errors import InputError
from edgesim.kvs.importfile import load_import_file
from edgesim.rehearse.airports import PopMapper
from edgesim.rehearse.outcome import Admitted, Outcome, admit, run
from edgesim.rehearse.traffic import OriginStub, Row, TrafficRecord, from_row, to_row
from edgesim.rehearse.versions import META, Read, Version, build_version, current_data

PARALLEL_FROM = 4_000  # fewer requests than this run in-process (a worker costs ~0.5 s to start)
# Chunks per worker: many small ones, so that the workers finish together (a worker idle at the
# end while another runs its last chunk is wall time lost); each costs a round trip of a few ms.
CHUNKS_PER_JOB = 16
MIN_CHUNK = 250


@dataclass(frozen=True)
class Plan:
    """What to rehearse; picklable, so each worker builds the same versions from it."""

    config: Path
    kvs_after: dict[str, Path] = field(default_factory=dict)
    function_after: dict[str, Path] = field(default_factory=dict)
    kvs_before: dict[str, Path] = field(default_factory=dict)
    default_origin: OriginStub = field(default_factory=lambda: OriginStub(200, []))
    # The KVS write happens at this epoch ms (None: no propagation window is studied).
    write_at_ms: float | None = None
    # The POP lags (ms) the window uses: a request at POP p and time t with
    # write_at <= t < write_at + lag[p] still sees the old data there.
    lags_ms: dict[str, float] = field(default_factory=dict)


@dataclass
class Diff:
    index: int
    before: Outcome
    after: Outcome
    # Old code + new data (the state at a POP the write reached before the code changed);
    # only for requests in the propagation window when both code and data change.
    mixed: Outcome | None = None


@dataclass
class Result:
    diffs: list[Diff] = field(default_factory=list)
    errors_before: int = 0
    errors_after: int = 0
    runs: int = 0  # requests run through a version (the others were known to be the same)


class Rehearsal:
    """The versions of a plan, ready to run records."""

    def __init__(self, plan: Plan, dist: Distribution | None = None) -> None:
        self.plan = plan
        self.dist = dist = dist if dist is not None else load_config(plan.config)
        before_data = current_data(dist)
        for name, path in plan.kvs_before.items():
            before_data[name] = load_import_file(path)
        after_data = dict(before_data)
        for name, path in plan.kvs_after.items():
            after_data[name] = load_import_file(path)
        self.before = build_version("current", dist, data=before_data)
        self.after = build_version("proposed", dist, data=after_data, files=plan.function_after)
        self.mixed: Version | None = None
        if plan.kvs_after and plan.function_after:
            self.mixed = build_version("current code with the proposed data", dist,
                                       data=after_data)  # fmt: skip
        self.resolver = ViewerResolver(dist.edges)
        self.pops = PopMapper(dist.edges.pops)
        self.window_end = (
            plan.write_at_ms + max(plan.lags_ms.values(), default=0.0)
            if plan.write_at_ms is not None
            else None
        )

    def run_many(self, records: Sequence[TrafficRecord], start: int = 0) -> Result:
        result = Result()
        for offset, record in enumerate(records):
            self._run_one(start + offset, record, result)
        return result

    def _run_one(self, index: int, record: TrafficRecord, result: Result) -> None:
        dist = self.dist
        req = record.edge_request()
        # As the viewer stage drops them on arrival: edgesim's control headers and the
        # CloudFront-* headers only CloudFront may set (a hand-written recording may hold them).
        req.headers = [(n, v) for n, v in req.headers if not _dropped_on_arrival(n)]
        req.pop = self.pops.map(req.pop) if req.pop else dist.edges.pops[0]
        if not req.country:
            req.country = self.resolver.country_for(req)
        flow = Flow(req, dist, f"rehearsal-{index}", record.time_ms)
        flow.viewer_request = req
        admitted = admit(flow)
        origin = record.origin or self.plan.default_origin
        reads: list[Read] = []
        self.before.stores.reads = reads
        try:
            before = run(admitted, self.before, origin)
        finally:
            self.before.stores.reads = None
        ran = 1
        # A function is deterministic given its event, time, seed and what it reads (and both
        # versions give it the same event, time and seed): when its code is the same and every
        # value it read is the same in the other version's data, the outcome is the same too.
        same_data = self._same_reads(reads, self.after.data)
        if same_data and not self._code_changed(admitted):
            after = before
        else:
            after = run(admitted, self.after, origin)
            ran += 1
        mixed = None
        if self.mixed is not None and self._in_window(record.time_ms):
            if same_data:
                mixed = before
            else:
                mixed = run(admitted, self.mixed, origin)
                ran += 1
        result.runs += ran
        result.errors_before += before.error is not None
        result.errors_after += after.error is not None
        if before != after or (mixed is not None and mixed != before):
            result.diffs.append(Diff(index, before, after, mixed))

    def _code_changed(self, admitted: Admitted) -> bool:
        behavior = admitted.flow.behavior
        if behavior is None:  # refused before a behaviour was chosen: no function runs
            return False
        changed = self.plan.function_after
        return behavior.viewer_request in changed or behavior.viewer_response in changed

    @staticmethod
    def _same_reads(reads: list[Read], data: dict[str, dict[str, str]]) -> bool:
        for store, key, value in reads:
            if key == META or data.get(store, {}).get(key) != value:
                return False
        return True

    def _in_window(self, time_ms: float) -> bool:
        start, end = self.plan.write_at_ms, self.window_end
        return start is not None and end is not None and start <= time_ms < end


def _dropped_on_arrival(name: str) -> bool:
    dropped = _DROPPED.get(name)
    if dropped is None:
        dropped = name in CONTROL_HEADERS or is_cloudfront_generated(name)
        if len(_DROPPED) < 4096:  # the names a recording uses: a few dozen
            _DROPPED[name] = dropped
    return dropped


_DROPPED: dict[str, bool] = {}


# -- worker processes ---------------------------------------------------------------------------
_worker: Rehearsal | None = None


def _ready() -> None:
    """A task that only makes the pool start a process (see Workers)."""


def _run_chunk(plan: Plan, start: int, rows: list[Row]) -> Result:
    global _worker
    if _worker is None or _worker.plan != plan:
        _worker = Rehearsal(plan)
        gc.freeze()  # the versions stay for the worker's life: collections need not walk them
    return _worker.run_many([from_row(row) for row in rows], start)


class Workers:
    """``jobs`` worker processes, started before the traffic is read: starting one (a new
    interpreter importing edgesim) takes a second or more, which overlaps with the reading."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        context = multiprocessing.get_context("spawn")  # no QuickJS state crosses a fork
        self.pool = ProcessPoolExecutor(jobs, mp_context=context)
        for _ in range(jobs):  # a task no idle process takes starts one
            self.pool.submit(_ready)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def workers_for(jobs: int | None, traffic_bytes: int) -> Workers | None:
    """Workers started ahead for a recording of ``traffic_bytes``, or None (it will run
    in-process, or :func:`run_plan` starts them)."""
    if jobs is None:
        # A recorded request takes about 500 bytes, an access log line about 300.
        jobs = (os.cpu_count() or 1) if traffic_bytes >= PARALLEL_FROM * 300 else 1
    return Workers(jobs) if jobs > 1 else None


def run_plan(
    plan: Plan,
    records: Sequence[TrafficRecord],
    *,
    jobs: int | None = None,
    workers: Workers | None = None,
) -> tuple[Rehearsal, Result]:
    """Rehearse ``records``; ``jobs`` worker processes (default: one per CPU for large
    recordings, in-process for small ones), those of ``workers`` when given (which the caller
    closes)."""
    local = Rehearsal(plan)  # loads everything once here: bad input fails before any worker
    if jobs is None:
        jobs = (os.cpu_count() or 1) if len(records) >= PARALLEL_FROM else 1
    if jobs < 1:
        raise InputError(f"--jobs {jobs}: expected at least 1")
    if jobs == 1 or len(records) < 2:
        return local, local.run_many(records)
    if workers is not None and workers.jobs == jobs:
        return local, _run_on(workers, plan, records)
    started = Workers(jobs)
    try:
        return local, _run_on(started, plan, records)
    finally:
        started.close()


@contextmanager
def no_collection() -> Iterator[None]:
    """Python's cyclic collector paused: while this process reads a recording, gathers the
    workers' results or builds the report, it allocates millions of objects and keeps them, no
    cycles among them, so each full collection would only walk them all again (40% of the time
    of reading 100,000 requests). The collector runs again afterwards."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _run_on(workers: Workers, plan: Plan, records: Sequence[TrafficRecord]) -> Result:
    with no_collection():
        return _gather(workers, plan, records)


def _gather(workers: Workers, plan: Plan, records: Sequence[TrafficRecord]) -> Result:
    size = max(MIN_CHUNK, -(-len(records) // (workers.jobs * CHUNKS_PER_JOB)))
    merged = Result()
    futures = [
        # As tuples of plain values: a third of the time of pickling the dataclasses both ways.
        workers.pool.submit(_run_chunk, plan, i, [to_row(r) for r in records[i : i + size]])
        for i in range(0, len(records), size)
    ]
    for future in futures:
        part = future.result()
        merged.diffs += part.diffs
        merged.errors_before += part.errors_before
        merged.errors_after += part.errors_after
        merged.runs += part.runs
    return merged
