"""edgesim.edge.functions: the distribution's functions as serve holds them.

Behaviour relied on (module docstring; docs/configuration.md "[[functions]]"): a function is
checked as ``edgesim test`` checks it, strict compatibility by default, so code CloudFront's
runtime would refuse (e.g. optional chaining, absent from njs; borso.fr postmortem) is refused with
``file:line:col`` and the rule; ``compat = "lenient"`` loads it and keeps the findings as
warnings; ``rules`` sets single rules' levels. A version that fails to load never replaces the one
serving. A reload starts the function afresh (new throttle window, warnings logged again). KVS
reads go to one frozen view of the POP's replica per invocation: AWS applies writes between
invocations, not during one.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edgesim.distribution.model import Distribution, FunctionDecl, Throttling
from edgesim.edge.event_codec import request_event
from edgesim.edge.functions import FunctionRegistry
from edgesim.edge.message import EdgeRequest
from edgesim.kvs.clock import VirtualClock
from edgesim.kvs.service import KvsService
from edgesim.runtime.function import LoadedFunction
from edgesim.stores import kvs_service_for, sync_kvs_seeds
from tests.unit.edge.stages.conftest import make_dist

GOOD = """\
function handler(event) {
  event.request.headers['x-version'] = { value: 'VERSION' };
  return event.request;
}
"""
# Line 2, column 35 is the '?.'.
OPTIONAL_CHAINING = """\
function handler(event) {
  var host = event.request.headers?.host;
  return event.request;
}
"""
NULLISH = """\
function handler(event) {
  var host = event.request.headers.host ?? 'none';
  return event.request;
}
"""
SYNTAX_ERROR = """\
function handler(event) {
  return event.request +;
}
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def good(version: str) -> str:
    return GOOD.replace("VERSION", version)


def registry(decl: FunctionDecl, **kw: Any) -> FunctionRegistry:
    return FunctionRegistry({decl.name: decl}, kvs=None, **kw)


def run(function: LoadedFunction | None) -> dict[str, Any]:
    """The request ``function`` returns for a plain GET /."""
    assert function is not None
    event = request_event(
        EdgeRequest("GET", "/", None, [("host", "example.com")]),
        event_type="viewer-request",
        context={"distributionDomainName": "d.cloudfront.net", "requestId": "r"},
    )
    result = function.invoke(event)
    assert result.error is None, result.error
    assert result.output is not None
    return result.output


# --- compatibility ---------------------------------------------------------------------------


def test_strict_compat_refuses_optional_chaining_naming_file_position_and_rule(
    tmp_path: Path,
) -> None:
    file = write(tmp_path / "f.js", OPTIONAL_CHAINING)
    reg = registry(FunctionDecl("f", file))
    errors = reg.load_all()
    assert len(errors) == 1
    assert errors[0].startswith("function f: ")
    assert f"{file}:2:35: error [optional-chaining]" in errors[0]
    assert reg.get("f") is None
    (status,) = reg.status()
    assert status["loaded"] is False
    assert status["versions"] == 0
    assert f"{file}:2:35" in str(status["last_error"])
    assert reg.load_errors() == errors


def test_lenient_compat_loads_the_function_and_keeps_its_findings(tmp_path: Path) -> None:
    file = write(tmp_path / "f.js", OPTIONAL_CHAINING)
    reg = registry(FunctionDecl("f", file, compat="lenient"))
    assert reg.load_all() == []
    assert reg.get("f") is not None
    slot = reg.slots["f"]
    assert len(slot.findings) == 1
    assert f"{file}:2:35:" in slot.findings[0]
    assert "[optional-chaining]" in slot.findings[0]
    assert reg.status()[0]["warnings"] == slot.findings
    assert reg.load_errors() == []


def test_a_rule_set_to_warn_loads_a_strict_function_with_a_warning(tmp_path: Path) -> None:
    file = write(tmp_path / "f.js", OPTIONAL_CHAINING)
    reg = registry(FunctionDecl("f", file, rules=(("optional-chaining", "warn"),)))
    assert reg.load_all() == []
    (finding,) = reg.slots["f"].findings
    assert f"{file}:2:35: warning [optional-chaining]" in finding


