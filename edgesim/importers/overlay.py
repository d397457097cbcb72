"""Where an imported distribution runs: the optional overlay TOML, ``--origin`` and ``--kvs``.

An imported distribution names the origins it is deployed with (``app.example.com``, an S3
bucket). Locally each origin a behaviour can reach must be mapped to a URL or a directory:

- ``[origins_local]`` in an overlay file (``--overlay edgesim.local.toml``) and
  ``--origin KEY=URL|DIR`` flags (flags win), keyed by origin id, by the origin's domain name, or
  by the construct path a front-end recorded in ``ImportBundle.origin_hints`` (CDK). Entries are
  checked by the same code as edgesim.toml's ``[origins_local]``
  (``edgesim.distribution.origins.local_origin``).
- An origin left unmapped is a start-up error listing every one, each with a ready-to-paste
  ``--origin ID=http://127.0.0.1:PORT`` flag: edgesim never guesses where an origin runs.

The overlay may also hold ``[server]``, ``[edges]``, ``[throttling]``, ``[cache]`` and ``[lambda]``
(how serve runs Lambda@Edge functions) tables, read by edgesim.toml's readers. Without
``ephemeral`` or ``state_dir`` in ``[server]``, an imported distribution keeps its KVS state in
memory (``serve --from`` writes nothing in the project).

``--kvs NAME=data.json`` seeds a store (or replaces the data the source gives) for every source.
"""

from __future__ import annotations

import os
import shlex
import shutil
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from edgesim.distribution.cache_settings import read_cache_settings
from edgesim.distribution.edges import read_edges
from edgesim.distribution.lambdas import read_lambda_settings
from edgesim.distribution.model import (
    CacheSettings,
    Distribution,
    Edges,
    LambdaSettings,
    LocalOrigin,
    Origin,
    ServerSettings,
    Throttling,
)
from edgesim.distribution.origins import local_key, local_origin
from edgesim.distribution.server import read_server
from edgesim.distribution.tables import Context, Problems, Table, key_part, section
from edgesim.distribution.throttling import read_throttling
from edgesim.errors import InputError
from edgesim.importers.bundle import ImportBundle, KvsSource

OVERLAY_KEYS = ("server", "origins_local", "edges", "throttling", "cache", "lambda")
PORT_PLACEHOLDER = "http://127.0.0.1:PORT"


@dataclass
class Overlay:
    """An overlay file, read (or the defaults when there is none)."""

    path: Path | None
    base_dir: Path
    server: ServerSettings
    edges: Edges
    throttling: Throttling
    cache: CacheSettings = field(default_factory=CacheSettings)
    lambda_settings: LambdaSettings = field(default_factory=LambdaSettings)  # [lambda]
    origins_local: Mapping[str, Any] = field(default_factory=dict)  # as written, checked later


def read_overlay(path: Path | None, *, base_dir: Path | None = None) -> Overlay:
    """Read ``path`` (relative paths in it are relative to its directory); without a path, the
    defaults with ``base_dir`` (default: the working directory) for relative paths."""
    if path is None:
        return _settings(None, {}, base_dir or Path.cwd(), Problems("overlay"))
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"--overlay {path}: cannot read it: {exc.strerror}") from None
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: not UTF-8 (byte {exc.start}); TOML files are UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: invalid TOML: {exc}") from None
    problems = Problems(source)
    Table(problems, "", doc, OVERLAY_KEYS)
    overlay = _settings(path, doc, Path(os.path.abspath(path)).parent, problems)
    problems.raise_if_any()
    return overlay


def _settings(
    path: Path | None, doc: Mapping[str, Any], base_dir: Path, problems: Problems
) -> Overlay:
    ctx = Context(problems, base_dir)
    server_table = section(problems, doc, "server")
    server = read_server(ctx, server_table)
    if "ephemeral" not in server_table and "state_dir" not in server_table:
        server = replace(server, ephemeral=True)
    return Overlay(
        path=path,
        base_dir=base_dir,
        server=server,
        edges=read_edges(ctx, section(problems, doc, "edges")),
        throttling=read_throttling(ctx, section(problems, doc, "throttling")),
        cache=read_cache_settings(ctx, section(problems, doc, "cache")),
        lambda_settings=read_lambda_settings(ctx, section(problems, doc, "lambda")),
        origins_local=section(problems, doc, "origins_local"),
    )


