"""Loading the JavaScript half: the shim files, the registry they fill, and the limits they get."""

from __future__ import annotations

import json

import pytest
import quickjs

from edgesim import limits
from edgesim.runtime.engine import SHIMS_BY_RUNTIME
from edgesim.runtime.shims import js_limits, shim_dir, wrapped_shim
from tests.unit.runtime.helpers import NOW, load, request_event

ALL_SHIMS = sorted({name for names in SHIMS_BY_RUNTIME.values() for name in names})


def globals_of(ctx: quickjs.Context) -> set[str]:
    return set(json.loads(ctx.eval("JSON.stringify(Object.getOwnPropertyNames(globalThis))")))


def test_every_shim_the_engine_loads_is_in_the_shim_folder() -> None:
    for name in [*ALL_SHIMS, "prelude"]:
        assert (shim_dir() / f"{name}.js").is_file(), name


def test_shims_fill_the_registry_and_add_no_other_global() -> None:
    ctx = quickjs.Context()
    before = globals_of(ctx)
    for name in SHIMS_BY_RUNTIME[limits.RUNTIME_JS_1]:  # the longer list
        ctx.eval(wrapped_shim(name))
    assert globals_of(ctx) - before == {"__edgesim_shims"}
    names = set(json.loads(ctx.eval("JSON.stringify(Object.keys(__edgesim_shims))")))
    assert names == {*SHIMS_BY_RUNTIME[limits.RUNTIME_JS_1], "limits"}
    assert ctx.eval("typeof __edgesim_shims.buffer.Buffer") == "function"


def test_the_registry_carries_the_limits_from_edgesim_limits() -> None:
    ctx = quickjs.Context()
    ctx.eval(wrapped_shim("intrinsics"))
    assert json.loads(ctx.eval("JSON.stringify(__edgesim_shims.limits)")) == js_limits()
    assert ctx.eval("Object.isFrozen(__edgesim_shims.limits)") is True
    assert js_limits() == {
        "logBytes": limits.FUNCTION_MAX_LOG_BYTES,
        "customLogBytes": limits.FUNCTION_MAX_CUSTOM_LOG_BYTES,
        "cwtTokenBytes": limits.CWT_MAX_TOKEN_BYTES,
    }


@pytest.mark.parametrize("cap", [100, 300])
def test_the_console_log_cap_comes_from_python(monkeypatch: pytest.MonkeyPatch, cap: int) -> None:
    monkeypatch.setattr(limits, "FUNCTION_MAX_LOG_BYTES", cap)
    fn = load("function handler(e) { console.log('x'.repeat(1000)); return e.request; }")
    assert fn.invoke(request_event(), now=NOW).logs == ["x" * cap]


def test_the_custom_log_cap_comes_from_python(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "FUNCTION_MAX_CUSTOM_LOG_BYTES", 10)
    code = (
        "import cf from 'cloudfront';\n"
        "function handler(e) { cf.logCustomData('y'.repeat(50)); return e.request; }"
    )
    assert load(code).invoke(request_event(), now=NOW).custom_log_data == "y" * 10


def test_the_cwt_token_limit_comes_from_python(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "CWT_MAX_TOKEN_BYTES", 40)
    code = (
        "import cf from 'cloudfront';\n"
        "function handler(e) { var out;"
        " try { cf.cwt.generateToken({payload: {1: 'x'.repeat(50)}}, {coseTag: 'MAC0', key: 'k'});"
        " out = 'made'; } catch (err) { out = err.message; }"
        " e.request.headers.out = {value: out}; return e.request; }"
    )
    out = load(code).invoke(request_event(), now=NOW).request["headers"]["out"]["value"]
    assert "over the 40-byte" in out
