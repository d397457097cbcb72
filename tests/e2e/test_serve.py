"""``serve`` from the outside: what a viewer and the origin see, as CloudFront would show it."""

from __future__ import annotations

import asyncio
import itertools
import re
from pathlib import Path

import pytest

from tests.e2e.conftest import StartEdge

BASIC = """
[[origins]]
id = "app"
url = "{origin}"

[edges]
pops = ["IAD", "FRA"]

[default_behavior]
origin = "app"
cache_policy = "CachingOptimized"
"""


async def test_miss_then_hit_with_cloudfront_headers(start_edge: StartEdge) -> None:
    edge = await start_edge(BASIC)
    status, headers, body = await edge.get("/index.html")
    assert (status, body) == (200, b"hello from origin")
    assert headers["X-Cache"] == "Miss from cloudfront"
    assert re.fullmatch(r"1\.1 [0-9a-f]{32}\.cloudfront\.net \(CloudFront\)", headers["Via"])
    assert headers["X-Amz-Cf-Pop"].startswith("IAD")
    assert len(headers["X-Amz-Cf-Id"]) == 56
    status, headers, body = await edge.get("/index.html")
    assert (status, body) == (200, b"hello from origin")
    assert headers["X-Cache"] == "Hit from cloudfront"
    assert "Age" in headers
    assert len(edge.origin.seen) == 1


async def test_origin_gets_cloudfront_request_headers(start_edge: StartEdge) -> None:
    edge = await start_edge(BASIC)
    await edge.get("/a", **{"x-edgesim-pop": "FRA", "x-edgesim-viewer-country": "DE"})
    seen = edge.origin.seen[0]["headers"]
    assert "x-edgesim-pop" not in seen
    assert "x-edgesim-viewer-country" not in seen
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert len(seen["x-amz-cf-id"]) == 56
    assert seen["user-agent"] == "Amazon CloudFront"  # CachingOptimized forwards no headers
    assert seen["host"] == edge.origin.url.removeprefix("http://")


async def test_pop_header_selects_pop_and_bad_pop_is_400(start_edge: StartEdge) -> None:
    edge = await start_edge(BASIC)
    _, headers, _ = await edge.get("/a", **{"x-edgesim-pop": "fra"})
    assert headers["X-Amz-Cf-Pop"].startswith("FRA")
    status, _, body = await edge.get("/a", **{"x-edgesim-pop": "XYZ"})
    assert status == 400
    assert b"XYZ" in body


GENERATED = """
[[origins]]
id = "app"
url = "{origin}"

[[functions]]
name = "gate"
file = "gate.js"

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
origin_request_policy = "AllViewer"
viewer_request = "gate"
"""

GATE_JS = """
function handler(event) {
  var request = event.request;
  if (request.uri === '/deny') {
    return { statusCode: 403, statusDescription: 'Forbidden',
             headers: { 'x-reason': { value: 'denied' } } };
  }
  if (request.uri === '/boom') {
    throw new Error('kaboom');
  }
  if (request.uri === '/bad') {
    request.headers['x-amz-cf-id'] = { value: 'nope' };
  }
  request.headers['x-gate'] = { value: 'passed' };
  return request;
}
"""


async def test_viewer_request_function_paths(start_edge: StartEdge) -> None:
    edge = await start_edge(GENERATED, files={"gate.js": GATE_JS})
    status, headers, _ = await edge.get("/deny")
    assert status == 403
    assert headers["X-Cache"] == "FunctionGeneratedResponse from cloudfront"
    assert headers["Server"] == "CloudFront"
    assert headers["X-Reason"] == "denied"

    status, headers, body = await edge.get("/boom")
    assert status == 503
    assert headers["X-Cache"] == "FunctionExecutionError from cloudfront"
    # CloudFront's own error page; the detail is in the console, never in the body.
    assert b"The CloudFront function associated with the CloudFront distribution" in body
    assert b"kaboom" not in body
    assert any("kaboom" in line for line in edge.server.stream.lines)  # type: ignore[attr-defined]

    status, headers, _ = await edge.get("/bad")
    assert status == 502
    assert headers["X-Cache"] == "FunctionValidationError from cloudfront"

    status, headers, _ = await edge.get("/ok")
    assert status == 200
    assert edge.origin.seen[-1]["headers"]["x-gate"] == "passed"
    assert headers["X-Cache"] == "Miss from cloudfront"
    assert len(edge.origin.seen) == 1  # generated and failed requests never reach the origin