# --------------------------------------------------------------------------------------------
# Origins
# --------------------------------------------------------------------------------------------


def map_origins(
    dist: Distribution,
    *,
    overlay: Overlay | None = None,
    flags: Sequence[str] = (),
    hints: Mapping[str, str] | None = None,
    base_dir: Path | None = None,
    workdir: Path | None = None,
) -> Distribution:
    """``dist`` with the overlay's ``[origins_local]`` and the ``--origin`` flags (relative to
    ``base_dir``, default the working directory) added to ``origins_local``. Keys may be origin
    ids, domain names or the construct paths in ``hints`` (``<origin id>`` → path).

    An origin still unmapped whose bucket a CDK ``BucketDeployment`` fills (the hints
    ``content:<origin id>`` and ``content-prefix:<origin id>``) is mapped to that content, as
    cdk-local does: to the directory itself when there is one without a key prefix, else to a
    tree of links laid out as the bucket under ``workdir`` (later deployments win)."""
    hints = hints or {}
    by_hint = {hint: key for key, hint in hints.items() if hint and key in dist.origins}
    local = dict(dist.origins_local)
    problems: list[str] = []
    if overlay is not None and overlay.origins_local:
        for key, value in overlay.origins_local.items():
            where = f"{overlay.path}: origins_local.{key_part(key)}"
            _add(dist, local, by_hint, key, value, overlay.base_dir, where, problems)
    cwd = base_dir or Path.cwd()
    for item in flags:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            problems.append(
                f"--origin {item!r}: expected ID_OR_DOMAIN=URL|DIR, e.g. app=http://127.0.0.1:3000"
            )
            continue
        _add(dist, local, by_hint, key, value, cwd, f"--origin {item}", problems)
    if problems:
        raise InputError("\n".join(problems))
    mapped = replace(dist, origins_local=local)
    notes = list(dist.notes)
    for origin in dist.origins.values():
        content = hints.get(f"content:{origin.id}")
        if not content or is_mapped(mapped, origin):
            continue
        directory = _deployed_content(origin.id, content, hints, workdir, notes)
        if directory is not None:
            local[origin.id] = LocalOrigin(key=origin.id, directory=directory)
    return replace(dist, origins_local=local, notes=tuple(notes))


def _deployed_content(
    origin_id: str,
    content: str,
    hints: Mapping[str, str],
    workdir: Path | None,
    notes: list[str],
) -> Path | None:
    sources = [Path(p) for p in content.split(os.pathsep) if p]
    raw_prefixes = hints.get(f"content-prefix:{origin_id}", "")
    prefixes = raw_prefixes.split(os.pathsep) if raw_prefixes else [""] * len(sources)
    if len(prefixes) != len(sources):
        prefixes = [""] * len(sources)
    if any(not path.is_dir() for path in sources):
        notes.append(
            "accepted, not emulated: a BucketDeployment that copies a zip file as it is "
            f"(extract: false) into the bucket of origin {origin_id}: map the origin with "
            "--origin yourself"
        )
        return None
    if len(sources) == 1 and not prefixes[0].strip("/"):
        return sources[0].absolute()
    if workdir is None:
        notes.append(
            f"accepted, not emulated: the BucketDeployment content of origin {origin_id} "
            "(several sources or a key prefix): map the origin with --origin yourself"
        )
        return None
    return _link_tree(workdir / "buckets" / _safe(origin_id), sources, prefixes)


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name) or "origin"


