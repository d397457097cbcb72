"""Shared helpers: write a function's source to a file and run it in a pool of real Node.js
workers (tests that need Node are skipped, saying so, where it is missing)."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from edgesim.lambda_edge.function import LambdaEdgeFunction
from edgesim.lambda_edge.spec import LambdaSpec

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(
    NODE is None, reason="Lambda@Edge functions run in Node.js workers; node is not on PATH"
)

Source = Callable[..., Path]


@pytest.fixture
def source(tmp_path: Path) -> Source:
    """``source(js, name="fn.js")``: the file holding ``js`` (dedented)."""

    def write(js: str, name: str = "fn.js") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(js), encoding="utf-8")
        return path

    return write


@pytest.fixture
async def functions() -> AsyncIterator[Callable[..., LambdaEdgeFunction]]:
    """``functions(path, **spec_and_pool_options)``: a LambdaEdgeFunction closed after the test."""
    made: list[LambdaEdgeFunction] = []
    pool_keys = {"max_workers", "max_queue", "idle_s", "timeout_error"}

    def make(path: Path, **options: object) -> LambdaEdgeFunction:
        pool_options = {k: v for k, v in options.items() if k in pool_keys}
        spec_options = {k: v for k, v in options.items() if k not in pool_keys}
        spec_options.setdefault("name", "fn")
        fn = LambdaEdgeFunction(LambdaSpec(path=path, **spec_options), **pool_options)  # type: ignore[arg-type]
        made.append(fn)
        return fn

    yield make
    for fn in made:
        await fn.close()