def test_a_rule_set_to_lenient_is_not_checked(tmp_path: Path) -> None:
    file = write(tmp_path / "f.js", OPTIONAL_CHAINING)
    reg = registry(FunctionDecl("f", file, rules=(("optional-chaining", "lenient"),)))
    assert reg.load_all() == []
    assert reg.slots["f"].findings == []


def test_a_warning_rule_set_to_strict_refuses_the_function(tmp_path: Path) -> None:
    # nullish-coalescing is a warning by default (njs evidence only); `rules` can make it refuse.
    file = write(tmp_path / "f.js", NULLISH)
    assert registry(FunctionDecl("f", file)).load_all() == []
    reg = registry(FunctionDecl("f", file, rules=(("nullish-coalescing", "strict"),)))
    (error,) = reg.load_all()
    assert f"{file}:2:" in error
    assert "[nullish-coalescing]" in error
    assert reg.get("f") is None


def test_load_errors_strict_only_skips_lenient_functions(tmp_path: Path) -> None:
    broken = write(tmp_path / "broken.js", SYNTAX_ERROR)
    refused = write(tmp_path / "refused.js", OPTIONAL_CHAINING)
    reg = FunctionRegistry(
        {
            "lenient": FunctionDecl("lenient", broken, compat="lenient"),
            "strict": FunctionDecl("strict", refused),
        },
        kvs=None,
    )
    assert len(reg.load_all()) == 2
    assert [e.split(":")[0] for e in reg.load_errors()] == ["function lenient", "function strict"]
    (strict,) = reg.load_errors(strict_only=True)
    assert strict.startswith("function strict: ")
    # The lenient function that cannot load is still not serving (it answers 503).
    assert reg.get("lenient") is None


# --- reload ----------------------------------------------------------------------------------


def test_a_failed_reload_keeps_the_last_good_version(tmp_path: Path) -> None:
    file = write(tmp_path / "f.js", good("1"))
    reg = registry(FunctionDecl("f", file))
    assert reg.load_all() == []
    first = reg.get("f")
    write(file, OPTIONAL_CHAINING)
    error = reg.reload("f")
    assert error is not None
    assert "[optional-chaining]" in error
    assert reg.get("f") is first
    assert run(reg.get("f"))["headers"]["x-version"] == {"value": "1"}
    (status,) = reg.status()
    assert status["loaded"] is True
    assert status["versions"] == 1
    assert "[optional-chaining]" in str(status["last_error"])
    # Fixing the file serves the new version and clears the error.
    write(file, good("2"))
    assert reg.reload("f") is None
    assert run(reg.get("f"))["headers"]["x-version"] == {"value": "2"}
    (status,) = reg.status()
    assert (status["versions"], status["last_error"]) == (2, None)
    assert reg.load_errors() == []


def test_a_missing_file_is_an_error_naming_it(tmp_path: Path) -> None:
    file = tmp_path / "nowhere.js"
    reg = registry(FunctionDecl("f", file))
    (error,) = reg.load_all()
    assert str(file) in error


class Ticks:
    """An edge clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_successful_reload_resets_the_throttle_window_and_the_warned_flag(
    tmp_path: Path,
) -> None:
    file = write(tmp_path / "f.js", OPTIONAL_CHAINING)
    clock = Ticks()
    throttling = Throttling(window_s=10, min_invocations=2, over_budget_ratio=0.5, duration_s=30)
    reg = registry(FunctionDecl("f", file, compat="lenient"), throttling=throttling, clock=clock)
    reg.load_all()
    slot = reg.slots["f"]
    slot.warned = True  # the stage logged the warnings for this version
    slot.throttle.record(over_budget=True)
    clock.now = 1.0
    assert slot.throttle.record(over_budget=True)
    assert reg.status()[0]["throttled"] is True
    # A failed reload is no new version: still throttled, warnings not repeated.
    write(file, SYNTAX_ERROR)
    assert reg.reload("f") is not None
    assert reg.slots["f"].throttle.throttled()
    assert reg.slots["f"].warned is True
    write(file, OPTIONAL_CHAINING.replace("host;", "host || '';"))
    assert reg.reload("f") is None
    slot = reg.slots["f"]
    assert reg.status()[0]["throttled"] is False
    assert slot.warned is False
    assert slot.findings  # the new version's findings, to be logged again
    # The new window starts empty: one over-budget run is not enough to throttle it.
    clock.now = 2.0
    assert slot.throttle.record(over_budget=True) is False


# --- KVS replicas ----------------------------------------------------------------------------

KVS_FUNCTION = """\
import cf from 'cloudfront';
const kvs = cf.kvs();
async function handler(event) {
  const colour = await kvs.get('colour');
  event.request.headers['x-colour'] = { value: colour };
  return event.request;
}
"""
KVS_CONFIG = """
[server]
ephemeral = true

