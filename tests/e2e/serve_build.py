"""What the tests of serve with built code (functions and Lambda@Edge) share: the version the
origin saw, waiting for a version or a failed build, the file watcher around a test, and a
serve whose first build fails."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from edgesim.app import EdgeServer
from edgesim.devloop.reloader import watch
from edgesim.distribution.config import load_config
from edgesim.errors import FunctionLoadError
from tests.e2e.conftest import Edge

SERVER_KEYS = "[server]\nport = 0\nadmin_port = 0\nhttps = false\nephemeral = true\n"


async def version(edge: Edge) -> str | None:
    """The ``x-version`` header the code added to the request the origin got (None: none)."""
    status, _, _ = await edge.get("/")
    assert status == 200
    value = edge.origin.seen[-1]["headers"].get("x-version")
    return None if value is None else str(value)


async def until(edge: Edge, wanted: str, timeout_s: float = 15.0) -> None:
    """Waits until ``wanted`` is the version serving."""
    deadline = time.monotonic() + timeout_s
    while (seen := await version(edge)) != wanted:
        assert time.monotonic() < deadline, f"still serving version {seen}, waited for {wanted}"
        await asyncio.sleep(0.1)


async def until_build_failed(edge: Edge, timeout_s: float = 15.0) -> None:
    """Waits until the (first) build has failed."""
    deadline = time.monotonic() + timeout_s
    while edge.server.builds.status()[0]["ok"] is not False:
        assert time.monotonic() < deadline, "the failing build never finished"
        await asyncio.sleep(0.1)


@asynccontextmanager
async def watching(edge: Edge) -> AsyncIterator[None]:
    """serve's file watcher, set up, for the duration; stopped after."""
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch(edge.server, stop=stop))
    try:
        await asyncio.sleep(0.5)  # the watcher is set up
        yield
    finally:
        stop.set()
        await asyncio.wait_for(watcher, 10)


async def refused_start(folder: Path, toml: str) -> tuple[FunctionLoadError, str]:
    """Starts serve on ``toml`` (``{origin}``: a closed port) in ``folder``, which must fail
    because its first build fails: the error and the console."""
    config = folder / "edgesim.toml"
    config.write_text(SERVER_KEYS + toml.replace("{origin}", "http://127.0.0.1:9"))
    stream = io.StringIO()
    server = EdgeServer(load_config(config), stream=stream)
    try:
        with pytest.raises(FunctionLoadError, match=r"not serving: the build failed") as failed:
            await server.start()
    finally:
        await server.stop()
    return failed.value, stream.getvalue()
