"""The pytest plugin: its fixtures directly, and (with pytester) as pytest loads it."""

from __future__ import annotations

import ast
import json
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

import edgesim.app

# Imported here so that pytester's inner runs find them already loaded (it drops modules first
# imported by an inner run, which would leave two copies of edgesim's classes around).
import edgesim.distribution.config
import edgesim.testing.plugin as plugin
from edgesim.errors import FunctionLoadError, InputError
from edgesim.testing import EdgeFunction, ReplicatedKvs, viewer_request
from edgesim.testing.plugin import EdgesimServer
from edgesim.testing.properties import request_header

PRELOADED = (edgesim.distribution.config, edgesim.app)
ROOT = Path(__file__).resolve().parents[3]
# Block the entry point (if installed) and load the module by name, so the plugin is registered
# once either way. The module is already imported by this process, hence no assertion rewriting.
PLUGIN_ARGS = (
    "-p",
    "no:edgesim",
    "-p",
    "edgesim.testing.plugin",
    "-W",
    "ignore::pytest.PytestAssertRewriteWarning",
)
INNER_INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"

LoadFn = Callable[..., EdgeFunction]
MakeKvs = Callable[..., ReplicatedKvs]
StartServer = Callable[..., Awaitable[EdgesimServer]]


def cohort_of(fn: EdgeFunction, pop: str | None = None) -> str | None:
    result = fn.run(viewer_request("/checkout", cookies={"uid": "viewer-42"}), pop=pop)
    return request_header("x-cohort")(result)


# -- edgesim_load / edgesim_kvs ---------------------------------------------------------------


def test_load_resolves_paths_against_the_rootdir(edgesim_load: LoadFn) -> None:
    fn = edgesim_load("functions/ab_cohort.js", kvs="fixtures/kvs/ab_cohort.json")
    assert cohort_of(fn) in ("a", "b")
    assert fn.runtime == "cloudfront-js-2.0"


def test_load_with_pops_replicates_the_store(edgesim_load: LoadFn) -> None:
    fn = edgesim_load(
        "functions/ab_cohort.js",
        kvs=ROOT / "fixtures/kvs/ab_cohort.json",
        pops=("IAD", "SIN"),
        lag={"SIN": 10},
    )
    assert isinstance(fn.kvs, ReplicatedKvs)
    assert fn.kvs.pops == ("IAD", "SIN")
    fn.kvs.delete("experiment:checkout")
    fn.kvs.advance(1)
    # The delete reached IAD at once and SIN not yet: only SIN still assigns a cohort.
    assert (cohort_of(fn, "IAD"), cohort_of(fn, "SIN") is not None) == (None, True)


def test_load_refuses_to_replicate_a_store_object(
    edgesim_load: LoadFn, edgesim_kvs: MakeKvs
) -> None:
    with pytest.raises(TypeError, match="replicate a dict"):
        edgesim_load("functions/ab_cohort.js", kvs=edgesim_kvs(), pops=("IAD",))


def test_load_refuses_to_invent_a_store_for_kvs_none(edgesim_load: LoadFn) -> None:
    with pytest.raises(TypeError, match="replicate a dict"):
        edgesim_load("functions/ab_cohort.js", kvs=None, lag=1)


def test_kvs_factory_takes_files_and_per_pop_lags(edgesim_kvs: MakeKvs) -> None:
    kvs = edgesim_kvs("fixtures/kvs/ab_cohort.json", lag={"FRA": 1, "NRT": 2})
    assert kvs.items()["kill-switch"] == "off"
    kvs.put("kill-switch", "on")
    kvs.advance(1.5)
    assert [kvs.replica(p).get("kill-switch") for p in kvs.pops] == ["on", "on", "off"]


# -- edgesim_server ---------------------------------------------------------------------------


@dataclass
class Origin:
    url: str
    paths: list[str] = field(default_factory=list)