[[origins]]
id = "app"
url = "http://127.0.0.1:3000"

[[kvs]]
name = "site"
data = "seed.json"

[[functions]]
name = "reader"
file = "reader.js"
kvs = "site"

[[functions]]
name = "plain"
file = "plain.js"

[default_behavior]
origin = "app"
viewer_request = "reader"

[edges]
pops = ["IAD", "FRA"]
propagation = { model = "fixed", lag_ms = 0, per_pop_ms = { FRA = 5000 } }
"""


@pytest.fixture
def kvs_dist(tmp_path: Path) -> Distribution:
    files = {
        "seed.json": '{"data": [{"key": "colour", "value": "red"}]}',
        "reader.js": KVS_FUNCTION,
        "plain.js": good("1"),
    }
    return make_dist(tmp_path, textwrap.dedent(KVS_CONFIG), files)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def kvs(kvs_dist: Distribution, clock: VirtualClock) -> Iterator[KvsService]:
    with kvs_service_for(kvs_dist, clock=clock) as service:
        sync_kvs_seeds(service, kvs_dist)
        yield service


def put(service: KvsService, key: str, value: str) -> None:
    service.put_key("site", key, value, if_match=service.describe("site").etag)


def test_replica_is_a_frozen_snapshot_of_the_pops_copy(
    kvs_dist: Distribution, kvs: KvsService
) -> None:
    reg = FunctionRegistry(kvs_dist.functions, kvs=kvs)
    assert reg.load_all() == []
    taken = reg.replica("reader", "IAD")
    assert taken is not None
    put(kvs, "colour", "blue")
    assert taken.get("colour") == "red"  # a write after the snapshot is not seen
    fresh = reg.replica("reader", "IAD")
    assert fresh is not None
    assert fresh.get("colour") == "blue"  # IAD: no lag


def test_each_pop_has_its_own_replica(
    kvs_dist: Distribution, kvs: KvsService, clock: VirtualClock
) -> None:
    reg = FunctionRegistry(kvs_dist.functions, kvs=kvs)
    reg.load_all()
    put(kvs, "colour", "blue")
    fra = reg.replica("reader", "FRA")
    assert fra is not None
    assert fra.get("colour") == "red"  # FRA is 5 s behind
    clock.advance(5.0)
    assert fra.get("colour") == "red"  # still the frozen view
    later = reg.replica("reader", "FRA")
    assert later is not None
    assert later.get("colour") == "blue"


def test_the_function_reads_the_snapshot_it_is_given(
    kvs_dist: Distribution, kvs: KvsService
) -> None:
    reg = FunctionRegistry(kvs_dist.functions, kvs=kvs)
    reg.load_all()
    function = reg.get("reader")
    assert function is not None
    snapshot = reg.replica("reader", "IAD")
    put(kvs, "colour", "blue")
    event = request_event(
        EdgeRequest("GET", "/", None, []),
        event_type="viewer-request",
        context={"distributionDomainName": "d.cloudfront.net", "requestId": "r"},
    )
    result = function.invoke(event, replica=snapshot)
    assert result.output is not None, result.error
    assert result.output["headers"]["x-colour"] == {"value": "red"}


def test_a_function_without_a_store_has_no_replica(kvs_dist: Distribution, kvs: KvsService) -> None:
    reg = FunctionRegistry(kvs_dist.functions, kvs=kvs)
    assert reg.replica("plain", "IAD") is None
    assert FunctionRegistry(kvs_dist.functions, kvs=None).replica("reader", "IAD") is None
