"""Isolation between invocations: nothing user code does to shared objects reaches the next run.

Each loaded function keeps one QuickJS context (a new one per request would cost milliseconds), so
these tests run a function twice on the same ``LoadedFunction`` and check that the second run sees
pristine built-ins, and that code which leaves nothing behind keeps its context
(``sessions_built == 1``).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgesim.runtime.function import BudgetPolicy
from tests.unit.runtime.helpers import NOW, load, request_event


def seen(fn, event=None) -> str:  # type: ignore[no-untyped-def]
    result = fn.invoke(event or request_event(), now=NOW, seed=7)
    assert result.error is None, result.error
    return str(result.request["headers"]["seen"]["value"])


# Each case: (what the first run does, an expression the next run reports). The probe is run
# before the change, so both runs must report the same text.
LEAKS = [
    ("JSON.parse = function () { return 'patched'; };", "String(JSON.parse('1'))"),
    ("Math.random = function () { return 42; };", "String(Math.random() === 42)"),
    ("delete Math.max;", "typeof Math.max"),
    ("var AP = Array.prototype; AP.map = function () { return 'patched'; };", "String([1].map(String))"),
    ("Object.getPrototypeOf('').trim = function () { return 'patched'; };", "' x '.trim()"),
    (
        "var h = require('crypto').createHash('sha1'); try { Object.getPrototypeOf(h).digest = function () { return 'patched'; }; } catch (x) {}",
        "require('crypto').createHash('sha1').update('a').digest('hex')",
    ),
    ("Buffer.from = function () { return 'patched'; };", "String(Buffer.from('a'))"),
    (
        "try { require('querystring').parse.store = 'secret'; } catch (x) {}",
        "String(require('querystring').parse.store)",
    ),
    (
        "var secret = e.request.uri; console.log = function () { throw new Error('leaked ' + secret); };",
        "String(console.log('fine'))",
    ),
    ("Object.preventExtensions(globalThis);", "String(Object.isExtensible(globalThis))"),
    ("globalThis.leak = 1; Math.leaked = 1;", "typeof globalThis.leak + typeof Math.leaked"),
    (
        "Object.defineProperty(Array.prototype, 'shout', {value: 1, configurable: true});",
        "typeof [].shout",
    ),
    ("Object.defineProperty(Math, 'max', {get: function () { return 1; }});", "typeof Math.max"),
    ("try { Math.max.cache = 'secret'; } catch (x) {}", "String(Math.max.cache)"),
    ("Object.setPrototypeOf(Math, null);", "String(Object.getPrototypeOf(Math) === Object.prototype)"),
    ("Math.__proto__ = null;", "String(Object.getPrototypeOf(Math) === Object.prototype)"),
    ("Object.freeze(Array.prototype);", "String(Object.isFrozen(Array.prototype))"),
    ("Array.prototype.length = 3;", "String([].length + Array.prototype.length)"),
    ("Array.prototype[Symbol.iterator] = function () { return 'x'; };", "String([...[1, 2]])"),
    ("Array.prototype[Symbol.for('k')] = 'secret';", "String([][Symbol.for('k')])"),
    ("Error.captureStackTrace(Math);", "typeof Math.stack"),
    ("Object.prototype.__defineGetter__.call(Math, 'max', function () { return 3; });", "typeof Math.max"),
    ("try { Object.defineProperty(Math, 'PI', {value: 3}); } catch (x) {}", "String(Math.PI)"),
    ("try { delete RegExp.prototype.flags; } catch (x) {}", "typeof /x/g.flags"),
    ("Date.now = function () { return 1; };", "String(Date.now())"),
    ("String.prototype.padStart = undefined;", "typeof ''.padStart"),
    ("globalThis.JSON = {};", "typeof JSON.stringify"),
    ("var It = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())); try { It.leak = 1; } catch (x) {}", "typeof [][Symbol.iterator]().leak"),
    ("try { Object.getPrototypeOf(function* () {}).leak = 1; } catch (x) {}", "typeof Object.getPrototypeOf(function* () {}).leak"),
    ("Error.prototype.name = 'Leaked';", "new Error('x').name"),
    ("var k = 'ran' + 'dom'; Math[k] = function () { return 42; };", "String(Math.random() === 42)"),
    ("Array.from.call(function () { return Array.prototype; }, {length: 3});", "String(Array.prototype.length)"),
    ("Object.assign(Math, JSON.parse('{\"random\": 1}'));", "typeof Math.random"),
    ("class A { constructor() { return Math; } }\n class B extends A { random = 5; }\n new B();", "typeof Math.random"),
    ("Array.prototype.push.call(Math, 1);", "String(Math.length) + Math[0]"),
    ("Error.stackTraceLimit = 0;", "String(Error.stackTraceLimit)"),
    ("Error.prepareStackTrace = function () { return 'patched'; };", "String(new Error('x').stack).slice(0, 7)"),
    ("delete Symbol.prototype.description;", "typeof Symbol('d').description"),
    ("Object.defineProperty(RegExp.prototype, 'flags', {get: function () { return 'z'; }, configurable: true});", "/x/g.flags"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "probe"), LEAKS)
def test_changes_to_shared_objects_do_not_reach_the_next_invocation(
    change: str, probe: str
) -> None:
    fn = load(
        "function handler(e) { var s = " + probe + "; " + change + "\n"
        " e.request.headers.seen = {value: s}; return e.request; }"
    )
    first = seen(fn)
    assert seen(fn) == first
    assert seen(fn) == first


# What user code may do to the cloudfront module: its object, cf.cwt and each cf.kvs() handle are
# new in every invocation; the functions they hold are shared by every invocation and frozen.
CF_CHANGES = [
    "cf.extra = e.request.uri;",
    "cf.kvs = null;",
    "delete cf.logCustomData;",
    "cf.cwt.validateToken = null;",
    "cf.cwt = 1;",
    "try { cf.kvs.cache = e.request.uri; } catch (x) { console.log(x.name); }",
    "try { cf.kvs().get.cache = 1; } catch (x) { console.log(x.name); }",
    "var h = cf.kvs(); h.get = null; h.extra = 1;",
    "try { Object.getOwnPropertyDescriptor(cf, 'edgeLocation').get.x = 1; } catch (x) {}",
    "try { cf.updateRequestOrigin.prototype.x = 1; } catch (x) { console.log(x.name); }",
]
CF_PROBE = (
    "[Object.keys(cf).join(), typeof cf.extra, typeof cf.kvs, typeof cf.cwt.validateToken,"
    " Object.keys(cf.kvs()).join(), typeof cf.kvs().extra, typeof cf.kvs.cache,"
    " typeof cf.kvs().get.cache, typeof cf.updateRequestOrigin.prototype.x,"
    " cf.kvs() === cf.kvs(), require('cloudfront') === cf].join(' ')"
)


def _cf_function(changes: list[str]) -> str:
    """A function that reports the module as it finds it, then makes change number
    ``x-change`` of ``changes``."""
    cases = "".join(f" case '{i}': {change} break;" for i, change in enumerate(changes))
    return (
        "import cf from 'cloudfront';\n"
        "function handler(e) { var s = " + CF_PROBE + ";"
        " switch (e.request.headers['x-change'].value) {" + cases + " }"
        " e.request.headers.seen = {value: s}; return e.request; }"
    )


@settings(max_examples=12, deadline=None)
@given(st.lists(st.integers(0, len(CF_CHANGES) - 1), min_size=1, max_size=5))
def test_what_one_invocation_does_to_the_cloudfront_module_never_reaches_the_next(
    order: list[int],
) -> None:
    # Invocations on one context report what a new context reports, whatever came before.
    code = _cf_function(CF_CHANGES)
    reused = load(code, kvs={"k": "v"})
    for change in order:
        event = request_event(headers={"x-change": str(change)})
        again = reused.invoke(event, now=NOW, seed=7)
        fresh = load(code, kvs={"k": "v"}).invoke(event, now=NOW, seed=7)
        assert again.error is None, again.error
        assert fresh.error is None, fresh.error
        assert again.request == fresh.request
        assert again.logs == fresh.logs
    assert reused.sessions_built == 1


def test_the_cloudfront_modules_functions_are_frozen_and_its_objects_are_new_each_time() -> None:
    fn = load(_cf_function(CF_CHANGES), kvs={"k": "v"})
    event = request_event(headers={"x-change": "5"})
    result = fn.invoke(event, now=NOW, seed=7)
    assert result.logs == ["TypeError"]
    assert seen(fn, event) == (
        "kvs,updateRequestOrigin,selectRequestOriginById,createRequestOriginGroup,logCustomData,"
        "edgeLocation,distributionTenant,cwt undefined function function get,exists,meta undefined"
        " undefined undefined undefined false true"
    )


def test_a_callback_closing_over_the_previous_request_cannot_run_later() -> None:
    code = (
        "function handler(e) { console.log('run ' + e.request.uri);"
        " var secret = e.request.uri;"
        " console.log = function () { throw new Error('leaked ' + secret); };"
        " return e.request; }"
    )
    fn = load(code)
    first = fn.invoke(request_event("/first"), now=NOW)
    second = fn.invoke(request_event("/second"), now=NOW)
    assert first.error is None, first.error
    assert second.error is None, second.error
    assert second.logs == ["run /second"]


def test_module_objects_are_frozen() -> None:
    code = (
        "const qs = require('querystring'); const crypto = require('crypto');\n"
        "function handler(e) { e.request.headers.seen = {value: [Object.isFrozen(qs),"
        " Object.isFrozen(qs.parse), Object.isFrozen(crypto), Object.isFrozen(crypto.createHash),"
        " Object.isFrozen(Object.getPrototypeOf(crypto.createHash('md5')))].join()};"
        " return e.request; }"
    )
    assert seen(load(code)) == "true,true,true,true,true"


@pytest.mark.parametrize(
    "code",
    [
        # Mentions of prototype machinery in comments and strings, and defineProperty on the
        # function's own objects, used to give every invocation a new context.
        "// Object.defineProperty(Array.prototype, 'x', {})\n"
        "function handler(e) { e.request.headers.seen = {value: 'Array.prototype.x = 1; __proto__'}; return e.request; }",
        "function handler(e) { var o = {}; Object.defineProperty(o, 'x', {value: 1, enumerable: true});"
        " Object.defineProperties(o, {y: {value: 2}}); Object.setPrototypeOf(o, null);"
        " Object.freeze(o); e.request.headers.seen = {value: String(o.x + o.y)}; return e.request; }",
        "function handler(e) { var a = []; Array.prototype.push.apply(a, [1, 2]);"
        " e.request.headers.seen = {value: String(a.length)}; return e.request; }",
        "class Err extends Error { constructor(m) { super(m); this.name = 'Err'; } }\n"
        "function handler(e) { var x = new Err('m'); x.message = 'n'; var d = new Date(0); d.toJSON = null;"
        " e.request.headers.seen = {value: x.name + x.message}; return e.request; }",
        "import crypto from 'crypto';\nimport cf from 'cloudfront';\n"
        "function handler(e) { var h = crypto.createHmac('sha256', 'k').update('x').digest('hex');"
        " e.request.headers.seen = {value: h.slice(0, 4) + JSON.stringify(cf.edgeLocation).length};"
        " return e.request; }",
    ],
)
def test_code_that_leaves_nothing_behind_keeps_its_context(code: str) -> None:
    fn = load(code)
    values = {seen(fn) for _ in range(4)}
    assert len(values) == 1
    assert fn.sessions_built == 1


def test_a_polyfill_works_on_every_invocation() -> None:
    code = (
        "if (!Array.prototype.flat) { Array.prototype.flat = function () {"
        " return this.reduce(function (a, b) { return a.concat(b); }, []); }; }\n"
        "function handler(e) { e.request.headers.seen = {value: String([[1], [2]].flat())};"
        " return e.request; }"
    )
    fn = load(code)
    assert [seen(fn) for _ in range(3)] == ["1,2", "1,2", "1,2"]


def test_generator_function_constructors_are_blocked() -> None:
    for expression in (
        "Object.getPrototypeOf(function* () {}).constructor('yield 40 + 2')().next().value",
        "Object.getPrototypeOf(async function* () {}).constructor('yield 1')",
        "Object.getPrototypeOf(async function () {}).constructor('return 1')",
    ):
        code = f"function handler(e) {{ var v = {expression}; return e.request; }}"
        result = load(code).invoke(request_event(), now=NOW)
        assert result.error is not None, expression
        assert "Not implemented" in result.error.message


def test_jobs_queued_by_a_sync_handler_do_not_run_in_the_next_invocation() -> None:
    code = (
        "function handler(e) { var uri = e.request.uri;"
        " Promise.resolve().then(function () { console.log('late ' + uri); });"
        " return e.request; }"
    )
    fn = load(code)
    first = fn.invoke(request_event("/a"), now=NOW)
    second = fn.invoke(request_event("/b"), now=NOW)
    assert first.logs == ["late /a"]
    assert second.logs == ["late /b"]


def test_an_endless_then_chain_from_a_sync_handler_is_stopped_in_its_own_invocation() -> None:
    code = (
        "function handler(e) { if (e.request.uri === '/spin') {"
        " (function loop() { Promise.resolve().then(loop); })(); }"
        " return e.request; }"
    )
    budget = BudgetPolicy(deterministic=True, ceiling_factor=2)
    fn = load(code, budget=budget)
    spun = fn.invoke(request_event("/spin"), now=NOW)
    assert spun.error is not None
    assert "stopped" in spun.error.message
    calm = fn.invoke(request_event("/calm"), now=NOW)
    assert calm.error is None, calm.error
