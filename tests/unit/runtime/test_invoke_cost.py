"""Work the runtime does once per load or only when needed, instead of on every invocation
(issue 12): each skipped or cached step must still give the same outcome when it matters."""

from __future__ import annotations

import gc
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgesim import limits
from edgesim.runtime.engine import JsSession, KvsAnswer, RawOutcome, _loads
from edgesim.runtime.function import BudgetPolicy
from edgesim.runtime.writes import guard_writes
from tests.unit.runtime.helpers import NOW, load, request_event

EVENT = '{"version": "1.0", "context": {"eventType": "viewer-request"}, "request": {"uri": "/a"}}'
OPTIONS: dict[str, Any] = {
    "now": NOW,
    "seed": 1,
    "eventType": "viewer-request",
    "edge": {},
    "kvs": None,
    "rawQuery": "",
}


def no_kvs(requests: list[dict[str, Any]]) -> list[KvsAnswer]:
    raise AssertionError(f"unexpected KVS requests {requests}")


# --- memory checks after work, not after every call -----------------------------------------


def test_memory_is_checked_once_the_invocations_since_the_last_check_add_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = JsSession(
        "function handler(e) { return e.request; }",
        runtime=limits.RUNTIME_JS_2,
        filename="fn.js",
        ceiling_ns=50_000_000,
        memory_bytes=limits.FUNCTION_MAX_MEMORY_BYTES,
    )
    checks: list[int] = []
    monkeypatch.setattr(session, "_collect_if_needed", lambda: checks.append(session.invocations))
    cpu = [300_000] * 20 + [2_500_000, 2_500_000]
    rebuild = [False] * 21 + [True]
    outcomes = iter(
        RawOutcome(state="ok", cpu_ns=c, needs_rebuild=r) for c, r in zip(cpu, rebuild, strict=True)
    )
    monkeypatch.setattr(session, "_run", lambda *args: next(outcomes))
    for _ in cpu:
        session.invoke(EVENT, OPTIONS, no_kvs, 0)
    # 2 ms of 0.3 ms invocations: every seventh is followed by a check; one invocation of 2.5 ms
    # is checked at once; a context about to be replaced is not checked.
    assert JsSession.GC_CHECK_AFTER_NS == 2_000_000
    assert checks == [7, 14, 21]


def test_memory_checks_space_out_while_little_is_in_use_and_come_back_when_more_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = JsSession(
        "function handler(e) { return e.request; }",
        runtime=limits.RUNTIME_JS_2,
        filename="fn.js",
        ceiling_ns=50_000_000,
        memory_bytes=limits.FUNCTION_MAX_MEMORY_BYTES,
    )
    # What each check finds in use: little (the interval doubles, up to 32× the base), then
    # a quarter of the allowance (back to the base interval).
    little, more = 1_000, limits.FUNCTION_MAX_MEMORY_BYTES // 4
    checks: list[int] = []

    def check() -> int:
        checks.append(session.invocations)
        return more if len(checks) == 8 else little

    monkeypatch.setattr(session, "_collect_if_needed", check)
    monkeypatch.setattr(session, "_run", lambda *args: RawOutcome(state="ok", cpu_ns=1_000_000))
    for _ in range(262):
        session.invoke(EVENT, OPTIONS, no_kvs, 0)
    gaps = [b - a for a, b in zip([0, *checks], checks, strict=False)]
    # 1 ms invocations: checks after 2, 4, 8, … 64 ms of them, then every 64 ms; after the
    # check that found more in use, 2 ms again, then 4.
    assert gaps == [2, 4, 8, 16, 32, 64, 64, 64, 2, 4]
    assert JsSession.GC_CHECK_MAX_STRETCH == 32


# --- the isolation check puts back only what the code can have changed --------------------


def seen(fn: Any, uri: str = "/index.html") -> str:
    result = fn.invoke(request_event(uri), now=NOW, seed=7)
    assert result.error is None, result.error
    return str(result.request["headers"]["seen"]["value"])


