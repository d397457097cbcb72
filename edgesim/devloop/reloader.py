"""Hot reload: watch the config, function files and KVS seed files, and apply changes live.

A function that no longer compiles keeps the last good version serving; an invalid config keeps
the running one; a changed seed file goes through the normal KVS write path (so propagation lag
applies). An imported distribution (``serve --from``) is watched through its
``Distribution.sources`` (template, .tf files, assets, function and KVS files given by flags, the
overlay): any change re-imports it with the same arguments, and a source that no longer imports
keeps the last good distribution. A function with a ``build`` is watched through its ``watch``
globs instead of its file: a change runs the build (``edgesim.build.serve``), and a build that
passes reloads the function (a Lambda@Edge function with a ``build`` alike). Uses watchfiles
(Rust notify backend) rather than polling ourselves.
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
    # A built function's file is the build's to write: its watch globs trigger the build, and
    # a build that passes reloads it (edgesim.build.serve).
    files = {decl.file.resolve() for decl in dist.functions.values() if decl.build is None}
    files |= {decl.data.resolve() for decl in dist.kvs.values() if decl.data is not None}
    # A Lambda@Edge function given as one file (a package directory or a .zip: restart).
    files |= {
        decl.file.resolve()
        for decl in dist.lambdas.values()
        if decl.build is None and decl.file.is_file()
    }
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
    server.reload_lambda_file(path)
    server.reload_seed_file(path)


def _reload_built(server: EdgeServer) -> Callable[[Path], object]:
    """What a build that passes calls for each file it wrote: it reloads the function, or the
    Lambda@Edge function (whose file may be a package directory), built into that file."""

    def reload(path: Path) -> bool:
        return server.reload_function_file(path) or server.reload_lambda_file(path)

    return reload


async def watch(
    server: EdgeServer,
    *,
    stop: asyncio.Event | None = None,
    on_applied: Callable[[Path], None] | None = None,
    overrides: Overrides | None = None,
    reimport: Reimport | None = None,
) -> None:
    """Run until ``stop`` is set (or cancelled)."""
    try:
        while stop is None or not stop.is_set():
            files = watched_files(server)
            roots = server.builds.roots()
            folders = sorted({str(f.parent) for f in files} | {str(r) for r in roots})
            async for changes in awatch(*folders, stop_event=stop, debounce=50, step=20):
                # watchfiles reports absolute paths; resolve() only normalises symlinks (cheap).
                changed = {Path(p).resolve() for _, p in changes}  # noqa: ASYNC240
                touched = changed & files
                for path in sorted(touched):
                    apply_change(server, path, overrides, reimport)
                    if on_applied is not None:
                        on_applied(path)
                if server.builds:
                    # Sources of built functions: their builds run (debounced, one at a time) and
                    # reload the functions they rebuild.
                    server.builds.changed(
                        changed - touched, _reload_built(server), server.say, server.say_error
                    )
                if watched_files(server) != files or server.builds.roots() != roots:
                    break  # the config changed which files matter: watch the new set
            else:
                return
    finally:
        server.builds.cancel()  # a build still running would reload a server being stopped