@pytest.fixture
async def origin() -> AsyncIterator[Origin]:
    """A tiny origin that records the paths it is asked for."""
    seen = Origin(url="")

    async def handle(request: web.Request) -> web.Response:
        seen.paths.append(request.raw_path)
        return web.Response(text="from origin", headers={"Cache-Control": "no-store"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    seen.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield seen
    await runner.cleanup()


AB_CONFIG = """
[[origins]]
id = "app"
url = "{origin}"

[[kvs]]
name = "config"
data = "fixtures/kvs/ab_cohort.json"

[[functions]]
name = "ab"
file = "functions/ab_cohort.js"
kvs = "config"

[edges]
pops = ["IAD", "FRA"]
propagation = { model = "fixed", lag_ms = 2000 }

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
viewer_request = "ab"
"""

ALL_B = json.dumps({"path": "/checkout", "variants": [{"name": "b", "weight": 100}]})


async def get(url: str, **headers: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        return response.status, await response.text()


async def test_server_runs_the_function_in_front_of_the_origin(
    edgesim_server: StartServer, origin: Origin
) -> None:
    edge = await edgesim_server(AB_CONFIG, origin=origin.url)
    assert edge.url.startswith("http://127.0.0.1:")
    assert edge.admin != edge.url
    status, body = await get(edge.url + "/checkout/cart", Cookie="uid=viewer-42")
    assert (status, body) == (200, "from origin")
    first = origin.paths[-1]
    assert first in ("/a/checkout/cart", "/b/checkout/cart")
    # A KVS write lands only as the test moves the virtual clock.
    edge.kvs.put_key(
        "config", "experiment:checkout", ALL_B, if_match=edge.kvs.describe("config").etag
    )
    await get(edge.url + "/checkout/cart", Cookie="uid=viewer-42")
    assert origin.paths[-1] == first
    edge.settle()
    for pop in ("IAD", "FRA"):
        await get(edge.url + "/checkout/cart", Cookie="uid=viewer-42", **{"x-edgesim-pop": pop})
        assert origin.paths[-1] == "/b/checkout/cart"
    status, body = await get(edge.admin + "/status")
    assert status == 200
    assert json.loads(body)["pops"] == ["IAD", "FRA"]
    assert any("kvs config: seeded" in line for line in edge.logs)


async def test_server_from_a_dict_without_origins(
    edgesim_server: StartServer, origin: Origin
) -> None:
    edge = await edgesim_server({"edges": {"pops": ["IAD"]}}, origin=origin.url)
    status, _ = await get(edge.url + "/plain")
    assert status == 200
    assert origin.paths == ["/plain"]


async def test_server_from_a_config_file(
    edgesim_server: StartServer, origin: Origin, tmp_path: Path
) -> None:
    (tmp_path / "hello.js").write_text(
        "function handler(event) { return { statusCode: 200, body: 'hi from the edge' }; }"
    )
    config = tmp_path / "edgesim.toml"
    config.write_text(
        textwrap.dedent(
            """
            [server]
            port = 8080
            [[origins]]
            id = "app"
            url = "{origin}"
            [[functions]]
            name = "hello"
            file = "hello.js"
            [default_behavior]
            origin = "app"
            viewer_request = "hello"
            """
        )
    )
    edge = await edgesim_server(config, origin=origin.url)
    assert edge.server.viewer_port != 8080  # always a free port
    assert await get(edge.url + "/") == (200, "hi from the edge")
    assert origin.paths == []


async def test_server_fails_on_a_function_that_does_not_load(
    edgesim_server: StartServer, origin: Origin, tmp_path: Path
) -> None:
    (tmp_path / "broken.js").write_text("function handler(event) { return event.request;")
    config = {
        "functions": [{"name": "broken", "file": "broken.js"}],
        "default_behavior": {"origin": "origin", "viewer_request": "broken"},
    }
    with pytest.raises(FunctionLoadError, match=r"(?s)function broken:.*broken\.js:1:\d+.*syntax"):
        await edgesim_server(config, origin=origin.url, base_dir=tmp_path)


async def test_server_config_mistakes_are_explained(edgesim_server: StartServer) -> None:
    with pytest.raises(ValueError, match="uses '\\{origin\\}' but no origin= was given"):
        await edgesim_server(AB_CONFIG)
    own = AB_CONFIG.replace("{origin}", "http://127.0.0.1:9")
    with pytest.raises(ValueError, match="none uses '\\{origin\\}'"):
        await edgesim_server(own, origin="http://127.0.0.1:1")
    with pytest.raises(InputError, match=r"to load a file, pass a pathlib\.Path"):
        await edgesim_server("edgesim.toml")
    with pytest.raises(InputError, match="at least one \\[\\[origins\\]\\]"):
        await edgesim_server({})


async def test_a_default_behaviour_naming_another_id_gets_the_origin_under_that_id(
    edgesim_server: StartServer, origin: Origin
) -> None:
    edge = await edgesim_server({"default_behavior": {"origin": "app"}}, origin=origin.url)
    assert await get(edge.url + "/hello") == (200, "from origin")
    assert origin.paths == ["/hello"]
    assert [o.id for o in edge.server.dist.origins.values()] == ["app"]


async def test_the_one_origin_without_a_url_gets_the_origin(
    edgesim_server: StartServer, origin: Origin
) -> None:
    config = '[[origins]]\nid = "web"\n\n[default_behavior]\norigin = "web"\n'
    edge = await edgesim_server(config, origin=origin.url)
    assert await get(edge.url + "/x") == (200, "from origin")
    assert edge.server.dist.origins["web"].url == origin.url


URL = "http://127.0.0.1:1"


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        # No origin named: the injected one is "origin", and the default behaviour's.
        ({}, {"origins": [{"id": "origin", "url": URL}], "default_behavior": {"origin": "origin"}}),
        (
            {"default_behavior": {"cache_policy": "CachingDisabled"}},
            {
                "default_behavior": {"cache_policy": "CachingDisabled", "origin": "origin"},
                "origins": [{"id": "origin", "url": URL}],
            },
        ),
        # One id named and not defined: the injected origin takes it.
        (
            {"behaviors": [{"path": "/api*", "origin": "api"}]},
            {
                "behaviors": [{"path": "/api*", "origin": "api"}],
                "origins": [{"id": "api", "url": URL}],
                "default_behavior": {"origin": "api"},
            },
        ),
        (
            {
                "origins": [{"id": "static", "url": "http://127.0.0.1:2"}],
                "default_behavior": {"origin": "app"},
            },
            {
                "origins": [
                    {"id": "static", "url": "http://127.0.0.1:2"},
                    {"id": "app", "url": URL},
                ],
                "default_behavior": {"origin": "app"},
            },
        ),
        # An origin group's id is not an origin; its members are.
        (
            {
                "origin_groups": [{"id": "g", "primary": "main", "secondary": "main"}],
                "default_behavior": {"origin": "g"},
            },
            {
                "origin_groups": [{"id": "g", "primary": "main", "secondary": "main"}],
                "default_behavior": {"origin": "g"},
                "origins": [{"id": "main", "url": URL}],
            },
        ),
        # The one table without a url gets it.
        (
            {"origins": [{"id": "a", "url": "http://127.0.0.1:2"}, {"id": "b"}]},
            {"origins": [{"id": "a", "url": "http://127.0.0.1:2"}, {"id": "b", "url": URL}]},
        ),
    ],
)
def test_where_the_origin_goes(doc: dict[str, object], expected: dict[str, object]) -> None:
    assert plugin._with_origin(doc, URL) == expected


@pytest.mark.parametrize(
    ("doc", "advice"),
    [
        (
            {"origins": [{"id": "app", "url": "http://127.0.0.1:2"}]},
            "the config's only [[origins]] (id = 'app') has its own url ('http://127.0.0.1:2') "
            "and none uses '{origin}': write url = \"{origin}\" in it, or leave out origin=",
        ),
        (
            {
                "default_behavior": {"origin": "app"},
                "behaviors": [{"path": "/api*", "origin": "api"}],
            },
            "the config names 2 origins that no [[origins]] defines ('app', 'api') and origin= is "
            'one URL: add an [[origins]] table for each, with url = "{origin}" on the one origin= '
            'stands for, e.g.\n\n[[origins]]\nid = "app"\nurl = "{origin}"\n\n'
            '[[origins]]\nid = "api"\nurl = "http://…"',
        ),
        (
            {"origins": [{"id": "a"}, {"id": "b"}]},
            "2 [[origins]] have no url ('a', 'b'): write url = \"{origin}\" in the one origin= "
            "stands for",
        ),
        (
            {"origins": [{"id": "web"}], "default_behavior": {"origin": "app"}},
            "the config's [[origins]] 'web' has no url and the behaviours name 'app', which no "
            '[[origins]] defines: if they are one origin, write id = "app" in that table',
        ),
    ],
)
def test_no_single_place_for_the_origin_says_what_to_write(
    doc: dict[str, object], advice: str
) -> None:
    with pytest.raises(ValueError, match=r"^origin= was given, but ") as e:
        plugin._with_origin(doc, URL)
    assert advice in str(e.value)


# -- the plugin as pytest loads it ------------------------------------------------------------


def test_plugin_module_imports_only_pytest_at_top_level() -> None:
    """Loaded in every project with edgesim installed: edgesim itself must wait for a fixture."""
    tree = ast.parse(Path(plugin.__file__).read_text())
    imported = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
        elif isinstance(node, ast.Try):  # the optional pytest-asyncio import
            imported |= {n.module or "" for n in ast.walk(node) if isinstance(n, ast.ImportFrom)}
    allowed = {"__future__", "copy", "io", "os", "collections.abc", "dataclasses", "pathlib"}
    assert imported <= allowed | {"typing", "pytest", "pytest_asyncio"}


INNER_TESTS = """
import socket

import pytest

KEPT = {{}}


def test_uses_the_factories(edgesim_load, edgesim_kvs):
    KEPT["kvs"] = edgesim_kvs({{"k": "v"}})
    KEPT["fn"] = edgesim_load({function!r}, kvs={{"experiment:checkout": "{{}}"}}, pops=("IAD",))
    assert KEPT["kvs"].replica("FRA").get("k") == "v"


def test_stores_were_closed_after_the_test():
    for store in (KEPT["kvs"], KEPT["fn"].kvs):
        with pytest.raises(Exception, match="closed"):
            store.put("k", "w")


async def test_starts_a_server(edgesim_server):
    edge = await edgesim_server({{"origins": [{{"id": "o", "url": "http://127.0.0.1:9"}}],
                                 "default_behavior": {{"origin": "o"}}}})
    KEPT["port"] = edge.server.viewer_port
    socket.create_connection(("127.0.0.1", KEPT["port"]), timeout=2).close()


def test_server_was_stopped_after_the_test():
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", KEPT["port"]), timeout=2).close()
"""


def test_fixtures_clean_up_when_loaded_as_a_plugin(pytester: pytest.Pytester) -> None:
    pytester.makeini(INNER_INI)
    pytester.makepyfile(
        test_inner=INNER_TESTS.format(function=str(ROOT / "functions" / "ab_cohort.js"))
    )
    result = pytester.runpytest(*PLUGIN_ARGS, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_plugin_lists_its_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makeini(INNER_INI)
    result = pytester.runpytest(*PLUGIN_ARGS, "--fixtures")
    result.stdout.fnmatch_lines(["*fixtures defined from edgesim.testing.plugin*"])
    for name in ("edgesim_kvs", "edgesim_load", "edgesim_server"):
        result.stdout.fnmatch_lines([f"{name} -- *edgesim/testing/plugin.py:*"])