# (a change made through computed keys only, an expression the next run reports)
COMPUTED_CHANGES = [
    ("var k = 'ran' + 'dom'; Math[k] = function () { return 42; };", "String(Math.random())"),
    ("var k = 'tr' + 'im'; String.prototype[k] = function () { return 'x'; };", "' a '.trim()"),
    ("var m = Math, k = 'max'; m[k] = Math.min;", "String(Math.max(1, 2))"),
    ("var k = 'stringify'; [JSON[k]] = [function () { return 'x'; }];", "JSON.stringify(1)"),
    ("for (JSON[e.request.uri.slice(1)] in {a: 1});", "typeof JSON.parse"),
    ("var k = 'fl' + 'ags'; delete RegExp.prototype[k];", "typeof /x/g.flags"),
    ("var k = 'ma' + 'x'; delete Math[k];", "typeof Math.max"),
    ("var k = 'length'; Array.prototype[k] += 2;", "String(Array.prototype.length)"),
    ("var k = 'log'; console[k] = null;", "typeof console.log"),
    ("var k = 'now'; Date[k]++;", "String(Date.now())"),
    ("var k = 'ends' + 'With'; delete Object.getPrototypeOf('')?.[k];", "typeof ''.endsWith"),
]


@pytest.mark.parametrize(("change", "probe"), COMPUTED_CHANGES)
def test_computed_key_changes_to_shared_objects_are_undone(change: str, probe: str) -> None:
    # The code names no property it changes (its names written in plain sight are only `seen`):
    # the wrapped computed-key writes must widen the check for that invocation.
    fn = load(
        "function handler(e) { var s = " + probe + "; " + change + "\n"
        " e.request.headers.seen = {value: s}; return e.request; }"
    )
    first = seen(fn, "/parse")
    assert seen(fn, "/parse") == first
    assert seen(fn, "/parse") == first


def test_a_replaced_method_is_put_back_without_a_new_context() -> None:
    fn = load(
        "function handler(e) { var s = String(Math.random() === 42);"
        " var k = 'random'; Math[k] = function () { return 42; };"
        " e.request.headers.seen = {value: s}; return e.request; }"
    )
    assert [seen(fn) for _ in range(4)] == ["false"] * 4
    assert fn.sessions_built == 1


def test_computed_writes_to_the_functions_own_objects_keep_the_context() -> None:
    code = (
        "const totals = {};\n"
        "function handler(e) { const out = {}; const list = [];"
        " for (const name in e.request.headers) { out[name] = e.request.headers[name];"
        " list[list.length] = name; totals[name] = (totals[name] || 0) + 1; }"
        " const qs = e.request.querystring; qs['n' + list.length] = {value: 'x'};"
        " delete qs[list[0]];"
        " e.request.headers = out;"
        " e.request.headers.seen = {value: list.join() + JSON.stringify(totals)};"
        " return e.request; }"
    )
    fn = load(code)
    event = request_event(headers={"host": "a.example", "accept": "*/*"})
    for _ in range(4):
        result = fn.invoke(event, now=NOW)
        assert result.error is None, result.error
        assert result.request["headers"]["seen"]["value"] == 'host,accept{"host":1,"accept":1}'
        assert result.request["querystring"] == {"n2": {"value": "x"}}
    assert fn.sessions_built == 1


def test_a_guarded_write_keeps_error_positions_and_messages() -> None:
    code = "function handler(e) {\n  var o;\n  var k = 'x';\n  o[k] = 1;\n  return e.request;\n}\n"
    result = load(code).invoke(request_event(), now=NOW)
    assert result.error is not None
    assert result.error.message == 'TypeError: cannot set property "x" of undefined'
    assert result.error.position is not None
    assert result.error.position.startswith("fn.js:4:")
    bare = JsSession(
        code,
        runtime=limits.RUNTIME_JS_2,
        filename="fn.js",
        ceiling_ns=50_000_000,
        memory_bytes=limits.FUNCTION_MAX_MEMORY_BYTES,
    ).invoke(
        '{"version": "1.0", "context": {"eventType": "viewer-request"}, "request": {}}',
        OPTIONS,
        no_kvs,
        0,
    )
    assert bare.frames, bare
    assert result.error.position == bare.frames[0].position


