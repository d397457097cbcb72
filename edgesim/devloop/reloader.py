"""Hot reload: watch the config, function files and KVS seed files, and apply changes live.

A function that no longer compiles keeps the last good version serving; an invalid config keeps
the running one; a changed seed file goes through the normal KVS write path (so propagation lag
applies). An imported distribution (``serve --from``) is watched through its
``Distribution.sources`` (template, .tf files, assets, function and KVS files given by flags, the
overlay): any change re-imports it with the same arguments, and a source that no longer imports
keeps the last good distribution. Uses watchfiles (Rust notify backend) rather than polling
ourselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from watchfiles import awatch

from edgesim.distribution.config import load_config
from edgesim.distribution.model import Distribution
from edgesim.errors import EdgesimError

if TYPE_CHECKING:
    from edgesim.app import EdgeServer


def watched_files(server: EdgeServer) -> set[Path]:
    dist = server.dist
    if dist.sources:
        # Imported: the source files are what the user edits. Function code and KVS data held
        # inline in the source are written by the import itself: watching them would report
        # the import's own writes.
        return {path.resolve() for path in dist.sources}
    files = {decl.file.resolve() for decl in dist.functions.values()}
    files |= {decl.data.resolve() for decl in dist.kvs.values() if decl.data is not None}
    if dist.config_path is not None:
        files.add(dist.config_path.resolve())
    return files


Overrides = Callable[[Distribution], Distribution]
Reimport = Callable[[], Distribution]


def apply_change(
    server: EdgeServer,
    path: Path,
    overrides: Overrides | None = None,
    reimport: Reimport | None = None,
) -> None:
    """React to one changed file. ``overrides`` re-applies what the command line set on top of
    the config (``serve --origin``, ``--no-throttle``, ``--port``…), so a reload keeps them.
    ``reimport`` imports ``serve --from``'s source again, with the same arguments."""
    dist = server.dist
    if reimport is not None and path in {p.resolve() for p in dist.sources}:
        try:
            new = reimport()
            if overrides is not None:
                new = overrides(new)
        except EdgesimError as exc:
            server.say(
                f"{path} changed but does not import, still serving the previous distribution:"
                f"\n{exc}"
            )
            return
        server.reload_config(new)
        return
    if dist.config_path is not None and path == dist.config_path.resolve():
        try:
            new = load_config(dist.config_path)
            if overrides is not None:
                new = overrides(new)
        except EdgesimError as exc:
            server.say(f"config not reloaded, still serving the previous one: {exc}")
            return
        server.reload_config(new)
        return
    server.reload_function_file(path)
    server.reload_seed_file(path)


async def watch(
    server: EdgeServer,
    *,
    stop: asyncio.Event | None = None,
    on_applied: Callable[[Path], None] | None = None,
    overrides: Overrides | None = None,
    reimport: Reimport | None = None,
) -> None:
    """Run until ``stop`` is set (or cancelled)."""
    while stop is None or not stop.is_set():
        files = watched_files(server)
        folders = sorted({str(f.parent) for f in files})
        async for changes in awatch(*folders, stop_event=stop, debounce=50, step=20):
            # watchfiles reports absolute paths; resolve() only normalises symlinks (cheap).
            touched = {Path(p).resolve() for _, p in changes} & files  # noqa: ASYNC240
            for path in sorted(touched):
                apply_change(server, path, overrides, reimport)
                if on_applied is not None:
                    on_applied(path)
            if watched_files(server) != files:
                break  # the config changed which files matter: watch the new set
        else:
            return
