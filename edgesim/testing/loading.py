"""``load_function``: a user's function, ready to run on events in a test."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from edgesim import limits
from edgesim.build.oneshot import build_once
from edgesim.build.relabel import Relabeler
from edgesim.errors import EdgesimError
from edgesim.kvs.importfile import load_import_file
from edgesim.kvs.reader import KvsReader, StaticKvs
from edgesim.runtime.event import build_event
from edgesim.runtime.function import (
    BudgetPolicy,
    CompatibilityError,
    InvocationResult,
    LoadedFunction,
)
from edgesim.runtime.source import read_function
from edgesim.testing.stores import FaultyKvs, ReplicatedKvs

KvsArg = Mapping[str, str] | str | Path | ReplicatedKvs | KvsReader | None


class EdgeFunction:
    """A loaded function. ``run(event)`` returns an :class:`InvocationResult`
    (``.kind``, ``.request``, ``.response``, ``.error``, ``.logs``, ``.compute_utilization``,
    ``.origin_modifications``); a failure's ``.error.position`` and ``.error.stack`` say where in
    the user's file it happened."""

    def __init__(
        self,
        loaded: LoadedFunction,
        kvs: ReplicatedKvs | KvsReader | None,
        relabeler: Relabeler | None = None,
    ) -> None:
        self.loaded = loaded
        self.kvs = kvs
        # Built with a source map: positions are given in the sources (edgesim.build).
        self.relabeler = relabeler

    @property
    def runtime(self) -> str:
        return self.loaded.runtime

    def run(
        self,
        event: Mapping[str, Any],
        *,
        pop: str | None = None,
        now: datetime | float | None = None,
        seed: int | None = None,
        kvs: KvsReader | None = None,
        raw_query: str | None = None,
    ) -> InvocationResult:
        """Run on ``event`` (as built by :func:`viewer_request` / :func:`viewer_response`).

        ``pop`` picks the replica of a :class:`ReplicatedKvs`; ``kvs`` overrides the store for
        this run (e.g. a :class:`FaultyKvs`); ``raw_query`` is what ``rawQueryString()`` gives
        (default: rebuilt from the event's query string).
        """
        clean = build_event(dict(event))
        replica = kvs if kvs is not None else self._replica(pop)
        if raw_query is None:
            raw_query = _raw_query(clean["request"].get("querystring", {}))
        edge = {"name": pop or "IAD", "serverIp": "127.0.0.1", "region": "us-east-1"}
        no_store = isinstance(replica, FaultyKvs) and replica.fault == "not-associated"
        result = self.loaded.invoke(
            clean,
            now=now,
            seed=seed,
            edge=edge,
            raw_query=raw_query,
            replica=replica,
            no_store=no_store,
        )
        error = result.error
        if error is not None and self.relabeler:
            fix = self.relabeler.position
            error.position = None if error.position is None else fix(error.position)
            error.stack = tuple(fix(frame) for frame in error.stack)
        return result

    def with_fault(self, fault: str, *, keys: frozenset[str] = frozenset()) -> KvsReader:
        """A :class:`FaultyKvs` over this function's store, to pass as ``run(..., kvs=...)``."""
        base = self._replica(None)
        return FaultyKvs(base, fault, keys)  # type: ignore[arg-type]

    def _replica(self, pop: str | None) -> KvsReader | None:
        if isinstance(self.kvs, ReplicatedKvs):
            return self.kvs.service.replica_of(self.kvs.name, pop or self.kvs.pops[0]).snapshot()
        return self.kvs


def _raw_query(entries: Mapping[str, Any]) -> str:
    parts = []
    for name, entry in entries.items():
        values = [m["value"] for m in entry.get("multiValue", [])] or [entry.get("value", "")]
        parts += [f"{name}={v}" if v != "" else name for v in values]
    return "&".join(parts)


def _store(kvs: KvsArg) -> ReplicatedKvs | KvsReader | None:
    if kvs is None or isinstance(kvs, ReplicatedKvs):
        return kvs
    if isinstance(kvs, str | Path):
        return StaticKvs(load_import_file(kvs), name=Path(kvs).stem)
    if isinstance(kvs, Mapping):
        from edgesim.kvs.importfile import validate_import

        items = validate_import(
            {"data": [{"key": k, "value": v} for k, v in kvs.items()]}, source="kvs={...}"
        )
        return StaticKvs(items)
    if not all(hasattr(kvs, member) for member in ("store_id", "get", "meta")):
        raise TypeError(
            f"kvs={kvs!r}: expected None, a dict, a path to an import file, a ReplicatedKvs or "
            "a store reader (with store_id, get and meta)"
        )
    return kvs


def load_function(
    path: str | Path,
    *,
    kvs: KvsArg = None,
    runtime: str | None = None,
    compat: str | None = None,
    budget: BudgetPolicy | None = None,
    build: str | None = None,
    build_dir: str | Path | None = None,
) -> EdgeFunction:
    """Load ``path`` as CloudFront would deploy it.

    ``kvs``: ``None`` (no associated store), a dict (``{}`` is an empty store), a path to an
    import-format file, a :class:`ReplicatedKvs`, or any reader. ``compat`` defaults to
    ``"strict"``: code CloudFront would reject fails to load, as the deploy would
    (:class:`~edgesim.runtime.function.CompatibilityError`, which says to pass
    ``compat="lenient"`` to run it anyway). A syntax error raises
    :class:`~edgesim.runtime.engine.FunctionSyntaxError` (``.position`` is ``file:line:col``).

    ``build``: a command that writes ``path`` (``"npm run build:edge"``), run first in
    ``build_dir`` (default: the current directory); it raises
    :class:`~edgesim.build.oneshot.BuildFailed` with the build's output when it fails or writes
    what CloudFront would refuse. When the build writes a source map, every position (load
    errors, ``.error.position`` and ``.error.stack``) is given in the sources as
    ``src/router.ts:14:9 [dist/router.js:3:100]``.
    """
    store = _store(kvs)
    relabeler = build_once(build, path, cwd=build_dir) if build is not None else None
    try:
        source = read_function(path)
        first = store.replica(store.pops[0]) if isinstance(store, ReplicatedKvs) else store
        try:
            loaded = LoadedFunction(
                source,
                runtime=runtime or limits.RUNTIME_JS_2,
                kvs=first,
                budget=budget,
                compat=compat or "strict",
            )
        except CompatibilityError as exc:
            hint = 'Run it anyway with load_function(..., compat="lenient").'
            raise exc.with_hint(hint) from None
    except EdgesimError as exc:
        if relabeler:
            _relabel_error(exc, relabeler)
        raise
    return EdgeFunction(loaded, store, relabeler)


def _relabel_error(exc: EdgesimError, relabeler: Relabeler) -> None:
    """A load error of a built function, said in the sources (message and ``position``)."""
    exc.args = (relabeler.text(str(exc)), *exc.args[1:])
    position = getattr(exc, "position", None)
    if isinstance(position, str):
        exc.position = relabeler.position(position)  # type: ignore[attr-defined]