@pytest.mark.parametrize(
    ("code", "expected", "names"),
    [
        ("o[k] = 1;", "__edgesim_w(o)[k] = 1;", set()),
        ("a.b[k] += 1; delete a[k]; a[k]++;", "__edgesim_w(a.b)[k] += 1; delete __edgesim_w(a)[k]; __edgesim_w(a)[k]++;", set()),
        ("[o[k], p.q] = z; for (o[k] in z);", "[__edgesim_w(o)[k], p.q] = z; for (__edgesim_w(o)[k] in z);", {"q"}),
        ("delete o?.[k];", "delete __edgesim_w(o)?.[k];", set()),
        ("x[y[k] = 1] = 2;", "__edgesim_w(x)[__edgesim_w(y)[k] = 1] = 2;", set()),
        # Objects created by this run of the code are left alone...
        ("const o = {}; const a = []; o[k] = a[i] = 1; f(o, a); return [o.x, a];",
         "const o = {}; const a = []; o[k] = a[i] = 1; f(o, a); return [o.x, a];", set()),
        # ...unless the name is bound otherwise somewhere, or assigned.
        ("const o = {}; function f(o) { o[k] = 1; }", "const o = {}; function f(o) { __edgesim_w(o)[k] = 1; }", set()),
        ("const o = {}; { let o = Math; o[k] = 1; }", "const o = {}; { let o = Math; __edgesim_w(o)[k] = 1; }", set()),
        ("const o = {}; ({o} = z); o[k] = 1;", "const o = {}; ({o} = z); __edgesim_w(o)[k] = 1;", set()),
        ("const o = Math; o[k] = 1;", "const o = Math; __edgesim_w(o)[k] = 1;", set()),
        ("var o = {}; o[k] = 1;", "var o = {}; __edgesim_w(o)[k] = 1;", set()),
        ("o.a = 1; o['b'] = 2; o[0] = 3;", "o.a = 1; o['b'] = 2; o[0] = 3;", {"a", "b"}),
    ],
)  # fmt: skip
def test_the_objects_of_computed_key_writes_are_wrapped(
    code: str, expected: str, names: set[str]
) -> None:
    text, written, layer = guard_writes(code)
    assert text == expected
    assert written == frozenset(names)
    assert (layer is None) == (text == code)


@pytest.mark.parametrize("code", ["class A extends B { m() { super[k] = 1; } }", "o[k = ;"])
def test_writes_through_super_or_code_that_does_not_parse_check_everything(code: str) -> None:
    assert guard_writes(code) == (code, None, None)


def test_guarded_code_keeps_its_columns() -> None:
    text, _, layer = guard_writes("var x = 1; o[k] = oops;")
    assert layer is not None
    column = text.index("oops") + 1
    assert layer.original(1, column) == (1, len("var x = 1; o[k] = ") + 1)


def test_deterministic_mode_counts_the_same_work_with_guarded_writes() -> None:
    code = (
        "function handler(e) { var o = e.request.querystring;"
        " for (var i = 0; i < 50; i++) { o['k' + i] = {value: String(i)}; }"
        " return e.request; }"
    )
    fn = load(code, budget=BudgetPolicy(deterministic=True))
    result = fn.invoke(request_event(), now=NOW)
    assert result.error is None, result.error
    assert len(result.request["querystring"]) == 50
    # One tick for the handler's entry and one per iteration (the guard is not user code).
    assert result.compute_utilization == round(51 * 1_000 * 100 / fn.budget.budget_ns)


