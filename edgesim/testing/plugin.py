"""The edgesim pytest plugin: fixtures that load functions, build stores and run ``serve``.

pytest loads it through the ``pytest11`` entry point in every project where edgesim is
installed, so this module imports only pytest (and pytest-asyncio, already loaded as a plugin
when installed); edgesim itself is imported inside the fixtures, when a test asks for one.

* ``edgesim_load(path, *, kvs=None, pops=None, lag=None, ...)`` → an
  :class:`~edgesim.testing.EdgeFunction`, as :func:`~edgesim.testing.load_function`;
* ``edgesim_kvs(items=None, *, pops=..., lag=2.0, seed=0)`` → a
  :class:`~edgesim.testing.ReplicatedKvs` on a virtual clock;
* ``await edgesim_server(config, *, origin=None)`` → an :class:`EdgesimServer`: a real
  ``serve`` on free loopback ports (needs an asyncio test, e.g. with pytest-asyncio).

Nothing is shared between tests or processes (pytest-xdist workers): no fixed port, no file in
the project, stores in memory, a server's files in its own temporary directory.

Relative paths are relative to pytest's rootdir. Every store and server a fixture made is
closed or stopped after the test.
"""

from __future__ import annotations

import copy
import io
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from edgesim.app import EdgeServer
    from edgesim.distribution.model import Distribution
    from edgesim.kvs.clock import SettableClock
    from edgesim.kvs.propagation import LagModel
    from edgesim.kvs.service import KvsService
    from edgesim.testing import EdgeFunction, ReplicatedKvs

    LagSpec = float | LagModel | Mapping[str, float]

try:
    # pytest-asyncio's decorator makes the async fixture work in its strict and auto modes.
    from pytest_asyncio import fixture as _async_fixture
except ImportError:  # pragma: no cover - without pytest-asyncio, an async runner must take it
    _async_fixture = pytest.fixture  # type: ignore[assignment]

__all__ = ["EdgesimServer", "edgesim_kvs", "edgesim_load", "edgesim_server"]

ORIGIN_PLACEHOLDER = "{origin}"
INJECTED_ORIGIN_ID = "origin"  # the id origin= gets when the config names no origin
LOOPBACK = "127.0.0.1"


def _resolve(root: Path, path: str | os.PathLike[str]) -> Path:
    """``path`` as given if absolute, else under pytest's rootdir (not the working directory,
    which depends on where pytest was started)."""
    given = Path(path)
    return given if given.is_absolute() else root / given


def _lag_model(lag: LagSpec) -> float | LagModel:
    """A mapping ``{pop: seconds}`` pins each POP's delay (others receive writes at once)."""
    if isinstance(lag, Mapping):
        from edgesim.kvs.propagation import FixedLag, PerPopLag

        return PerPopLag({str(pop): float(s) for pop, s in lag.items()}, FixedLag(0.0))
    return lag


def _items(root: Path, items: Mapping[str, str] | str | os.PathLike[str] | None) -> dict[str, str]:
    if items is None:
        return {}
    if isinstance(items, Mapping):
        return dict(items)
    from edgesim.kvs.importfile import load_import_file

    return load_import_file(_resolve(root, items))


# -- coverage of function code: --edgesim-cov and friends (edgesim.coverage.pytest_plugin) ----


def pytest_addoption(parser: pytest.Parser) -> None:
    from edgesim.coverage.pytest_plugin import add_options

    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    from edgesim.coverage.pytest_plugin import configure

    configure(config)


# -- edgesim_load / edgesim_kvs ---------------------------------------------------------------


