"""Rehearse a change on recorded traffic: run every recorded viewer request through the current
and the proposed version of a distribution's functions and KVS data (no origin calls) and report
which requests change, how, and at which POPs during the propagation window.

``edgesim rehearse`` (:mod:`edgesim.rehearse_cli`) and ``edgesim.testing.rehearse`` call
:func:`rehearse`. Modules: :mod:`.traffic` (the recording format), :mod:`.accesslog` (CloudFront
standard logs), :mod:`.versions`, :mod:`.outcome`, :mod:`.compare`, :mod:`.engine`,
:mod:`.window`, :mod:`.report`. The migration check (``rehearse --swap``, Lambda@Edge and
functions swapped for one another): :func:`edgesim.rehearse.swap.rehearse_swap`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from edgesim.distribution.config import load_config
from edgesim.distribution.model import Distribution
from edgesim.errors import InputError
from edgesim.rehearse.accesslog import ACCESS_LOG, LOG_HEADERS, is_access_log, read_access_log
from edgesim.rehearse.engine import Plan, Workers, no_collection, run_plan, workers_for
from edgesim.rehearse.inputs import unseen_headers
from edgesim.rehearse.report import Source, build_report, check_guards, render_text
from edgesim.rehearse.traffic import FORMAT, OriginStub, TrafficRecord, read_traffic
from edgesim.rehearse.versions import parse_assignments
from edgesim.rehearse.window import pop_lags_ms

__all__ = ["check_guards", "load_traffic", "rehearse", "render_text"]

PathLike = str | Path
Assignments = Mapping[str, PathLike] | Sequence[str] | PathLike | None


def load_traffic(path: PathLike, pops: tuple[str, ...]) -> tuple[list[TrafficRecord], Source]:
    """A recording (``serve --record``) or a CloudFront standard access log, told apart by
    their first line."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"--traffic {path}: no such file")
    if is_access_log(path):
        log = read_access_log(path, pops)
        return log.records, Source(str(path), ACCESS_LOG, log.missing_inputs,
                                   log.warnings)  # fmt: skip
    return read_traffic(path), Source(str(path), FORMAT)


def rehearse(
    traffic: PathLike,
    config: PathLike,
    *,
    kvs_after: Assignments = None,
    function_after: Assignments = None,
    kvs_before: Assignments = None,
    default_origin_status: int = 200,
    write_at: datetime | float | None = None,
    jobs: int | None = None,
) -> dict[str, Any]:
    """Rehearse the proposed change on ``traffic`` and return the report (a dict: ``total``,
    ``changed``, ``new_errors``, ``by_kind``, ``by_pop``, ``partial``, ``missing_inputs`` …).

    ``kvs_after``: the proposed contents of stores, in the KVS import format — a mapping
    ``{store: path}``, ``["STORE=path", …]``, or one path when the distribution has one store.
    ``function_after``: proposed code, ``{function: path}`` or ``["NAME=path", …]``.
    ``kvs_before`` overrides the current contents (default: each store's seed file).
    ``write_at``: when the KVS write happens (default: the first recorded request), which
    places the propagation window in the recording.
    """
    config = Path(config)
    dist = load_config(config)
    stores, functions = sorted(dist.kvs), sorted(dist.functions)
    after = _assignments(kvs_after, "--kvs-after", stores, "store")
    before = _assignments(kvs_before, "--kvs-before", stores, "store")
    code = _assignments(function_after, "--function-after", functions, "function")
    if not after and not code:
        raise InputError("nothing to rehearse: give --kvs-after and/or --function-after")
    if not 100 <= default_origin_status <= 599:
        raise InputError(f"--origin-status {default_origin_status}: expected an HTTP status")
    if jobs is not None and jobs < 1:
        raise InputError(f"--jobs {jobs}: expected at least 1")
    path = Path(traffic)
    workers = workers_for(jobs, path.stat().st_size if path.is_file() else 0)
    try:
        return _rehearse(path, config, dist, after, before, code, default_origin_status,
                         write_at, jobs, workers)  # fmt: skip
    finally:
        if workers is not None:
            workers.close()


def _rehearse(
    traffic: Path,
    config: Path,
    dist: Distribution,
    after: dict[str, Path],
    before: dict[str, Path],
    code: dict[str, Path],
    default_origin_status: int,
    write_at: datetime | float | None,
    jobs: int | None,
    workers: Workers | None,
) -> dict[str, Any]:
    with no_collection():
        records, source = load_traffic(traffic, dist.edges.pops)
    write_ms: float | None = None
    if after and records:
        if write_at is None:
            write_ms = min(r.time_ms for r in records)
        elif isinstance(write_at, datetime):
            write_ms = write_at.timestamp() * 1000
        else:
            write_ms = float(write_at)
    plan = Plan(
        config=config,
        kvs_after=after,
        function_after=code,
        kvs_before=before,
        default_origin=OriginStub(default_origin_status, []),
        write_at_ms=write_ms,
        lags_ms=pop_lags_ms(dist.edges.propagation, dist.edges.pops) if write_ms is not None
        else {},
    )  # fmt: skip
    rehearsal, result = run_plan(plan, records, jobs=jobs, workers=workers)
    if source.format == ACCESS_LOG:
        files = {**rehearsal.before.files, **rehearsal.after.files}
        for name, headers in unseen_headers(files, LOG_HEADERS).items():
            source.missing_inputs.append(
                f"function {name} reads headers the log lacks: {', '.join(headers)} (its "
                "decisions on them are not rehearsed)"
            )
    with no_collection():
        return build_report(source, records, rehearsal, result)


def _assignments(value: Assignments, flag: str, names: list[str], what: str) -> dict[str, Path]:
    if value is None:
        return {}
    if isinstance(value, str | Path):
        items = [str(value)]
    elif isinstance(value, Mapping):
        items = [f"{k}={v}" for k, v in value.items()]
    else:
        items = [str(v) for v in value]
    return parse_assignments(items, flag=flag, names=names, what=what)