SHARED = {
    "Math": ["random", "max", "floor", "PI", "newName"],
    "JSON": ["parse", "stringify", "newName"],
    "String.prototype": ["trim", "slice", "length", "newName"],
    "Array.prototype": ["map", "push", "length", "newName"],
    "Object": ["keys", "assign", "newName"],
    "console": ["log", "newName"],
    "Date": ["now", "newName"],
    "RegExp.prototype": ["flags", "exec", "lastIndex", "newName"],
    "globalThis": ["Math", "Buffer", "newName"],
}
STYLES = [
    "{t}.{n} = {v};",
    "{t}['{n}'] = {v};",
    "var k = '{n}'; {t}[k] = {v};",
    "var t = {t}, k = '{n}'; t[k] = {v};",
    "var k = '{n}'; delete {t}[k];",
    "delete {t}.{n};",
    "var k = '{n}'; [{t}[k]] = [{v}];",
]


@settings(max_examples=40, deadline=None)
@given(
    target=st.sampled_from(sorted(SHARED)),
    data=st.data(),
    style=st.sampled_from(STYLES),
    value=st.sampled_from(["null", "1", "function () { return 'x'; }", "{}"]),
)
def test_what_one_invocation_does_to_a_shared_object_never_reaches_the_next(
    target: str, data: st.DataObject, style: str, value: str
) -> None:
    name = data.draw(st.sampled_from(SHARED[target]))
    change = "try { " + style.format(t=target, n=name, v=value) + " } catch (x) {}"
    probe = (
        f"(function () {{ var d = Object.getOwnPropertyDescriptor({target}, '{name}');"
        " return d === undefined ? 'absent' : [typeof d.value, typeof d.get, d.writable,"
        f" d.enumerable, d.configurable, d.value === undefined ? '' : String(d.value).length]"
        ".join(); })()"
    )
    fn = load(
        "function handler(e) { var s = " + probe + "; " + change + "\n"
        " e.request.headers.seen = {value: s}; return e.request; }"
    )
    first = seen(fn)
    assert seen(fn) == first
    assert seen(fn) == first


# --- lone surrogates: fixed by the host when the prelude's text does not decode -------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('["\\ud800"]', ["\ufffd"]),
        ('["a\\udfffb", "\\uD83D"]', ["a\ufffdb", "\ufffd"]),
        ('["\\\\ud800"]', ["\\ud800"]),  # an escaped backslash: text, not an escape
        ('["\\\\\\ud800"]', ["\\\ufffd"]),
        ('["\\ud83d\\ude00"]', ["\U0001f600"]),
    ],
)
def test_the_prelude_text_decodes_with_lone_surrogates_replaced(text: str, value: Any) -> None:
    assert _loads(text) == value


def test_text_that_is_not_json_still_fails_to_decode() -> None:
    with pytest.raises(orjson.JSONDecodeError):
        _loads('{"a": \\ud800}')


def test_a_kvs_key_with_a_lone_surrogate_is_read_as_a_replacement_character() -> None:
    code = (
        "import cf from 'cloudfront';\n"
        "async function handler(e) { var v = await cf.kvs().get('k\\uD800');"
        " e.request.headers.seen = {value: v}; return e.request; }"
    )
    fn = load(code, kvs={"k\ufffd": "found"})
    assert seen(fn) == "found"


# --- the CPU clock is read per section; the wall clock bounds the time in between -----------


def kvs_answers(requests: list[dict[str, Any]]) -> list[KvsAnswer]:
    return [(r["id"], "ok", "v") for r in requests]


ASYNC_BODY = (
    "import cf from 'cloudfront';\n"
    "async function handler(e) { var a = await cf.kvs().get('a'); var b = await cf.kvs().get('b');"
    " e.request.headers.seen = {value: a + b}; return e.request; }"
)


FULL_EVENT = orjson.dumps(request_event()).decode()


def async_session(ceiling_ns: int = 50_000_000) -> JsSession:
    from edgesim.runtime.source import module_body

    return JsSession(
        module_body(ASYNC_BODY),
        runtime=limits.RUNTIME_JS_2,
        filename="fn.js",
        ceiling_ns=ceiling_ns,
        memory_bytes=limits.FUNCTION_MAX_MEMORY_BYTES,
    )