@pytest.fixture
def edgesim_kvs(request: pytest.FixtureRequest) -> Iterator[Callable[..., ReplicatedKvs]]:
    """Factory: ``edgesim_kvs(items=None, *, pops=("IAD", "FRA", "NRT"), lag=2.0, seed=0,
    name="test-store")`` → a :class:`~edgesim.testing.ReplicatedKvs` on a virtual clock.

    ``items`` is a dict or a KVS import file; ``lag`` is seconds, a lag model, or
    ``{pop: seconds}``. Writes land only when the test advances the clock
    (``kvs.advance(s)``, ``kvs.settle()``). Closed after the test.
    """
    from edgesim.testing import ReplicatedKvs

    root = request.config.rootpath
    made: list[ReplicatedKvs] = []

    def make(
        items: Mapping[str, str] | str | os.PathLike[str] | None = None,
        *,
        pops: tuple[str, ...] = ("IAD", "FRA", "NRT"),
        lag: LagSpec = 2.0,
        seed: int = 0,
        name: str = "test-store",
    ) -> ReplicatedKvs:
        store = ReplicatedKvs(
            _items(root, items), pops=pops, lag=_lag_model(lag), seed=seed, name=name
        )
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


@pytest.fixture
def edgesim_load(request: pytest.FixtureRequest) -> Iterator[Callable[..., EdgeFunction]]:
    """Factory like :func:`~edgesim.testing.load_function`: ``edgesim_load(path, *, kvs=None,
    pops=None, lag=None, runtime=None, compat=None, budget=None)``.

    ``kvs`` is a dict, an import file, a store or ``None`` (no store associated). Giving
    ``pops`` or ``lag`` turns a dict or file into a :class:`~edgesim.testing.ReplicatedKvs`
    (reachable as ``fn.kvs``), closed after the test.
    """
    from edgesim.testing import ReplicatedKvs, load_function

    root = request.config.rootpath
    made: list[ReplicatedKvs] = []

    def load(
        path: str | os.PathLike[str],
        *,
        kvs: Any = None,
        pops: tuple[str, ...] | None = None,
        lag: LagSpec | None = None,
        **options: Any,
    ) -> EdgeFunction:
        if isinstance(kvs, str | os.PathLike):
            kvs = _resolve(root, kvs)
        if pops is not None or lag is not None:
            if not isinstance(kvs, Mapping | Path):
                # kvs=None means "no store associated": replicating nothing would silently
                # associate an empty store instead.
                raise TypeError(
                    "pops= and lag= replicate a dict (even {}) or an import file given as kvs="
                )
            settings: dict[str, Any] = {"pops": pops} if pops is not None else {}
            if lag is not None:
                settings["lag"] = _lag_model(lag)
            kvs = ReplicatedKvs(_items(root, kvs), **settings)
            made.append(kvs)  # before loading, so a load error still closes it
        return load_function(_resolve(root, path), kvs=kvs, **options)

    yield load
    for store in made:
        store.close()


# -- edgesim_server ---------------------------------------------------------------------------


@dataclass
class EdgesimServer:
    """A running ``serve``: ``url`` (viewers), ``admin`` (KVS API, ``/status``), the
    :class:`~edgesim.app.EdgeServer`, its :class:`~edgesim.kvs.service.KvsService`
    and the ``clock`` the whole edge runs on: KVS propagation, cache TTLs and ``Age``, the
    functions' ``Date``, the ``Date`` header and the access log. It starts frozen (at ``[server]
    now`` when the config sets it, else at the real time) and moves as the test says:
    ``clock.now()``, ``clock.set(datetime)``, ``clock.advance(seconds)``, ``clock.freeze()``,
    ``clock.thaw()`` (then it runs at real speed), the same moves as ``edgesim clock`` and
    ``POST /clock`` on :attr:`admin` (docs/clock.md)."""

    server: EdgeServer
    kvs: KvsService
    clock: SettableClock
    stream: io.StringIO

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.server.viewer_port}"

    @property
    def admin(self) -> str:
        return f"http://{LOOPBACK}:{self.server.admin_port}"

    @property
    def state_dir(self) -> Path:
        """This server's own directory under pytest's temporary directory (one per server, per
        xdist worker): the access log and anything else ``serve`` keeps on disk."""
        return self.server.dist.server.state_dir

    @property
    def access_log(self) -> Path | None:
        """The access log the config asked for (``[server] access_log``), in :attr:`state_dir`."""
        return self.server.dist.server.access_log

    @property
    def logs(self) -> list[str]:
        """What ``serve`` printed (load notes, errors, access log lines)."""
        return self.stream.getvalue().splitlines()

    def advance(self, seconds: float) -> None:
        """Move the edge's clock: writes whose lag has passed land at their POPs, cached
        objects age (and expire), functions see the later ``Date.now()``."""
        self.clock.advance(seconds)

    def settle(self) -> None:
        """Advance the clock until every store's latest write has landed at every POP."""
        waits = [
            wait
            for info in self.kvs.list_stores()
            for status in self.kvs.propagation_status(info.name)
            for _, wait in status.pending
        ]
        if waits:
            self.clock.advance(max(0.0, max(waits)) + 1e-6)


