"""Locate the JavaScript half of the shims (``runtime_shims/``) and wrap each file for loading.

Contract for every shim file ``runtime_shims/<name>.js``: it is evaluated once per QuickJS
context as the body of ``function (exports, shims) { "use strict"; ... }``. It puts what it offers
on ``exports`` and may use the exports of shims loaded before it through ``shims.<name>``
(for example ``shims.buffer.Buffer``). A shim never touches ``globalThis``: ``prelude.js``
decides which globals a runtime version exposes, so the same shim serves both
``cloudfront-js-1.0`` and ``-2.0``.

Platform limits are never written in JavaScript: ``shims.limits`` is a frozen object of the
figures the JavaScript half needs (:func:`js_limits`, taken from :mod:`edgesim.limits`), put in
the registry when the first shim of a context is loaded.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import orjson

from edgesim import limits

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def js_limits() -> dict[str, int]:
    """The limits the JavaScript half enforces, as ``shims.limits`` holds them."""
    return {
        # console.log output per invocation, in UTF-8 bytes (prelude.js).
        "logBytes": limits.FUNCTION_MAX_LOG_BYTES,
        # cf.logCustomData, in bytes once URL-encoded (prelude.js keeps only what can fit).
        "customLogBytes": limits.FUNCTION_MAX_CUSTOM_LOG_BYTES,
        # cf.cwt tokens, validated or generated (cwt.js).
        "cwtTokenBytes": limits.CWT_MAX_TOKEN_BYTES,
    }


def shim_dir() -> Path:
    """The shim folder: bundled inside the wheel, or the repository's ``runtime_shims/``."""
    bundled = _PACKAGE_DIR / "_runtime_shims"
    if bundled.is_dir():
        return bundled
    return _PACKAGE_DIR.parent / "runtime_shims"


@cache
def shim_source(name: str) -> str:
    path = shim_dir() / f"{name}.js"
    return path.read_text(encoding="utf-8")


def _new_registry() -> str:
    return f"{{limits: Object.freeze({orjson.dumps(js_limits()).decode()})}}"


def wrapped_shim(name: str) -> str:
    """JS text that loads shim ``name`` into ``globalThis.__edgesim_shims[name]``.

    The first shim loaded in a context creates the registry, with ``limits`` in it. The registry
    global is removed by the prelude before user code runs.
    """
    body = shim_source(name)
    return (
        "(function (shims) {\n"
        "  var exports = {};\n"
        f"  (function (exports, shims) {{ 'use strict';\n{body}\n}})(exports, shims);\n"
        f"  shims[{name!r}] = exports;\n"
        f"}})(globalThis.__edgesim_shims || (globalThis.__edgesim_shims = {_new_registry()}));\n"
    )