async def test_function_added_header_needs_a_policy_to_reach_origin(start_edge: StartEdge) -> None:
    config = GENERATED.replace('origin_request_policy = "AllViewer"\n', "")
    edge = await start_edge(config, files={"gate.js": GATE_JS})
    await edge.get("/ok")
    assert "x-gate" not in edge.origin.seen[-1]["headers"]


VIEWER_RESPONSE = """
[[origins]]
id = "app"
url = "{origin}"

[[functions]]
name = "stamp"
file = "stamp.js"

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
viewer_response = "stamp"
"""

STAMP_JS = """
function handler(event) {
  var response = event.response;
  response.headers['x-stamped'] = { value: String(response.statusCode) };
  return response;
}
"""


async def test_viewer_response_runs_below_400_only(start_edge: StartEdge) -> None:
    edge = await start_edge(VIEWER_RESPONSE, files={"stamp.js": STAMP_JS})
    _, headers, body = await edge.get("/page")
    assert headers["X-Stamped"] == "200"
    assert body == b"hello from origin"
    status, headers, _ = await edge.get("/status/404")
    assert status == 404
    assert "X-Stamped" not in headers
    assert headers["X-Cache"] == "Error from cloudfront"


KVS_CONFIG = """
[[origins]]
id = "app"
url = "{origin}"

[[kvs]]
name = "flags"
data = "flags.json"

[[functions]]
name = "flag"
file = "flag.js"
kvs = "flags"

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
viewer_request = "flag"

[edges]
pops = ["IAD", "FRA"]
propagation = { model = "fixed", lag_ms = 2000 }

[edges.propagation_per_pop]
FRA = 5000
"""

FLAG_JS = """
import cf from 'cloudfront';
const kvs = cf.kvs();
async function handler(event) {
  const request = event.request;
  let value;
  try {
    value = await kvs.get('mode');
  } catch (err) {
    value = 'missing';
  }
  return { statusCode: 200, headers: { 'x-mode': { value: value } } };
}
"""


async def test_kvs_write_reaches_each_pop_after_its_lag(start_edge: StartEdge) -> None:
    edge = await start_edge(
        KVS_CONFIG,
        files={"flag.js": FLAG_JS, "flags.json": '{"data": [{"key": "mode", "value": "old"}]}'},
    )

    async def modes() -> tuple[str, str]:
        out = []
        for pop in ("IAD", "FRA"):
            _, headers, _ = await edge.get("/", **{"x-edgesim-pop": pop})
            out.append(headers["X-Mode"])
        return out[0], out[1]

    assert await modes() == ("old", "old")  # seed data is everywhere from the start
    kvs = edge.server.kvs
    kvs.put_key("flags", "mode", "new", if_match=kvs.describe("flags").etag)
    assert await modes() == ("old", "old")
    edge.clock.advance(2.5)
    assert await modes() == ("new", "old")
    edge.clock.advance(3)
    assert await modes() == ("new", "new")


async def test_hot_reload_keeps_last_good_version(start_edge: StartEdge, tmp_path: Path) -> None:
    edge = await start_edge(GENERATED, files={"gate.js": GATE_JS})
    gate = tmp_path / "gate.js"
    gate.write_text(GATE_JS.replace("'denied'", "'denied-v2'"))
    assert edge.server.reload_function_file(gate)
    _, headers, _ = await edge.get("/deny")
    assert headers["X-Reason"] == "denied-v2"
    gate.write_text("function handler(event) {\n  return event.request\n  var = ;\n}\n")
    edge.server.reload_function_file(gate)
    _, headers, _ = await edge.get("/deny")
    assert headers["X-Reason"] == "denied-v2"
    status = edge.server.status()
    error = status["functions"][0]["last_error"]
    assert "syntax" in error.lower()
    assert "gate.js:3" in error