def _mentions(value: Any, text: str) -> bool:
    if isinstance(value, str):
        return text in value
    if isinstance(value, Mapping):
        return any(_mentions(v, text) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, text) for v in value)
    return False


def _substitute(value: Any, origin: str) -> Any:
    if isinstance(value, str):
        return value.replace(ORIGIN_PLACEHOLDER, origin)
    if isinstance(value, Mapping):
        return {k: _substitute(v, origin) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, origin) for v in value]
    return value


def _referenced_origins(doc: Mapping[str, Any]) -> list[str]:
    """Origin ids the behaviours and origin groups name, in order, without origin group ids."""
    names: list[object] = []
    behaviors = [doc.get("default_behavior"), *_tables(doc.get("behaviors"))]
    for table in behaviors:
        if isinstance(table, Mapping):
            names.append(table.get("origin"))
    groups = _tables(doc.get("origin_groups"))
    for group in groups:
        names += [group.get("primary"), group.get("secondary")]
    group_ids = {group.get("id") for group in groups}
    found: list[str] = []
    for name in names:
        if isinstance(name, str) and name not in group_ids and name not in found:
            found.append(name)
    return found


def _tables(value: Any) -> list[dict[str, Any]]:
    return [t for t in value if isinstance(t, dict)] if isinstance(value, list) else []


def _origin_table(origin_id: str, url: str) -> str:
    return f'[[origins]]\nid = "{origin_id}"\nurl = "{url}"'


def _with_origin(doc: dict[str, Any], origin: str | None) -> dict[str, Any]:
    """Put the ``origin`` URL into the config, where it says, or where there is one place only:

    * wherever the config says ``{origin}``;
    * else in its one ``[[origins]]`` table without a ``url``;
    * else as the one origin id the behaviours name but no ``[[origins]]`` defines;
    * else, in a config without ``[[origins]]`` that names none, as an origin with id
      ``"origin"``.

    A config without ``[[origins]]`` also gets the origin as its default behaviour's when that
    names none. Anything else is a :class:`ValueError` that says what to write.
    """
    used = _mentions(doc, ORIGIN_PLACEHOLDER)
    if origin is None:
        if used:
            raise ValueError(f"the config uses {ORIGIN_PLACEHOLDER!r} but no origin= was given")
        return doc
    if used:
        substituted: dict[str, Any] = _substitute(doc, origin)
        return substituted
    raw = doc.get("origins")
    if raw is not None and not isinstance(raw, list):
        return doc  # not an array of tables: the config check says so
    origins = _tables(raw)
    defined = {t.get("id") for t in origins}
    missing = [name for name in _referenced_origins(doc) if name not in defined]
    no_url = [t for t in origins if "url" not in t]
    if len(no_url) == 1 and not missing:
        no_url[0]["url"] = origin
        return doc
    if no_url or len(missing) > 1 or (origins and not missing):
        raise ValueError(_origin_advice(origins, missing, no_url))
    origin_id = missing[0] if missing else INJECTED_ORIGIN_ID
    doc["origins"] = [*(raw or []), {"id": origin_id, "url": origin}]
    if not origins:
        default = doc.setdefault("default_behavior", {})
        if isinstance(default, dict):
            default.setdefault("origin", origin_id)
    return doc


