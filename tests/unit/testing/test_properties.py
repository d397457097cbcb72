"""The property helpers pass on the bundled A/B function and fail, with a useful message, on
small bad functions written for each promise."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgesim import strategies as es
from edgesim.kvs.propagation import FixedLag, PerPopLag
from edgesim.runtime.function import BudgetPolicy
from edgesim.testing import (
    EdgeFunction,
    InvocationResult,
    ReplicatedKvs,
    load_function,
    viewer_request,
    viewer_response,
)
from edgesim.testing.properties import (
    KEY_FAULTS,
    PROPAGATING,
    assert_fail_open,
    assert_fail_secure,
    assert_split,
    assert_sticky,
    propagation_window,
    request_header,
)

ROOT = Path(__file__).resolve().parents[3]
AB_COHORT = ROOT / "functions" / "ab_cohort.js"
AB_KVS = ROOT / "fixtures" / "kvs" / "ab_cohort.json"
EXPERIMENT = "experiment:checkout"
EXPERIMENT_VALUE = (
    '{"path": "/checkout", "variants": [{"name": "a", "weight": 50}, {"name": "b", "weight": 50}]}'
)
NOW = 1_767_225_600_000.0  # 2026-01-01T00:00:00Z in ms: fixed so failures replay
# Counted work instead of CPU time: a busy machine cannot push a run over the runaway limit.
STEADY = BudgetPolicy(deterministic=True)

cohort = request_header("x-cohort")

RANDOM_COHORT = """
function handler(event) {
  var request = event.request;
  request.headers['x-cohort'] = { value: Math.random() < 0.5 ? 'a' : 'b' };
  return request;
}
"""

POP_COHORT = """
import cf from 'cloudfront';
function handler(event) {
  var request = event.request;
  request.headers['x-cohort'] = { value: cf.edgeLocation.name === 'IAD' ? 'a' : 'b' };
  return request;
}
"""

# Cohort straight from the store: differs between POPs while a write propagates.
KVS_COHORT = """
import cf from 'cloudfront';
const kvs = cf.kvs();
async function handler(event) {
  var request = event.request;
  request.headers['x-cohort'] = { value: await kvs.get('cohort') };
  return request;
}
"""

# No try/catch: a value that is not JSON (or no key at all) makes the invocation throw (503).
THROWS_ON_BAD_JSON = """
import cf from 'cloudfront';
const kvs = cf.kvs();
async function handler(event) {
  const experiment = await kvs.get('experiment:checkout', { format: 'json' });
  return event.request;
}
"""

ANSWERS_500 = """
import cf from 'cloudfront';
const kvs = cf.kvs();
async function handler(event) {
  try {
    await kvs.get('experiment:checkout', { format: 'json' });
  } catch (e) {
    return { statusCode: 500, statusDescription: 'Internal Server Error' };
  }
  return event.request;
}
"""

# Grants a bypass when the allow-list cannot be read: the fail-secure bug.
BYPASS_ON_ERROR = """
import cf from 'cloudfront';
const kvs = cf.kvs();
async function handler(event) {
  var request = event.request;
  try {
    const allowed = await kvs.get('allow-list', { format: 'json' });
    if (allowed.indexOf(event.viewer.ip) >= 0) {
      request.headers['x-bypass'] = { value: 'true' };
    }
  } catch (e) {
    request.headers['x-bypass'] = { value: 'true' };
  }
  return request;
}
"""

# The same check done right: an unreadable allow-list denies.
DENY_ON_ERROR = BYPASS_ON_ERROR.replace(
    "  } catch (e) {\n    request.headers['x-bypass'] = { value: 'true' };\n  }",
    "  } catch (e) {\n    return { statusCode: 403, statusDescription: 'Forbidden' };\n  }",
)

ALLOW_LIST = {"allow-list": '["203.0.113.9"]'}


def bypass(result: InvocationResult) -> bool:
    return request_header("x-bypass")(result) is not None


@pytest.fixture
def write_function(tmp_path: Path) -> Callable[..., EdgeFunction]:
    def write(source: str, **options: Any) -> EdgeFunction:
        path = tmp_path / f"fn{len(list(tmp_path.iterdir()))}.js"
        path.write_text(source)
        return load_function(path, budget=STEADY, **options)

    return write


@pytest.fixture(scope="module")
def ab() -> EdgeFunction:
    return load_function(AB_COHORT, kvs=AB_KVS, budget=STEADY)


def checkout(uid: str = "viewer-42") -> dict[str, object]:
    return viewer_request("/checkout/cart", cookies={"uid": uid})


def expected_cohort(uid: str) -> str:
    bucket = int(hashlib.sha256(uid.encode()).hexdigest()[:8], 16) % 100
    return "a" if bucket < 50 else "b"


# -- assert_sticky ----------------------------------------------------------------------------


def test_sticky_returns_the_cohort_of_ab_cohort(ab: EdgeFunction) -> None:
    assert assert_sticky(ab, checkout("viewer-42"), cohort=cohort) == expected_cohort("viewer-42")


@settings(max_examples=25)
@given(uid=st.text(alphabet=st.characters(codec="ascii", categories=["L", "N"]), min_size=1))
def test_sticky_for_any_uid(ab: EdgeFunction, uid: str) -> None:
    assert assert_sticky(ab, checkout(uid), cohort=cohort, now=NOW) == expected_cohort(uid)


def test_random_cohort_is_not_sticky(write_function: Callable[..., EdgeFunction]) -> None:
    fn = write_function(RANDOM_COHORT)
    with pytest.raises(AssertionError, match=r"cohort is not sticky: .* 2 different cohorts") as e:
        assert_sticky(fn, checkout(), cohort=cohort, repeats=4, now=NOW)
    # Both cohorts are listed with the POPs and runs that produced them.
    assert "'a': " in str(e.value)
    assert "'b': " in str(e.value)
    assert "IAD run 1" in str(e.value)
    assert "event: GET /checkout/cart (cookies: uid)" in str(e.value)


def test_cohort_that_depends_on_the_pop_names_the_pops(
    write_function: Callable[..., EdgeFunction],
) -> None:
    fn = write_function(POP_COHORT)
    with pytest.raises(AssertionError, match="not sticky") as e:
        assert_sticky(fn, checkout(), cohort=cohort, pops=["IAD", "FRA"], repeats=2, now=NOW)
    assert "'a': IAD run 1, IAD run 2" in str(e.value)
    assert "'b': FRA run 1, FRA run 2" in str(e.value)


def test_sticky_reports_a_failing_run(write_function: Callable[..., EdgeFunction]) -> None:
    fn = write_function(THROWS_ON_BAD_JSON, kvs={})
    with pytest.raises(AssertionError, match=r"at IAD run 1: the function failed \(execution"):
        assert_sticky(fn, checkout(), cohort=cohort)


def test_sticky_notes_which_run_the_cohort_reader_broke_on(ab: EdgeFunction) -> None:
    def broken(result: InvocationResult) -> object:
        raise KeyError("no such thing")

    with pytest.raises(KeyError) as e:
        assert_sticky(ab, checkout(), cohort=broken)
    assert "edgesim: raised while reading the cohort at IAD run 1" in e.value.__notes__


def test_sticky_rejects_bad_arguments(ab: EdgeFunction) -> None:
    with pytest.raises(ValueError, match="repeats"):
        assert_sticky(ab, checkout(), cohort=cohort, repeats=0)
    with pytest.raises(ValueError, match="pops"):
        assert_sticky(ab, checkout(), cohort=cohort, pops="IAD")


def test_sticky_during_propagation_names_the_pops_that_disagree(
    write_function: Callable[..., EdgeFunction],
) -> None:
    lag = PerPopLag({"IAD": 1.0, "FRA": 2.0, "NRT": 3.0}, FixedLag(0.0))
    with ReplicatedKvs({"cohort": "a"}, lag=lag) as kvs:
        fn = write_function(KVS_COHORT, kvs=kvs)
        assert assert_sticky(fn, checkout(), cohort=cohort, now=NOW) == "a"
        window = propagation_window(kvs, puts={"cohort": "b"})
        assert next(window).landed == ()  # written, landed nowhere yet: still sticky
        assert assert_sticky(fn, checkout(), cohort=cohort, now=NOW) == "a"
        state = next(window)
        assert state.landed == ("IAD",)
        with pytest.raises(AssertionError, match=r"'b': IAD run 1.*\n.*'a': FRA run 1"):
            assert_sticky(fn, checkout(), cohort=cohort, repeats=1, now=NOW)
        window.close()  # leaving the window settles the store
        assert assert_sticky(fn, checkout(), cohort=cohort, now=NOW) == "b"


# -- assert_split -----------------------------------------------------------------------------


def viewers(count: int, path: str = "/checkout") -> list[dict[str, object]]:
    return [viewer_request(path, cookies={"uid": str(uuid.UUID(int=i))}) for i in range(count)]


def test_split_of_ab_cohort_is_fifty_fifty(ab: EdgeFunction) -> None:
    counts = assert_split(ab, viewers(1000), cohort=cohort, weights={"a": 50, "b": 50}, now=NOW)
    assert sum(counts.values()) == 1000
    assert set(counts) == {"a", "b"}


def test_wrong_weights_fail_with_observed_and_expected_counts(ab: EdgeFunction) -> None:
    with pytest.raises(AssertionError, match="split does not match the weights") as e:
        assert_split(ab, viewers(1000), cohort=cohort, weights={"a": 90, "b": 10}, now=NOW)
    text = str(e.value)
    assert "cohort  weight  expected  observed" in text
    assert "900.0" in text
    assert "100.0" in text
    assert "degree(s) of freedom" in text
    assert "alpha = 0.0001" in text


def test_a_cohort_outside_the_weights_fails(ab: EdgeFunction) -> None:
    # Viewers outside /checkout get no cohort header: the reader returns None.
    events = viewers(20) + viewers(5, path="/home")
    with pytest.raises(AssertionError, match="cohort\\(s\\) None appeared"):
        assert_split(ab, events, cohort=cohort, weights={"a": 1, "b": 1})


def test_random_split_passes_but_a_skewed_one_fails(
    write_function: Callable[..., EdgeFunction],
) -> None:
    fn = write_function(RANDOM_COHORT)
    assert_split(fn, viewers(600), cohort=cohort, weights={"a": 1, "b": 1})
    skewed = write_function(RANDOM_COHORT.replace("< 0.5", "< 0.6"))
    with pytest.raises(AssertionError, match=r"p = .* < alpha"):
        assert_split(skewed, viewers(3000), cohort=cohort, weights={"a": 1, "b": 1})


def test_split_needs_enough_events(ab: EdgeFunction) -> None:
    with pytest.raises(ValueError, match="at least 5 per cohort"):
        assert_split(ab, viewers(6), cohort=cohort, weights={"a": 1, "b": 1})
    with pytest.raises(ValueError, match="at least one event"):
        assert_split(ab, [], cohort=cohort, weights={"a": 1})
    with pytest.raises(ValueError, match="weights"):
        assert_split(ab, viewers(6), cohort=cohort, weights={"a": -1, "b": 1})


# -- assert_fail_open -------------------------------------------------------------------------


def test_ab_cohort_fails_open_under_every_key_fault(ab: EdgeFunction) -> None:
    assert_fail_open(ab, checkout(), faults=KEY_FAULTS)
    assert_fail_open(ab, checkout(), faults=KEY_FAULTS, keys="experiment:checkout")


def test_ab_cohort_fails_open_under_every_fault(ab: EdgeFunction) -> None:
    # Including not-associated: the cookbook function calls cf.kvs() inside its try.
    assert_fail_open(ab, checkout())


# Catches read errors, but calls cf.kvs() at module load: without an associated store it throws
# there (KVSNamespaceNotFound), before any try, and CloudFront answers 503.
KVS_AT_LOAD = """
import cf from 'cloudfront';
const kvs = cf.kvs();
async function handler(event) {
  try {
    await kvs.get('experiment:checkout', { format: 'json' });
  } catch (e) {}
  return event.request;
}
"""


def test_a_store_missing_at_load_is_reported(write_function: Callable[..., EdgeFunction]) -> None:
    fn = write_function(KVS_AT_LOAD, kvs={EXPERIMENT: EXPERIMENT_VALUE})
    with pytest.raises(AssertionError, match=r"1 of 6 KVS fault run\(s\)") as e:
        assert_fail_open(fn, checkout())
    assert "not-associated: the function failed (execution error; CloudFront answers 503)" in str(
        e.value
    )


def test_throwing_on_malformed_json_is_caught(write_function: Callable[..., EdgeFunction]) -> None:
    fn = write_function(THROWS_ON_BAD_JSON, kvs={EXPERIMENT: EXPERIMENT_VALUE})
    with pytest.raises(AssertionError, match="fail-open violated") as e:
        assert_fail_open(fn, checkout(), faults=KEY_FAULTS)
    text = str(e.value)
    assert "malformed-json: the function failed (execution error; CloudFront answers 503)" in text
    assert "missing-key: the function failed" in text
    assert "wrong-type" not in text  # valid JSON: the function copes


# Reads a rollout percentage stored as a JSON number; anything else passes the request through.
ROLLOUT = """
import cf from 'cloudfront';
const kvs = cf.kvs();
async function handler(event) {
  var request = event.request;
  try {
    var pct = await kvs.get('rollout', { format: 'json' });
    if (typeof pct === 'number' && pct > 0) {
      request.headers['x-rollout'] = { value: String(pct) };
    }
  } catch (e) {}
  return request;
}
"""


def test_wrong_type_for_a_stored_number_is_not_a_number(
    write_function: Callable[..., EdgeFunction],
) -> None:
    # The stored value is a number: a wrong-type fault must not be a (usable) number too.
    fn = write_function(ROLLOUT, kvs={"rollout": "10"})
    assert_fail_open(fn, checkout(), faults=["wrong-type"], keys="rollout")


def test_a_500_answer_is_caught(write_function: Callable[..., EdgeFunction]) -> None:
    fn = write_function(ANSWERS_500, kvs={EXPERIMENT: EXPERIMENT_VALUE})
    with pytest.raises(AssertionError, match="malformed-json: the function answered with a 500"):
        assert_fail_open(fn, checkout(), faults=["malformed-json"])


def test_a_changed_request_is_described(write_function: Callable[..., EdgeFunction]) -> None:
    fn = write_function(BYPASS_ON_ERROR, kvs=ALLOW_LIST)
    with pytest.raises(AssertionError, match="the request did not pass through") as e:
        assert_fail_open(fn, checkout(), faults=["missing-key"])
    assert "header 'x-bypass' added ('true')" in str(e.value)


def test_custom_pass_through(write_function: Callable[..., EdgeFunction]) -> None:
    fn = write_function(BYPASS_ON_ERROR, kvs=ALLOW_LIST)

    def is_request(event: dict[str, object], result: InvocationResult) -> bool:
        return result.kind == "request"

    assert_fail_open(fn, checkout(), faults=KEY_FAULTS, pass_through=is_request)
    with pytest.raises(AssertionError, match=r"missing-key: .*pass_through returned False"):
        assert_fail_open(fn, checkout(), faults=KEY_FAULTS, pass_through=lambda e, r: False)


def test_fail_open_on_a_viewer_response(write_function: Callable[..., EdgeFunction]) -> None:
    source = """
