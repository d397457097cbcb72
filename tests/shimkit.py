"""Test helper: a bare QuickJS context with some shims loaded, for testing a shim on its own."""

from __future__ import annotations

from typing import Any

import quickjs

from edgesim.runtime.shims import wrapped_shim


def shim_context(*names: str) -> quickjs.Context:
    """A fresh context where ``__edgesim_shims.<name>`` holds each named shim's exports.

    ``intrinsics``, which every other shim builds on, is loaded first unless it is named.
    """
    ctx = quickjs.Context()
    if "intrinsics" not in names:
        names = ("intrinsics", *names)
    for name in names:
        ctx.eval(wrapped_shim(name))
    return ctx


def js_json(ctx: quickjs.Context, expression: str) -> Any:
    """Evaluate ``expression`` and return it through JSON (for comparing with Python values)."""
    import json

    return json.loads(ctx.eval(f"JSON.stringify({expression})"))