def _origin_advice(
    origins: Sequence[Mapping[str, Any]], missing: list[str], no_url: Sequence[Mapping[str, Any]]
) -> str:
    """What to write when origin= cannot be put in one obvious place."""
    placeholder = ORIGIN_PLACEHOLDER
    head = "origin= was given, but "
    if no_url:
        ids = ", ".join(repr(t.get("id")) for t in no_url)
        if len(no_url) == 1 and len(missing) == 1:
            return (
                f"{head}the config's [[origins]] {no_url[0].get('id')!r} has no url and the "
                f"behaviours name {missing[0]!r}, which no [[origins]] defines: if they are one "
                f'origin, write id = "{missing[0]}" in that table (origin= then is its url); '
                f"if not, define {missing[0]!r} with its own url"
            )
        if missing:
            return (
                f"{head}the config has [[origins]] without a url ({ids}) and names origins it "
                f"does not define ({', '.join(map(repr, missing))}): define every origin the "
                f'behaviours name, and write url = "{placeholder}" in the one origin= stands '
                "for and a URL in the others"
            )
        return (
            f"{head}{len(no_url)} [[origins]] have no url ({ids}): write "
            f'url = "{placeholder}" in the one origin= stands for and a URL in the others'
        )
    if missing:
        tables = "\n\n".join(
            _origin_table(name, placeholder if i == 0 else "http://…")
            for i, name in enumerate(missing)
        )
        return (
            f"{head}the config names {len(missing)} origins that no [[origins]] defines "
            f"({', '.join(map(repr, missing))}) and origin= is one URL: add an [[origins]] "
            f'table for each, with url = "{placeholder}" on the one origin= stands for, '
            f"e.g.\n\n{tables}"
        )
    if len(origins) == 1:
        only = origins[0]
        return (
            f"{head}the config's only [[origins]] (id = {only.get('id')!r}) has its own url "
            f"({only.get('url')!r}) and none uses {placeholder!r}: write "
            f'url = "{placeholder}" in it, or leave out origin='
        )
    ids = ", ".join(repr(t.get("id")) for t in origins)
    return (
        f"{head}the config declares its own [[origins]] ({ids}) and none uses "
        f'{placeholder!r}: write url = "{placeholder}" in the one origin= stands for, '
        "or leave out origin="
    )


def _parse_toml(text: str, source: str) -> dict[str, Any]:
    import tomllib

    from edgesim.errors import InputError

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        hint = ""
        if "\n" not in text and text.strip().endswith(".toml"):
            hint = " (to load a file, pass a pathlib.Path)"
        raise InputError(f"{source}: invalid TOML: {exc}{hint}") from None


def _isolated(server: Any, state_dir: Path) -> Any:
    """``[server]`` for one test's server, whatever the config says: loopback, free ports, KVS
    state in memory, and ``state_dir`` (the test's own temporary directory) for anything kept on
    disk, so that parallel workers (pytest-xdist) and parallel tests never share a port or a file
    and nothing is written into the project. A configured ``access_log`` is written there too,
    under the same file name."""
    if not isinstance(server, Mapping):
        return server  # not a table: the config check says so
    isolated = {
        **server,
        "host": LOOPBACK,
        "port": 0,
        "admin_port": 0,
        "https_port": 0,
        "ephemeral": True,
        "state_dir": str(state_dir),
    }
    access_log = server.get("access_log")
    if isinstance(access_log, str) and Path(access_log).name:
        isolated["access_log"] = str(state_dir / Path(access_log).name)
    return isolated


def _distribution(
    config: str | os.PathLike[str] | Mapping[str, Any],
    origin: str | None,
    base_dir: Path,
    root: Path,
    state_dir: Path,
) -> Distribution:
    from edgesim.distribution.config import parse_config

    config_path = None
    source = "edgesim_server config"
    if isinstance(config, os.PathLike):
        config_path = _resolve(root, config).resolve()
        source = str(config_path)
        doc = _parse_toml(config_path.read_text(encoding="utf-8"), source)
        base_dir = config_path.parent
    elif isinstance(config, str):
        doc = _parse_toml(config, source)
    else:
        doc = copy.deepcopy(dict(config))
    doc = _with_origin(doc, origin)
    doc["server"] = _isolated(doc.get("server", {}), state_dir)
    return parse_config(doc, base_dir=base_dir, source=source, config_path=config_path)