import cf from 'cloudfront';
const kvs = cf.kvs();
async function handler(event) {
  var response = event.response;
  try {
    response.headers['x-banner'] = { value: await kvs.get('banner') };
  } catch (e) {
    response.statusCode = 502;
  }
  return response;
}
"""
    fn = write_function(source, kvs={"banner": "hi"})
    event = viewer_response(200, headers={"content-type": "text/html"})
    with pytest.raises(AssertionError, match="missing-key: the function answered with a 502"):
        assert_fail_open(fn, event, faults=["missing-key"])


def test_unknown_faults_are_rejected(ab: EdgeFunction) -> None:
    with pytest.raises(ValueError, match="unknown fault 'slow'"):
        assert_fail_open(ab, checkout(), faults=["slow"])
    with pytest.raises(ValueError, match="at least one fault"):
        assert_fail_secure(ab, checkout(), granted=bypass, faults=[])


# -- assert_fail_secure -----------------------------------------------------------------------


def test_bypass_on_error_is_caught(write_function: Callable[..., EdgeFunction]) -> None:
    fn = write_function(BYPASS_ON_ERROR, kvs=ALLOW_LIST)
    # A listed viewer gets the bypass legitimately; an unlisted one must not.
    assert bypass(fn.run(viewer_request("/", ip="203.0.113.9")))
    assert not bypass(fn.run(viewer_request("/", ip="198.51.100.1")))
    with pytest.raises(AssertionError, match="fail-secure violated: access granted") as e:
        assert_fail_secure(fn, viewer_request("/", ip="198.51.100.1"), granted=bypass)
    text = str(e.value)
    for fault in ("missing-key", "malformed-json", "value-at-limit", "empty", "wrong-type"):
        assert f"  {fault}: granted (header 'x-bypass' added ('true'))" in text
    # Without a store, cf.kvs() throws at the top: the run fails, which counts as not granted.
    assert "not-associated" not in text


def test_denying_on_error_is_fail_secure(write_function: Callable[..., EdgeFunction]) -> None:
    fn = write_function(DENY_ON_ERROR, kvs=ALLOW_LIST)
    assert_fail_secure(fn, viewer_request("/", ip="198.51.100.1"), granted=bypass)
    assert_fail_secure(fn, viewer_request("/", ip="203.0.113.9"), granted=bypass, keys="allow-list")


# -- the "propagating" fault ------------------------------------------------------------------


def test_propagating_fault_on_ab_cohort(ab: EdgeFunction) -> None:
    with ReplicatedKvs({EXPERIMENT: EXPERIMENT_VALUE}) as kvs:
        fn = load_function(AB_COHORT, kvs=kvs, budget=STEADY)
        assert_fail_open(fn, checkout(), faults=[*KEY_FAULTS, PROPAGATING], keys={EXPERIMENT})
        # The helper wrote to a private copy: the function's own store is untouched.
        assert kvs.items() == {EXPERIMENT: EXPERIMENT_VALUE}


def test_propagating_fault_checks_pops_without_the_write(
    write_function: Callable[..., EdgeFunction],
) -> None:
    fn = write_function(BYPASS_ON_ERROR, kvs=ALLOW_LIST)
    with pytest.raises(AssertionError, match="propagating") as e:
        assert_fail_secure(fn, checkout(), granted=bypass, faults=[PROPAGATING])
    text = str(e.value)
    # Three moments (nothing landed, IAD, IAD+FRA) × three POPs; only POPs lacking it grant.
    assert "under 6 of 9 KVS fault run(s)" in text
    assert (
        "propagating (at NRT, which lacks the write; 2 s after the write: landed at IAD, FRA;"
        in (text)
    )
    assert "at IAD, which has" not in text


def test_propagating_fault_needs_the_keys_in_the_store(
    write_function: Callable[..., EdgeFunction],
) -> None:
    fn = write_function(BYPASS_ON_ERROR, kvs={"other": "x"})
    with pytest.raises(ValueError, match="holds none of them"):
        assert_fail_open(fn, checkout(), faults=[PROPAGATING], keys={"allow-list"})
    bare = write_function(RANDOM_COHORT)
    with pytest.raises(ValueError, match="holds none of them"):
        assert_fail_open(bare, checkout(), faults=[PROPAGATING])


@settings(max_examples=30)
@given(event=es.viewer_requests(uri="/checkout"), fault=es.kvs_faults())
def test_ab_cohort_fails_open_for_any_viewer_and_fault(
    ab: EdgeFunction, event: dict[str, object], fault: str
) -> None:
    if fault == "not-associated":
        return  # reported above: cf.kvs() needs a store
    assert_fail_open(ab, event, faults=[fault], keys={EXPERIMENT}, now=NOW)


# -- propagation_window -----------------------------------------------------------------------


def test_window_yields_each_partial_state_then_settles() -> None:
    lag = PerPopLag({"IAD": 1.0, "FRA": 5.0, "NRT": 3.0}, FixedLag(0.0))
    with ReplicatedKvs({"k": "old"}, lag=lag) as kvs:
        seen = []
        for state in propagation_window(kvs, puts={"k": "new"}):
            values = {pop: kvs.replica(pop).get("k") for pop in kvs.pops}
            assert all(values[p] == "new" for p in state.landed)
            assert all(values[p] == "old" for p in state.pending)
            seen.append((state.elapsed, state.landed))
        assert seen == [(0.0, ()), (1.0, ("IAD",)), (3.0, ("IAD", "NRT"))]
        assert {kvs.replica(pop).get("k") for pop in kvs.pops} == {"new"}


def test_window_with_fixed_or_no_lag() -> None:
    with ReplicatedKvs({"k": "old"}, lag=2.0) as kvs:
        states = list(propagation_window(kvs, deletes=["k"]))
        assert [(s.landed, s.pending) for s in states] == [((), ("IAD", "FRA", "NRT"))]
        assert "landed at no POP; pending at IAD, FRA, NRT" in str(states[0])
        assert kvs.replica("NRT").get("k") is None
    with ReplicatedKvs({"k": "old"}, lag=0.0) as kvs:
        assert list(propagation_window(kvs, puts={"k": "new"})) == []