async def test_unreachable_origin_is_502_and_slow_origin_504(start_edge: StartEdge) -> None:
    edge = await start_edge(
        """
        [[origins]]
        id = "dead"
        url = "http://127.0.0.1:9"
        connection_attempts = 1

        [[origins]]
        id = "slow"
        url = "{origin}"
        response_timeout_s = 1

        [[behaviors]]
        path = "/slow*"
        origin = "slow"
        cache_policy = "CachingDisabled"

        [default_behavior]
        origin = "dead"
        cache_policy = "CachingDisabled"
        """
    )
    status, headers, _ = await edge.get("/x")
    assert status == 502
    assert headers["X-Cache"] == "Error from cloudfront"
    edge.origin.delay_s = 1.5
    status, _, _ = await edge.get("/slow")
    assert status == 504


async def test_origin_group_fails_over_on_configured_status(start_edge: StartEdge) -> None:
    edge = await start_edge(
        """
        [[origins]]
        id = "primary"
        url = "http://127.0.0.1:9"
        connection_attempts = 1

        [[origins]]
        id = "secondary"
        url = "{origin}"

        [[origin_groups]]
        id = "group"
        primary = "primary"
        secondary = "secondary"
        failover_status_codes = [502, 503]

        [default_behavior]
        origin = "group"
        cache_policy = "CachingDisabled"
        """
    )
    status, _, body = await edge.get("/x")
    assert (status, body) == (200, b"hello from origin")