def _kvs_for(dist: Distribution) -> tuple[KvsService, SettableClock]:
    """The store service ``serve`` would build, on a clock the test drives: frozen (whatever
    ``[server] frozen`` says, so tests are repeatable until one thaws it), at ``[server] now``."""
    from edgesim.kvs.clock import SettableClock
    from edgesim.stores import kvs_service_for

    clock = SettableClock(dist.server.now, frozen=True)
    return kvs_service_for(dist, clock=clock), clock


class _StateDirs:
    """One new directory per server: from pytest's ``tmp_path_factory`` (under the run's
    temporary directory, one per xdist worker, kept for inspection as pytest keeps it), or, when
    the tmpdir plugin is turned off (``-p no:tmpdir``), a private temporary directory removed
    after the test."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        try:
            self._factory: pytest.TempPathFactory | None = request.getfixturevalue(
                "tmp_path_factory"
            )
        except pytest.FixtureLookupError:
            self._factory = None
        self._own: list[Path] = []

    def make(self) -> Path:
        if self._factory is not None:
            return self._factory.mktemp("edgesim-server")
        import tempfile

        made = Path(tempfile.mkdtemp(prefix="edgesim-server-"))
        self._own.append(made)
        return made

    def close(self) -> None:
        import shutil

        for made in self._own:
            shutil.rmtree(made, ignore_errors=True)
        self._own.clear()


@_async_fixture
async def edgesim_server(
    request: pytest.FixtureRequest,
) -> AsyncIterator[Callable[..., Awaitable[EdgesimServer]]]:
    """Async factory: ``await edgesim_server(config, *, origin=None, base_dir=None)`` starts a
    real ``serve`` on free loopback ports and returns an :class:`EdgesimServer`.

    ``config`` is TOML text, a parsed TOML dict, or a ``pathlib.Path`` to ``edgesim.toml``.
    ``origin`` (a URL) goes where the config says ``{origin}``; else into the config's one
    ``[[origins]]`` table without a ``url``; else it becomes the one origin id the behaviours
    name but no ``[[origins]]`` defines (``[default_behavior] origin = "app"`` alone gets an
    origin ``"app"``); else, in a config that names no origin, an origin with id ``"origin"``
    (``INJECTED_ORIGIN_ID``). A config without ``[[origins]]`` also gets it as its default
    behaviour's origin when that names none. When there is no single such place (an origin with
    its own url, two undefined ids, two tables without a url), the call fails with a
    ``ValueError`` that says what to write.

    Relative paths in text or a dict are relative to ``base_dir`` (default: the rootdir), in a
    file to the file's directory. A function that fails to load fails the call. Servers are
    stopped after the test.

    Whatever ``[server]`` says, each server listens on free loopback ports, keeps KVS state in
    memory and writes files (the access log) only in its own temporary directory
    (``.state_dir``): tests in parallel, in one process or in pytest-xdist workers, share nothing.
    """
    from edgesim.app import EdgeServer
    from edgesim.errors import FunctionLoadError

    root = request.config.rootpath
    started: list[EdgesimServer] = []
    state_dirs = _StateDirs(request)

    async def start(
        config: str | os.PathLike[str] | Mapping[str, Any],
        *,
        origin: str | None = None,
        base_dir: str | os.PathLike[str] | None = None,
    ) -> EdgesimServer:
        base = root if base_dir is None else _resolve(root, base_dir)
        state_dir = state_dirs.make()
        dist = _distribution(config, origin, base, root, state_dir)
        kvs, clock = _kvs_for(dist)
        stream = io.StringIO()
        try:
            server = EdgeServer(dist, kvs=kvs, stream=stream)
        except BaseException:
            kvs.close()
            raise
        handle = EdgesimServer(server, kvs, clock, stream)
        started.append(handle)  # from here on, teardown stops it whatever happens
        errors = server.load_errors(strict_only=True)
        if errors:
            raise FunctionLoadError("edgesim_server: " + "\n".join(errors))
        await server.start(port=0, admin_port=0, https_port=0)
        return handle

    yield start
    try:
        for handle in reversed(started):
            try:
                await handle.server.stop()
            finally:
                handle.kvs.close()
    finally:
        state_dirs.close()
