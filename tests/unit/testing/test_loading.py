"""edgesim.testing.loading: ``load_function`` and ``EdgeFunction.run``: which store a function
sees (none, a dict, an import file, a replicated store, a fault), at which POP, and the deploy's
compatibility check."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesim.errors import FunctionLoadError, KvsImportError
from edgesim.kvs.propagation import FixedLag, PerPopLag
from edgesim.kvs.reader import StaticKvs
from edgesim.runtime.function import InvocationResult
from edgesim.testing import EdgeFunction, ReplicatedKvs, load_function, viewer_request

ROOT = Path(__file__).resolve().parents[3]

# Answers what it saw: the POP, the raw query string, and key 'k' (or the store's error).
PROBE = """
import cf from 'cloudfront';

async function handler(event) {
  var headers = {
    'x-pop': { value: String(cf.edgeLocation.name) },
    'x-raw': { value: String(event.request.rawQueryString()) },
  };
  try {
    var value = await cf.kvs().get('k');
    headers['x-k'] = { value: String(value) };
  } catch (e) {
    headers['x-error'] = { value: e.message };
  }
  return { statusCode: 200, headers: headers };
}
"""


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("loading") / "probe.js"
    path.write_text(PROBE)
    return path


def seen(result: InvocationResult) -> dict[str, str]:
    assert result.error is None, result.error
    assert result.response is not None
    return {name: entry["value"] for name, entry in result.response["headers"].items()}


def run(fn: EdgeFunction, **kwargs: object) -> dict[str, str]:
    return seen(fn.run(viewer_request("/"), **kwargs))  # type: ignore[arg-type]


def test_unknown_kvs_argument_is_a_clear_type_error() -> None:
    with pytest.raises(TypeError, match="kvs=42: expected None, a dict"):
        load_function(ROOT / "functions" / "ab_cohort.js", kvs=42)  # type: ignore[arg-type]


def test_without_kvs_the_function_has_no_associated_store(probe: Path) -> None:
    fn = load_function(probe)
    assert fn.kvs is None
    assert run(fn)["x-error"].startswith("KVSNamespaceNotFound")


def test_a_dict_becomes_the_store_checked_like_an_import_file(probe: Path) -> None:
    fn = load_function(probe, kvs={"k": "from a dict"})
    assert isinstance(fn.kvs, StaticKvs)
    assert run(fn)["x-k"] == "from a dict"
    assert run(load_function(probe, kvs={}))["x-error"].startswith("KeyNotFound")
    with pytest.raises(KvsImportError, match=r"kvs=\{\.\.\.\}: data\[0\]: key is 513 bytes"):
        load_function(probe, kvs={"k" * 513: "v"})


def test_a_path_loads_an_import_file_named_after_the_file(probe: Path, tmp_path: Path) -> None:
    data = tmp_path / "flags.json"
    data.write_text('{"data": [{"key": "k", "value": "from a file"}]}')
    for given in (data, str(data)):
        fn = load_function(probe, kvs=given)
        assert isinstance(fn.kvs, StaticKvs)
        assert fn.kvs.name == "flags"
        assert run(fn)["x-k"] == "from a file"
    with pytest.raises(KvsImportError, match=r"missing\.json: cannot read the KVS file"):
        load_function(probe, kvs=tmp_path / "missing.json")


def test_any_reader_is_used_as_it_is(probe: Path) -> None:
    reader = StaticKvs({"k": "mine"})
    fn = load_function(probe, kvs=reader)
    assert fn.kvs is reader
    assert run(fn)["x-k"] == "mine"


def test_a_replicated_store_is_read_at_the_pop_of_the_run(probe: Path) -> None:
    lag = PerPopLag({"NRT": 10.0}, FixedLag(1.0))
    with ReplicatedKvs({"k": "old"}, pops=("IAD", "NRT"), lag=lag) as kvs:
        fn = load_function(probe, kvs=kvs)
        kvs.put("k", "new")
        kvs.advance(1)
        assert (run(fn)["x-pop"], run(fn)["x-k"]) == ("IAD", "new")  # default: the first POP
        assert (run(fn, pop="NRT")["x-pop"], run(fn, pop="NRT")["x-k"]) == ("NRT", "old")
        kvs.settle()
        assert run(fn, pop="NRT")["x-k"] == "new"


def test_with_fault_breaks_the_functions_own_store_for_one_run(probe: Path) -> None:
    fn = load_function(probe, kvs={"k": "v"})
    assert run(fn, kvs=fn.with_fault("missing-key"))["x-error"].startswith("KeyNotFound")
    assert run(fn, kvs=fn.with_fault("empty"))["x-k"] == ""
    assert run(fn, kvs=fn.with_fault("missing-key", keys=frozenset({"other"})))["x-k"] == "v"
    not_associated = run(fn, kvs=fn.with_fault("not-associated"))
    assert not_associated["x-error"].startswith("KVSNamespaceNotFound")
    assert run(fn)["x-k"] == "v"  # the next run has its store back


def test_raw_query_string_is_rebuilt_from_the_event_unless_given(probe: Path) -> None:
    fn = load_function(probe)
    assert seen(fn.run(viewer_request("/p?a=1&b")))["x-raw"] == "a=1&b"
    assert seen(fn.run(viewer_request("/p?a=1"), raw_query="a=%31"))["x-raw"] == "a=%31"


def test_code_cloudfront_would_reject_fails_to_load_unless_compat_is_lenient(
    tmp_path: Path,
) -> None:
    path = tmp_path / "modern.js"
    path.write_text(
        "function handler(event) {\n  for (const k of [1]) {}\n  return event.request;\n}\n"
    )
    with pytest.raises(FunctionLoadError, match=r"modern\.js:2:.*for-of"):
        load_function(path)
    fn = load_function(path, compat="lenient")
    assert fn.run(viewer_request("/")).kind == "request"


def test_runtime_defaults_to_cloudfront_js_2(probe: Path, tmp_path: Path) -> None:
    assert load_function(probe).runtime == "cloudfront-js-2.0"
    old = tmp_path / "old.js"
    old.write_text("function handler(event) { return event.request; }")
    assert load_function(old, runtime="cloudfront-js-1.0").runtime == "cloudfront-js-1.0"