def test_a_wall_clock_running_ahead_of_the_cpu_is_no_runaway(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As if the thread waited a second between every two reads (preempted on a busy machine):
    # the bound runs out each time, the CPU clock is read, and the invocation goes on.
    ticks = iter(range(0, 10**15, 10**9))
    monkeypatch.setattr("time.perf_counter_ns", lambda: next(ticks))
    options = {**OPTIONS, "kvs": {"id": "s"}}
    outcome = async_session().invoke(FULL_EVENT, options, kvs_answers, 0)
    assert outcome.state == "ok", outcome
    assert outcome.value["headers"]["seen"] == {"value": "vv"}
    assert 0 < outcome.cpu_ns < 50_000_000


def test_cpu_time_leaves_out_the_hosts_kvs_lookups(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    def slow_lookups(requests: list[dict[str, Any]]) -> list[KvsAnswer]:
        end = time.thread_time_ns() + 30_000_000
        while time.thread_time_ns() < end:  # 30 ms of this thread's CPU, in the host
            pass
        return kvs_answers(requests)

    options = {**OPTIONS, "kvs": {"id": "s"}}
    outcome = async_session(ceiling_ns=20_000_000).invoke(FULL_EVENT, options, slow_lookups, 0)
    assert outcome.state == "ok", outcome  # 60 ms in lookups, yet under a 20 ms stop
    assert outcome.cpu_ns < 20_000_000


def test_an_endless_chain_of_jobs_is_still_stopped_at_the_ceiling() -> None:
    body = "async function handler(e) { for (;;) { await null; } }"
    session = JsSession(
        body,
        runtime=limits.RUNTIME_JS_2,
        filename="fn.js",
        ceiling_ns=5_000_000,
        memory_bytes=limits.FUNCTION_MAX_MEMORY_BYTES,
    )
    outcome = session.invoke(EVENT, OPTIONS, no_kvs, 0)
    assert outcome.state == "runaway"
    assert outcome.cpu_ns >= 5_000_000


# --- the options cross as arguments; cf.edgeLocation is decoded when first read -------------


def test_edge_location_is_each_invocations_own_and_one_object_within_it() -> None:
    fn = load(
        "import cf from 'cloudfront';\n"
        "function handler(e) { var a = cf.edgeLocation; a.seen = 1;"
        " e.request.headers.seen = {value: [a.name, a.region, cf.edgeLocation === a,"
        " cf.edgeLocation.seen].join()}; return e.request; }"
    )
    values = []
    for name, region in (("LHR", "eu-west-2"), ("NRT", "ap-northeast-1")):
        edge = {"name": name, "serverIp": "127.0.0.1", "region": region}
        result = fn.invoke(request_event(), now=NOW, edge=edge)
        assert result.error is None, result.error
        values.append(result.request["headers"]["seen"]["value"])
    assert values == ["LHR,eu-west-2,true,1", "NRT,ap-northeast-1,true,1"]


def test_options_reach_the_function_as_given() -> None:
    fn = load(
        "import cf from 'cloudfront';\n"
        "function handler(e) { var kvs; try { cf.kvs(); kvs = 'kvs'; } catch (x) { kvs = 'none'; }"
        " e.request.headers.seen = {value: [Date.now(), String(e.request.rawQueryString()), kvs,"
        " JSON.stringify(cf.edgeLocation)].join('|')}; return e.request; }",
        kvs={"a": "b"},
    )
    result = fn.invoke(request_event(), now=NOW, raw_query=None, no_store=True)
    assert result.error is None, result.error
    assert result.request["headers"]["seen"]["value"] == (
        f'{int(NOW)}|undefined|none|{{"name":"IAD","serverIp":"127.0.0.1","region":"us-east-1"}}'
    )
    result = fn.invoke(request_event(), now=NOW + 1, raw_query="a=1&b")
    assert result.request["headers"]["seen"]["value"].split("|")[:3] == [
        str(int(NOW) + 1),
        "a=1&b",
        "kvs",
    ]


# --- line breaks are searched for only when the returned JSON can hold one ------------------


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("'a\\nb'", True),
        ("'a\\rb'", True),
        ("'a\\u0000b'", True),
        ("'a\\\\nb'", False),  # a backslash and an n: text, not a line break
        ("'a b'", False),
    ],
)
def test_line_breaks_in_returned_texts_are_still_found(text: str, flagged: bool) -> None:
    fn = load(
        "function handler(e) { e.request.headers['x-a'] = {value: " + text + "};"
        " e.request.cookies.c = {value: 'v'}; e.request.querystring.q = {value: 'v'};"
        " return e.request; }"
    )
    result = fn.invoke(request_event(), now=NOW)
    if flagged:
        assert result.error is not None
        assert "request.headers.x-a contains a line break or NUL character" in result.error.message
    else:
        assert result.error is None, result.error