async def test_large_download_streams_and_caches_intact(start_edge: StartEdge) -> None:
    edge = await start_edge(BASIC)
    size = 20 * 1024 * 1024
    status, headers, body = await edge.get(f"/big/{size}")
    expected = (bytes(range(256)) * 256 * (size // 65536 + 1))[:size]
    assert status == 200
    assert body == expected
    status, headers, body = await edge.get(f"/big/{size}")
    assert headers["X-Cache"] == "Hit from cloudfront"
    assert body == expected


async def test_upload_streams_to_origin(start_edge: StartEdge) -> None:
    edge = await start_edge(
        """
        [[origins]]
        id = "app"
        url = "{origin}"

        [default_behavior]
        origin = "app"
        cache_policy = "CachingDisabled"
        allowed_methods = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]
        """
    )

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(64):
            yield b"x" * 65536

    status, _, _ = await edge.get("/upload", method="POST", data=chunks())
    assert status == 200
    assert edge.origin.seen[-1]["body_len"] == 64 * 65536


async def test_post_not_allowed_by_default_is_403(start_edge: StartEdge) -> None:
    edge = await start_edge(BASIC)
    status, _, _ = await edge.get("/form", method="POST", data=b"a=1")
    assert status == 403
    assert edge.origin.seen == []


async def test_viewer_country_reaches_function_only_when_a_policy_names_it(
    start_edge: StartEdge,
) -> None:
    files = {
        "echo.js": """
        function handler(event) {
          var c = event.request.headers['cloudfront-viewer-country'];
          return { statusCode: 200, headers: { 'x-country': { value: c ? c.value : 'none' } } };
        }
        """
    }
    edge = await start_edge(
        """
        [[origins]]
        id = "app"
        url = "{origin}"

        [[functions]]
        name = "echo"
        file = "echo.js"

        [[behaviors]]
        path = "/with*"
        origin = "app"
        viewer_request = "echo"
        cache_policy = "CachingDisabled"
        origin_request_policy = "AllViewerAndCloudFrontHeaders-2022-06"

        [default_behavior]
        origin = "app"
        viewer_request = "echo"
        cache_policy = "CachingDisabled"
        origin_request_policy = "AllViewer"
        """,
        files=files,
    )
    _, headers, _ = await edge.get("/with", **{"x-edgesim-viewer-country": "jp"})
    assert headers["X-Country"] == "JP"
    _, headers, _ = await edge.get("/plain", **{"x-edgesim-viewer-country": "JP"})
    assert headers["X-Country"] == "none"


async def test_invalidation_and_metrics(start_edge: StartEdge) -> None:
    edge = await start_edge(BASIC)
    await edge.get("/images/a.png")
    await edge.get("/images/a.png")
    async with edge.session.post(
        edge.admin + "/cache/invalidations", json={"paths": ["/images/*"]}
    ) as response:
        assert (await response.json())["invalidated"]["/images/*"] == 1
    _, headers, _ = await edge.get("/images/a.png")
    assert headers["X-Cache"] == "Miss from cloudfront"
    async with edge.session.get(edge.admin + "/metrics") as response:
        text = await response.text()
    assert 'edgesim_requests{result_type="Hit"} 1' in text
    assert 'edgesim_requests{result_type="Miss"} 2' in text


async def test_function_generated_responses_are_not_cached(start_edge: StartEdge) -> None:
    edge = await start_edge(GENERATED, files={"gate.js": GATE_JS})
    for _ in range(2):
        _, headers, _ = await edge.get("/deny")
        assert headers["X-Cache"] == "FunctionGeneratedResponse from cloudfront"
    await asyncio.sleep(0)


@pytest.mark.parametrize("path", ["/a b", "/%E5%AE%B6?q=%E5%AE%B6"])
async def test_paths_reach_origin_as_sent(start_edge: StartEdge, path: str) -> None:
    edge = await start_edge(BASIC + 'origin_request_policy = "AllViewer"\n')
    quoted = path.replace(" ", "%20")
    await edge.get(quoted)
    assert edge.origin.seen[0]["path_qs"] == quoted


async def test_query_string_not_forwarded_unless_a_policy_names_it(start_edge: StartEdge) -> None:
    edge = await start_edge(BASIC)
    await edge.get("/p?utm=1")
    assert edge.origin.seen[0]["path_qs"] == "/p"


GEO = """
[[origins]]
id = "app"
url = "{origin}"

[[cache_policies]]
name = "ByCountry"
min_ttl = 0
default_ttl = 60
max_ttl = 3600
headers = ["cloudfront-viewer-country"]

[[behaviors]]
path = "/geo-keyed*"
origin = "app"
cache_policy = "ByCountry"
origin_request_policy = "AllViewerAndCloudFrontHeaders-2022-06"

[default_behavior]
origin = "app"
cache_policy = "CachingOptimized"
origin_request_policy = "AllViewerAndCloudFrontHeaders-2022-06"
"""


async def test_cached_redirect_reaches_the_wrong_country_unless_country_is_keyed(
    start_edge: StartEdge,
) -> None:
    edge = await start_edge(GEO)
    country = "x-edgesim-viewer-country"
    status, headers, _ = await edge.get("/geo", **{country: "DE"})
    assert (status, headers["Location"]) == (302, "https://de.example.com/")
    # The country reaches the origin but is not in CachingOptimized's key: France gets Germany's.
    status, headers, _ = await edge.get("/geo", **{country: "FR"})
    assert headers["X-Cache"] == "Hit from cloudfront"
    assert headers["Location"] == "https://de.example.com/"
    # Keyed on the country, each country gets its own cached redirect.
    _, headers, _ = await edge.get("/geo-keyed", **{country: "DE"})
    assert headers["Location"] == "https://de.example.com/"
    _, headers, _ = await edge.get("/geo-keyed", **{country: "FR"})
    assert headers["X-Cache"] == "Miss from cloudfront"
    assert headers["Location"] == "https://fr.example.com/"


KILL_SWITCH_JS = """
import cf from 'cloudfront';
async function handler(event) {
  let state = 'off';
  try {
    state = await cf.kvs().get('kill-switch');
  } catch (err) {
    state = 'off';
  }
  if (state === 'on') {
    return { statusCode: 503, statusDescription: 'Service Unavailable',
             headers: { 'retry-after': { value: '30' } } };
  }
  return event.request;
}
"""

KILL_SWITCH = """
[[origins]]
id = "app"
url = "{origin}"

[[kvs]]
name = "switches"
data = "switches.json"

[[functions]]
name = "kill"
file = "kill.js"
kvs = "switches"

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
viewer_request = "kill"

[edges]
pops = ["IAD", "FRA", "NRT"]
propagation = { model = "uniform", min_ms = 500, max_ms = 3000, seed = 7 }
"""


async def test_kill_switch_flips_at_every_pop_within_the_configured_lag(
    start_edge: StartEdge,
) -> None:
    edge = await start_edge(
        KILL_SWITCH,
        files={
            "kill.js": KILL_SWITCH_JS,
            "switches.json": '{"data": [{"key": "kill-switch", "value": "off"}]}',
        },
    )

    async def statuses() -> list[int]:
        return [(await edge.get("/", **{"x-edgesim-pop": pop}))[0] for pop in ("IAD", "FRA", "NRT")]

    assert await statuses() == [200, 200, 200]
    # Flip it through the control plane, as an operator would (the AWS wire API).
    async with edge.session.get(edge.admin + "/__edgesim/kvs/stores/switches") as response:
        store = await response.json()
    arn = store["arn"].replace(":", "%3A").replace("/", "%2F")
    async with edge.session.put(
        f"{edge.admin}/key-value-stores/{arn}/keys/kill-switch",
        json={"Value": "on"},
        headers={"If-Match": store["etag"]},
    ) as response:
        assert response.status == 200
    assert await statuses() == [200, 200, 200]  # nothing lands before the minimum lag
    seen = []
    for _ in range(30):  # 100 ms steps up to the 3 s maximum
        edge.clock.advance(0.1)
        seen.append(await statuses())
    assert seen[-1] == [503, 503, 503]
    assert any(0 < row.count(503) < 3 for row in seen), "POPs should disagree for a while"
    for earlier, later in itertools.pairwise(seen):
        assert all(a <= b for a, b in zip(earlier, later, strict=True)), "a POP went back"


REPO_ROOT = str(Path(__file__).resolve().parents[2])

NORMALISE = """
[[origins]]
id = "app"
url = "{origin}"

[[kvs]]
name = "rules"
data = "{root}/fixtures/kvs/cache_key_normalise.json"

[[functions]]
name = "normalise"
file = "{root}/functions/cache_key_normalise.js"
kvs = "rules"

[[cache_policies]]
name = "AllQueryStrings"
min_ttl = 1
default_ttl = 86400
max_ttl = 31536000
query_strings = "all"

[[behaviors]]
path = "/normalised/*"
origin = "app"
viewer_request = "normalise"
cache_policy = "AllQueryStrings"

[default_behavior]
origin = "app"
cache_policy = "AllQueryStrings"
"""

VARIANTS = [
    "q=Shoes&page=2",
    "page=2&q=shoes",
    "q=shoes&page=2&utm_source=mail",
    "Page=2&q=SHOES&gclid=abc",
    "page=2&fbclid=x&q=Shoes&utm_campaign=spring",
]


async def test_kvs_driven_cache_key_normalisation_raises_the_hit_rate(
    start_edge: StartEdge,
) -> None:
    edge = await start_edge(NORMALISE.replace("{root}", REPO_ROOT))

    async def hits(prefix: str) -> int:
        count = 0
        for query in VARIANTS:
            _, headers, _ = await edge.get(f"{prefix}?{query}")
            count += headers["X-Cache"] == "Hit from cloudfront"
        return count

    assert await hits("/raw/list") == 0  # every spelling is its own cache key
    assert await hits("/normalised/list") == len(VARIANTS) - 1  # one miss, then one object
    assert edge.origin.seen[-1]["path_qs"] == "/normalised/list?page=2&q=shoes"


async def test_expired_object_is_revalidated_and_refreshed(start_edge: StartEdge) -> None:
    edge = await start_edge(BASIC)
    _, headers, body = await edge.get("/etag")
    assert headers["X-Cache"] == "Miss from cloudfront"
    edge.clock.advance(11)  # past max-age=10
    status, headers, body = await edge.get("/etag")
    assert (status, body) == (200, b"validated body")
    assert headers["X-Cache"] == "RefreshHit from cloudfront"
    assert edge.origin.seen[-1]["headers"]["if-none-match"] == '"v1"'
    _, headers, _ = await edge.get("/etag")
    assert headers["X-Cache"] == "Hit from cloudfront"  # the refresh restarted its lifetime
    assert len(edge.origin.seen) == 2


async def test_each_pop_has_its_own_cache(start_edge: StartEdge) -> None:
    edge = await start_edge(BASIC)
    await edge.get("/shared", **{"x-edgesim-pop": "IAD"})
    _, headers, _ = await edge.get("/shared", **{"x-edgesim-pop": "IAD"})
    assert headers["X-Cache"] == "Hit from cloudfront"
    _, headers, _ = await edge.get("/shared", **{"x-edgesim-pop": "FRA"})
    assert headers["X-Cache"] == "Miss from cloudfront"
    assert len(edge.origin.seen) == 2


ERRORS_AND_POLICIES = """
[[origins]]
id = "app"
url = "{origin}"

[[custom_error_responses]]
error_code = 404
response_page_path = "/errors/not-found.html"
response_code = 404
error_caching_min_ttl = 5

[[custom_error_responses]]
error_code = 503
error_caching_min_ttl = 0

[default_behavior]
origin = "app"
cache_policy = "CachingOptimized"
response_headers_policy = "SecurityHeadersPolicy"
"""


async def test_custom_error_page_and_response_headers_policy(start_edge: StartEdge) -> None:
    edge = await start_edge(ERRORS_AND_POLICIES)
    status, headers, body = await edge.get("/status/404")
    assert status == 404
    assert body == b"hello from origin"  # the page fetched from /errors/not-found.html
    assert edge.origin.seen[-1]["path_qs"] == "/errors/not-found.html"
    assert headers["X-Cache"] == "Error from cloudfront"
    # SecurityHeadersPolicy adds its headers to every response, error pages included.
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" in headers
    _, headers, _ = await edge.get("/ok.html")
    assert headers["X-Frame-Options"] == "SAMEORIGIN"


async def test_one_log_line_per_request_with_function_logs(start_edge: StartEdge) -> None:
    files = {
        "log.js": "function handler(e) { console.log('saw ' + e.request.uri); return e.request; }"
    }
    edge = await start_edge(
        """
        [[origins]]
        id = "app"
        url = "{origin}"

        [[functions]]
        name = "logger"
        file = "log.js"

        [default_behavior]
        origin = "app"
        cache_policy = "CachingDisabled"
        viewer_request = "logger"
        """,
        files=files,
    )
    await edge.get("/page", **{"x-edgesim-pop": "IAD"})
    lines = edge.server.stream.lines  # type: ignore[attr-defined]
    assert "  [logger] saw /page" in lines
    request_line = next(line for line in lines if "GET /page" in line)
    assert request_line.startswith("IAD GET /page → 200 [Miss] behavior=* origin=200 fn=logger=")


async def test_saving_files_reloads_function_seed_and_config(
    start_edge: StartEdge, tmp_path: Path
) -> None:
    from edgesim.devloop.reloader import watch

    edge = await start_edge(
        KVS_CONFIG,
        files={"flag.js": FLAG_JS, "flags.json": '{"data": [{"key": "mode", "value": "old"}]}'},
    )
    applied: asyncio.Queue[Path] = asyncio.Queue()
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch(edge.server, stop=stop, on_applied=applied.put_nowait))
    try:
        await asyncio.sleep(0.2)  # let the watcher subscribe before the first save

        async def save(name: str, text: str) -> None:
            (tmp_path / name).write_text(text)
            while (await asyncio.wait_for(applied.get(), timeout=10)).name != name:
                pass

        await save("flag.js", FLAG_JS.replace("value: value", "value: 'v2:' + value"))
        _, headers, _ = await edge.get("/")
        assert headers["X-Mode"] == "v2:old"

        # A seed change is an ordinary write: it lands after the configured lag.
        await save("flags.json", '{"data": [{"key": "mode", "value": "new"}]}')
        _, headers, _ = await edge.get("/")
        assert headers["X-Mode"] == "v2:old"
        edge.clock.advance(2.5)
        _, headers, _ = await edge.get("/")
        assert headers["X-Mode"] == "v2:new"

        # An invalid config keeps the running one; a valid change takes effect.
        config = edge.config.read_text()
        await save("edgesim.toml", config.replace("[default_behavior]", "[default_behaviour]"))
        assert any("config not reloaded" in line for line in edge.server.stream.lines)  # type: ignore[attr-defined]
        _, headers, _ = await edge.get("/")
        assert headers["X-Mode"] == "v2:new"
        await save("edgesim.toml", config.replace('viewer_request = "flag"\n', ""))
        _status, headers, body = await edge.get("/")
        assert "X-Mode" not in headers
        assert body == b"hello from origin"
    finally:
        stop.set()
        await asyncio.wait_for(watcher, timeout=10)


ROUTER_JS = """
import cf from 'cloudfront';
function handler(event) {
  const uri = event.request.uri;
  if (uri.indexOf('/select') === 0) {
    cf.selectRequestOriginById('backup');
  } else if (uri.indexOf('/group') === 0) {
    cf.createRequestOriginGroup({
      originIds: ['dead', 'backup'],
      failoverCriteria: { statusCodes: [502, 503] },
    });
  } else if (uri.indexOf('/unknown') === 0) {
    cf.selectRequestOriginById('nowhere');
  }
  return event.request;
}
"""


async def test_origin_helpers_switch_origin_and_build_groups(start_edge: StartEdge) -> None:
    edge = await start_edge(
        """
        [[origins]]
        id = "dead"
        url = "http://127.0.0.1:9"
        connection_attempts = 1

        [[origins]]
        id = "backup"
        url = "{origin}"

        [[functions]]
        name = "router"
        file = "router.js"

        [default_behavior]
        origin = "dead"
        cache_policy = "CachingDisabled"
        viewer_request = "router"
        """,
        files={"router.js": ROUTER_JS},
    )
    assert (await edge.get("/plain"))[0] == 502  # the behaviour's own origin is down
    assert (await edge.get("/select"))[0] == 200
    assert (await edge.get("/group"))[0] == 200  # primary unreachable, secondary answers
    status, headers, body = await edge.get("/unknown")
    assert status == 502
    assert headers["X-Cache"] == "FunctionValidationError from cloudfront"
    assert b"invalid value for origin rewrite" in body
    assert any("nowhere" in line for line in edge.server.stream.lines)  # type: ignore[attr-defined]


REPLACE_BODY_JS = """
function handler(event) {
  var response = event.response;
  response.body = { encoding: 'text', data: 'replaced' };
  return response;
}
"""


async def test_replaced_body_still_caches_the_origin_response(start_edge: StartEdge) -> None:
    edge = await start_edge(
        """
        [[origins]]
        id = "app"
        url = "{origin}"

        [[functions]]
        name = "replace"
        file = "replace.js"

        [default_behavior]
        origin = "app"
        cache_policy = "CachingOptimized"
        viewer_response = "replace"
        """,
        files={"replace.js": REPLACE_BODY_JS},
    )
    for expected in ("Miss from cloudfront", "Hit from cloudfront"):
        _, headers, body = await edge.get("/page")
        assert body == b"replaced"
        assert headers["X-Cache"] == expected
    assert len(edge.origin.seen) == 1


async def test_port_in_use_is_a_clear_input_error(tmp_path: Path) -> None:
    import io
    import socket

    from edgesim.app import EdgeServer
    from edgesim.distribution.config import load_config
    from edgesim.errors import InputError

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config = tmp_path / "edgesim.toml"
        config.write_text(
            f"[server]\nport = {port}\nadmin_port = 0\nhttps_port = 0\nephemeral = true\n"
            '[[origins]]\nid = "app"\nurl = "http://127.0.0.1:9"\n'
            '[default_behavior]\norigin = "app"\n'
        )
        server = EdgeServer(load_config(config), stream=io.StringIO())
        try:
            with pytest.raises(InputError, match=f"cannot listen on 127.0.0.1:{port}"):
                await server.start()
        finally:
            await server.stop()