def _link_tree(root: Path, sources: Sequence[Path], prefixes: Sequence[str]) -> Path:
    """A directory laid out as the bucket: each file of each source linked under its prefix,
    a later source replacing an earlier one's file (as later deployments overwrite)."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for source, prefix in zip(sources, prefixes, strict=True):
        base = root / prefix.strip("/") if prefix.strip("/") else root
        for path in sorted(source.rglob("*")):
            if not path.is_file():
                continue
            target = base / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink() or target.exists():
                target.unlink()
            target.symlink_to(path.absolute())
    return root


def _add(
    dist: Distribution,
    local: dict[str, LocalOrigin],
    by_hint: Mapping[str, str],
    key: str,
    value: object,
    base_dir: Path,
    where: str,
    problems: list[str],
) -> None:
    origin_key = by_hint.get(key, key)
    try:
        entry = local_origin(
            origin_key, value, base_dir=base_dir, origins=dist.origins, groups=dist.origin_groups
        )
    except InputError as exc:
        hint_list = f"; construct paths: {', '.join(sorted(by_hint))}" if by_hint else ""
        problems.append(f"{where}: {exc}{hint_list if 'neither an origin id' in str(exc) else ''}")
        return
    local[local_key(origin_key, dist.origins)] = entry


def reachable_origins(dist: Distribution) -> list[Origin]:
    """The origins some behaviour can send a request to (directly or through a group), in the
    distribution's order."""
    targets = {b.origin for b in dist.all_behaviors()}
    wanted: set[str] = set()
    for target in targets:
        group = dist.origin_groups.get(target)
        if group is not None:
            wanted |= {group.primary, group.secondary}
        else:
            wanted.add(target)
    return [origin for origin_id, origin in dist.origins.items() if origin_id in wanted]


def is_mapped(dist: Distribution, origin: Origin) -> bool:
    host = (urlsplit(origin.url).hostname or "").lower().rstrip(".")
    return origin.id in dist.origins_local or host in dist.origins_local


def unmapped_origins(dist: Distribution) -> list[Origin]:
    return [o for o in reachable_origins(dist) if not is_mapped(dist, o)]


def origin_flag(origin: Origin) -> str:
    """The ``--origin`` flag to paste for ``origin``, with a placeholder port: keyed by the
    origin's id, or by its domain name when the id holds a ``=``."""
    key = origin.id
    if "=" in key:
        key = urlsplit(origin.url).hostname or key
    return "--origin " + shlex.quote(f"{key}={PORT_PLACEHOLDER}")


def require_mapped(dist: Distribution, *, hints: Mapping[str, str] | None = None) -> None:
    """Raise InputError listing every origin a behaviour can reach that is not mapped."""
    missing = unmapped_origins(dist)
    if not missing:
        return
    width = max(len(origin_flag(o)) for o in missing)
    lines = [
        f"{len(missing)} origin{'s' if len(missing) > 1 else ''} of the imported distribution "
        f"{'are' if len(missing) > 1 else 'is'} not mapped to a local URL or directory; run "
        "your origin locally and add, with its port:"
    ]
    for origin in missing:
        what = urlsplit(origin.url).hostname or origin.url
        extra = ", an S3 origin: or a directory, --origin ID=./dir" if origin.s3 else ""
        hint = (hints or {}).get(origin.id)
        via = f", {hint}" if hint else ""
        lines.append(f"  {origin_flag(origin):<{width}}   # {what}{via}{extra}")
    lines.append(
        "(or the same keys in [origins_local] of an overlay file: --overlay edgesim.local.toml; "
        "keys may be origin ids, domain names or construct paths)"
    )
    raise InputError("\n".join(lines))


# --------------------------------------------------------------------------------------------
# --kvs
# --------------------------------------------------------------------------------------------


def apply_kvs_flags(bundle: ImportBundle, items: Sequence[str], *, base_dir: Path) -> None:
    """``--kvs NAME=data.json``: seed the store ``NAME`` from a KVS import file (replacing the
    data or keys the source gives)."""
    problems: list[str] = []
    for item in items:
        name, sep, file = item.partition("=")
        name, file = name.strip(), file.strip()
        if not sep or not name or not file:
            problems.append(f"--kvs {item!r}: expected NAME=DATA.json (a KVS import file)")
            continue
        if name not in bundle.kvs:
            known = ", ".join(sorted(bundle.kvs)) or "none"
            problems.append(
                f"--kvs {item}: the import has no key value store {name!r} (stores: {known}); "
                "a DistributionConfig source gets its stores from --function NAME=…,kvs=STORE"
            )
            continue
        path = base_dir / file
        if not path.is_file():
            found = "is a directory" if path.is_dir() else "does not exist"
            problems.append(f"--kvs {item}: {path} {found}")
            continue
        path = Path(os.path.abspath(path))
        bundle.kvs[name] = KvsSource(name=name, data=path, where=f"--kvs {item}")
        bundle.where[f"kvs.{name}"] = f"--kvs {item}"
        bundle.sources.append(path)
    if problems:
        raise InputError("\n".join(problems))