def test_a_line_break_in_a_response_status_description_is_still_found() -> None:
    fn = load(
        "function handler(e) { return {statusCode: 200, statusDescription: 'OK\\r\\nX: y'}; }"
    )
    result = fn.invoke(request_event(), now=NOW)
    assert result.error is not None
    assert "statusDescription contains a line break" in result.error.message


def test_a_wall_clock_just_short_of_the_stop_does_not_starve_the_next_job(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each read of the wall clock is 16.65 ms past the last (a thread preempted on a loaded
    # machine): before the first job the bound is 49.95 ms of a 50 ms stop, and arming the job
    # from it would give it 0.05 ms of process CPU time and stop the work after the await as a
    # runaway.
    ticks = iter(range(0, 10**15, 16_650_000))
    monkeypatch.setattr("time.perf_counter_ns", lambda: next(ticks))
    body = (
        "async function handler(e) { await null; var s = 0;"
        " for (var i = 0; i < 300000; i++) { s += i % 7; } await null;"
        " e.request.headers.seen = {value: String(s)}; return e.request; }"
    )
    session = JsSession(
        body,
        runtime=limits.RUNTIME_JS_2,
        filename="fn.js",
        ceiling_ns=50_000_000,
        memory_bytes=limits.FUNCTION_MAX_MEMORY_BYTES,
    )
    outcome = session.invoke(FULL_EVENT, OPTIONS, no_kvs, 0)
    assert outcome.state == "ok", outcome
    assert outcome.cpu_ns < 50_000_000


class _GcWatchingKvs:
    """A KVS whose lookups (host code inside an invocation) note whether Python's collector
    could run there."""

    store_id = "watch"
    arn = "arn:aws:cloudfront::123456789012:key-value-store/watch"

    def __init__(self) -> None:
        self.collector_enabled: list[bool] = []

    def get(self, key: str) -> str | None:
        self.collector_enabled.append(gc.isenabled())
        return "v"

    def meta(self) -> dict[str, object]:
        return {"creationDateTime": "", "lastUpdatedDateTime": "", "keyCount": 1}


def test_python_collector_never_runs_inside_an_invocation() -> None:
    """A full collection (tens of ms after a reload) inside the timed region would count as the
    function's compute and stop it as a runaway; it is deferred to after the invocation."""
    kvs = _GcWatchingKvs()
    fn = load(
        "import cf from 'cloudfront';\n"
        "async function handler(event) {\n"
        "  const v = await cf.kvs().get('k');\n"
        "  event.request.headers['x-v'] = {value: v};\n"
        "  return event.request;\n"
        "}\n",
        kvs=kvs,
    )
    assert gc.isenabled()
    result = fn.invoke(request_event(), now=NOW, seed=7)
    assert result.request is not None
    assert result.request["headers"]["x-v"] == {"value": "v"}
    assert kvs.collector_enabled == [False]
    assert gc.isenabled()  # and on again afterwards
