"""functions/feature_flags.js: per-surface feature flags from the KVS, fail-open."""

import json
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim import strategies as es
from edgesim.testing import FAULTS, ReplicatedKvs, load_function, viewer_request
from edgesim.testing.properties import assert_fail_open
from tests.examples import EVENT_FIXTURES, FUNCTIONS, KVS_FIXTURES

SOURCE = FUNCTIONS / "feature_flags.js"
FIXTURE_KVS = KVS_FIXTURES / "feature_flags.json"
KNOWN_SURFACES = {"web", "ios", "android", "kiosk"}
FLAG_NAMES = st.from_regex(r"[a-z0-9-]{1,40}", fullmatch=True)
SURFACES = st.from_regex(r"[a-z0-9-]{1,32}", fullmatch=True)


def event(surface: str | None = None, forged: str | None = None) -> dict:
    headers = {}
    if surface is not None:
        headers["x-surface"] = surface
    if forged is not None:
        headers["x-features"] = forged
    return viewer_request("/checkout", headers=headers)


def features(result) -> str | None:
    assert result.error is None
    assert result.kind == "request"
    entry = result.request["headers"].get("x-features")
    return entry["value"] if entry else None


@pytest.fixture(scope="module")
def fn():
    return load_function(SOURCE, kvs=FIXTURE_KVS)


@pytest.fixture(scope="module")
def store() -> Iterator[ReplicatedKvs]:
    with ReplicatedKvs(pops=("IAD",)) as kvs:
        yield kvs


@pytest.fixture(scope="module")
def live_fn(store):
    return load_function(SOURCE, kvs=store)


def test_fixture_event(fn) -> None:
    result = fn.run(json.loads((EVENT_FIXTURES / "feature_flags.json").read_text()))
    assert features(result) == "dark-mode,new-checkout"


@pytest.mark.parametrize(
    ("surface", "expected"),
    [
        ("web", "dark-mode,new-checkout"),
        (None, "dark-mode,new-checkout"),  # no header: the web surface
        ("ios", "offline-mode"),
        (" IOS ", "offline-mode"),  # trimmed and lower-cased
        ("android", None),  # known surface, no flags
        ("kiosk", None),  # "yes" and 1 are not true
        ("tv", None),  # unknown surface
        ("../web", None),  # not a surface name: not looked up
        ("", "dark-mode,new-checkout"),  # empty header: treated as absent
    ],
)
def test_table(fn, surface: str | None, expected: str | None) -> None:
    assert features(fn.run(event(surface, forged="everything"))) == expected


@given(surface=SURFACES.filter(lambda s: s not in KNOWN_SURFACES))
def test_unknown_surfaces_default_off(fn, surface: str) -> None:
    assert features(fn.run(event(surface, forged="admin-mode"))) is None


@given(
    surface=SURFACES,
    flags=st.dictionaries(
        FLAG_NAMES,
        st.one_of(st.booleans(), st.integers(), st.text(max_size=5), st.none()),
        max_size=12,
    ),
)
def test_exactly_the_true_flags_are_sent_sorted(store, live_fn, surface: str, flags) -> None:
    store.put(f"flags:{surface}", json.dumps(flags))
    store.settle()
    on = sorted(name for name, value in flags.items() if value is True)
    assert features(live_fn.run(event(surface))) == (",".join(on) or None)


@given(surface=st.sampled_from([*sorted(KNOWN_SURFACES), "tv"]), fault=es.kvs_faults())
def test_faults_fail_open(fn, surface: str, fault: str) -> None:
    """Fail-open: a broken store (or flags still on their way to a POP) never blocks or changes
    a request; the flags are just off."""
    assert_fail_open(fn, event(surface), faults=[fault])


@given(surface=st.sampled_from(sorted(KNOWN_SURFACES)), fault=st.sampled_from(FAULTS))
def test_faults_turn_every_flag_off(fn, surface: str, fault: str) -> None:
    result = fn.run(event(surface, forged="new-checkout"), kvs=fn.with_fault(fault))
    assert features(result) is None


@given(value=st.one_of(st.lists(FLAG_NAMES), st.text(), st.integers(), st.none()))
def test_non_object_entries_turn_everything_off(store, live_fn, value) -> None:
    store.put("flags:odd", json.dumps(value))
    store.settle()
    assert features(live_fn.run(event("odd"))) is None
