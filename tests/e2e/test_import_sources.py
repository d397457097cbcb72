"""serve the distributions the committed import fixtures deploy — CloudFormation (YAML and JSON),
the CDK assembly, Terraform (a root module, one that uses a local module, ``terraform show
-json``) — in front of a real local origin that records what it receives and a directory
served as the S3 bucket, and check through real requests what each fixture declares: its
viewer functions and the KVS data they read, which origin each behaviour reaches, its policies,
its error pages, its default root object, its geo restriction. Also the unmapped-origin error,
and the round trip through the TOML ``edgesim import --out`` writes."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import aiohttp
import pytest
import yarl
from aiohttp import web
from multidict import CIMultiDictProxy

from edgesim import cli
from edgesim.app import EdgeServer
from edgesim.distribution.config import load_config
from edgesim.distribution.model import Distribution
from edgesim.errors import InputError
from edgesim.importers.load import load_distribution
from edgesim.kvs.clock import VirtualClock
from tests.e2e.conftest import _Sink

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "import"

# Ports picked by the system; KVS writes reach every POP at once; state in memory.
OVERLAY = """\
[server]
port = 0
admin_port = 0
https_port = 0

[edges]
propagation = { model = "fixed", lag_ms = 0 }
"""

COUNTRY = "x-edgesim-viewer-country"  # the viewer's country, as edgesim resolves it

# What the S3 origins hold, served from a directory as the bucket would answer CloudFront.
BUCKET = {
    "index.html": "<h1>home page</h1>",
    "404.html": "<h1>our 404 page</h1>",
    "errors/404.html": "<h1>errors/404 page</h1>",
    "docs/index.html": "<h1>docs index</h1>",
    "pricing/index.html": "<h1>pricing</h1>",
    "assets/app.css": "body { color: teal }",
    "static/app.js": "console.log('static')",
}


class Answer(NamedTuple):
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes


@dataclass
class Recorder:
    """A local origin on loopback that records every request it receives.

    ``/missing…`` answers 404, ``/forbidden…`` 403, a path under ``/v1/`` that ends in ``/fail``
    503 (an API that is down: the same path without ``/v1`` answers); everything else 200 with
    ``Cache-Control: max-age=60`` and headers a response headers policy may remove."""

    url: str = ""
    seen: list[dict[str, Any]] = field(default_factory=list)

    def paths(self) -> list[str]:
        return [s["path_qs"] for s in self.seen]

    def last(self) -> dict[str, Any]:
        assert self.seen, "the origin received no request"
        return self.seen[-1]


async def _start_recorder() -> tuple[web.AppRunner, Recorder]:
    recorder = Recorder()

    async def handler(request: web.Request) -> web.Response:
        recorder.seen.append(
            {
                "method": request.method,
                "path_qs": request.raw_path,
                "headers": {k.lower(): v for k, v in request.headers.items()},
            }
        )
        path = request.path
        if path.startswith("/v1/") and path.endswith("/fail"):
            return web.Response(status=503, text="api down")
        if "/missing" in path:
            return web.Response(status=404, text="origin says 404")
        if "/forbidden" in path:
            return web.Response(status=403, text="origin says 403")
        return web.Response(
            text=f"origin {request.raw_path}",
            headers={
                "Cache-Control": "max-age=60",
                "X-Powered-By": "test-origin",
                "Server": "test-origin",
            },
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    recorder.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    return runner, recorder


@dataclass
class Edge:
    server: EdgeServer
    session: aiohttp.ClientSession
    origin: Recorder
    clock: VirtualClock
    tls: ssl.SSLContext

    async def get(
        self,
        path: str,
        headers: Mapping[str, str] | None = None,
        *,
        https: bool = True,
        method: str = "GET",
        data: bytes | None = None,
    ) -> Answer:
        """``path`` sent as written, over HTTPS (the viewer protocol policies of the fixtures
        redirect or refuse HTTP) unless ``https=False``."""
        if https:
            base = f"https://127.0.0.1:{self.server.https_port}"
        else:
            base = f"http://127.0.0.1:{self.server.viewer_port}"
        url = yarl.URL(base + path, encoded=True)
        async with self.session.request(
            method,
            url,
            headers=dict(headers or {}),
            data=data,
            allow_redirects=False,
            ssl=self.tls if https else True,
        ) as response:
            return Answer(response.status, response.headers, await response.read())


@dataclass
class World:
    """The local side of every test: the recording origin, the bucket directory, the overlay,
    and the edges started (stopped at the end of the test)."""

    tmp: Path
    origin: Recorder
    bucket: Path
    overlay: Path
    session: aiohttp.ClientSession
    servers: list[EdgeServer] = field(default_factory=list)

    def load(self, source: Path, *, origins: Sequence[str], **kwargs: Any) -> Distribution:
        return load_distribution(
            source,
            workdir=self.tmp / "work",
            overlay=self.overlay,
            origins=origins,
            **kwargs,
        )

    async def serve(self, dist: Distribution) -> Edge:
        clock = VirtualClock()
        server = EdgeServer(dist, stream=_Sink(), clock=clock)  # type: ignore[arg-type]
        self.servers.append(server)
        await server.start(port=0, admin_port=0, https_port=0)
        assert server.tls is not None
        assert server.https_port
        tls = ssl.create_default_context(cafile=str(server.tls.ca_cert))
        return Edge(server, self.session, self.origin, clock, tls)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    runner, recorder = await _start_recorder()
    bucket = tmp_path / "bucket"
    for name, text in BUCKET.items():
        (bucket / name).parent.mkdir(parents=True, exist_ok=True)
        (bucket / name).write_text(text)
    overlay = tmp_path / "edgesim.local.toml"
    overlay.write_text(OVERLAY)
    session = aiohttp.ClientSession(auto_decompress=False)
    state = World(tmp_path, recorder, bucket, overlay, session)
    try:
        yield state
    finally:
        await session.close()
        for server in state.servers:
            await server.stop()
        await runner.cleanup()


# ---------------------------------------------------------------------------------------------
# CloudFormation: fixtures/import/cloudformation/site.yaml and site.json (the same template)
# ---------------------------------------------------------------------------------------------

CFN = FIXTURES / "cloudformation"


@pytest.fixture(params=["site.yaml", "site.json"])
async def cfn(request: pytest.FixtureRequest, world: World) -> Edge:
    dist = world.load(
        CFN / request.param, origins=[f"site={world.bucket}", f"api={world.origin.url}"]
    )
    return await world.serve(dist)


async def test_cfn_router_reads_short_links_from_the_import_source_data(cfn: Edge) -> None:
    # kvs/redirects.json beside the template: the ImportSource object's key.
    status, headers, _ = await cfn.get("/go/docs")
    assert status == 302
    assert headers["Location"] == "https://example.com/docs/"
    status, headers, body = await cfn.get("/docs/")  # no short link: index.html appended
    assert (status, body) == (200, b"<h1>docs index</h1>")
    assert headers["x-stage"] == "prod"  # the viewer-response function, Stage's default
    assert cfn.origin.seen == []  # the default behaviour is the bucket


async def test_cfn_default_root_object_and_redirect_to_https(cfn: Edge) -> None:
    status, _, body = await cfn.get("/")
    assert (status, body) == (200, b"<h1>home page</h1>")
    status, headers, _ = await cfn.get("/docs/?q=1", https=False)
    assert status == 301
    assert headers["Location"] == f"https://127.0.0.1:{cfn.server.https_port}/docs/?q=1"


async def test_cfn_api_behaviour_reaches_the_api_origin_with_its_policies(cfn: Edge) -> None:
    first = await cfn.get(
        "/api/items?page=1&debug=1",
        {
            "Accept-Language": "de",
            "X-Request-Id": "r1",
            "X-Other": "dropped",
            "Cookie": "session=s1; theme=dark",
            COUNTRY: "DE",
        },
    )
    assert first.status == 200
    assert first.body == b"origin /v1/api/items?page=1&debug=1"  # OriginPath /v1
    seen = cfn.origin.last()["headers"]
    assert seen["x-request-id"] == "r1"
    assert "x-other" not in seen  # not in the origin request policy
    assert seen["cookie"] == "session=s1"  # only the whitelisted cookie
    assert seen["cloudfront-viewer-country"] == "DE"
    assert seen["accept-language"] == "de"
    # SecurityHeaders: security headers, X-Stage, X-Powered-By removed.
    assert first.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    assert first.headers["X-Frame-Options"] == "DENY"
    assert first.headers["X-Stage"] == "prod"
    assert "X-Powered-By" not in first.headers
    # The cache key: page and Accept-Language, not debug.
    again = await cfn.get("/api/items?page=1&debug=2", {"Accept-Language": "de"})
    other_lang = await cfn.get("/api/items?page=1&debug=1", {"Accept-Language": "fr"})
    other_page = await cfn.get("/api/items?page=2", {"Accept-Language": "de"})
    assert [a.headers["X-Cache"] for a in (first, again, other_lang, other_page)] == [
        "Miss from cloudfront",
        "Hit from cloudfront",
        "Miss from cloudfront",
        "Miss from cloudfront",
    ]
    assert len(cfn.origin.seen) == 3
    # The origin's max-age=60 within the policy's TTLs: cached for a minute of the edge's clock.
    cfn.clock.advance(61)
    expired = await cfn.get("/api/items?page=1&debug=3", {"Accept-Language": "de"})
    assert expired.headers["X-Cache"] == "Miss from cloudfront"  # no validator: a new fetch
    assert len(cfn.origin.seen) == 4
    # https-only: plain HTTP is refused.
    assert (await cfn.get("/api/items", https=False)).status == 403


async def test_cfn_legacy_behaviour_forwards_as_forwarded_values_say(cfn: Edge) -> None:
    first = await cfn.get("/legacy/a?x=1", {"Accept-Language": "de"}, https=False)
    again = await cfn.get("/legacy/a?x=1", {"Accept-Language": "de"}, https=False)
    other = await cfn.get("/legacy/a?x=2", {"Accept-Language": "de"}, https=False)
    assert first.status == 200  # allow-all: HTTP served
    assert [a.headers["X-Cache"] for a in (first, again, other)] == [
        "Miss from cloudfront",
        "Hit from cloudfront",
        "Miss from cloudfront",
    ]
    assert cfn.origin.paths() == ["/v1/legacy/a?x=1", "/v1/legacy/a?x=2"]  # the api origin
    assert cfn.origin.seen[0]["headers"]["accept-language"] == "de"


async def test_cfn_custom_error_page_for_a_missing_key(cfn: Edge) -> None:
    # The bucket answers 403 for a missing key (OAC, no ListBucket): 404 with /404.html.
    status, _, body = await cfn.get("/no/such/page.html")
    assert (status, body) == (404, b"<h1>our 404 page</h1>")


async def test_cfn_geo_restriction_blocks_the_listed_countries(cfn: Edge) -> None:
    # CloudFront answers 403, and the distribution's custom error response for 403 applies.
    blocked = await cfn.get("/", {COUNTRY: "KP"})
    assert (blocked.status, blocked.body) == (404, b"<h1>our 404 page</h1>")
    allowed = await cfn.get("/", {COUNTRY: "FR"})
    assert (allowed.status, allowed.body) == (200, b"<h1>home page</h1>")
    api = await cfn.get("/api/x", {COUNTRY: "IR"})
    assert api.status == 404
    assert cfn.origin.seen == []


async def test_cfn_origin_custom_headers_reach_the_api_origin(cfn: Edge) -> None:
    assert (await cfn.get("/api/items")).status == 200
    assert cfn.origin.last()["headers"].get("x-origin-verify") == "c2l0ZTpwcm9k"  # "site:prod"


# ---------------------------------------------------------------------------------------------
# CDK: fixtures/import/cdk-app/cdk.out (the bucket's origin is filled by a BucketDeployment)
# ---------------------------------------------------------------------------------------------

CDK = FIXTURES / "cdk-app" / "cdk.out"
CDK_SITE = CDK / "asset.698bdb4267f1c15f47082d947ce6ec229513296729be561ab0a682c923bfdea7"
CDK_API = "EdgesimSite/Site/Origin2"  # the construct path of the api.example.com origin


@pytest.fixture
async def cdk(world: World) -> Edge:
    # Only the API is mapped, by construct path: the bucket's origin gets the files the
    # BucketDeployment copies into it, from the assembly.
    return await world.serve(world.load(CDK, origins=[f"{CDK_API}={world.origin.url}"]))


async def test_cdk_router_reads_short_links_from_the_kvs_asset(cdk: Edge) -> None:
    status, headers, _ = await cdk.get("/go/blog")
    assert status == 302
    assert headers["Location"] == "https://example.com/blog/"
    status, _, body = await cdk.get("/docs/")
    assert (status, body) == (200, (CDK_SITE / "docs" / "index.html").read_bytes())
    assert cdk.origin.seen == []


async def test_cdk_default_root_object_from_the_deployed_bucket(cdk: Edge) -> None:
    status, headers, body = await cdk.get("/")
    assert (status, body) == (200, (CDK_SITE / "index.html").read_bytes())
    assert headers["Content-Type"].startswith("text/html")
    status, headers, _ = await cdk.get("/docs/", https=False)
    assert status == 301
    assert headers["Location"] == f"https://127.0.0.1:{cdk.server.https_port}/docs/"


async def test_cdk_api_behaviour_with_its_cache_and_origin_request_policies(cdk: Edge) -> None:
    first = await cdk.get(
        "/api/items?page=1&sort=asc", {"Accept-Language": "de", "X-Anything": "yes"}
    )
    assert (first.status, first.body) == (200, b"origin /api/items?page=1&sort=asc")
    seen = cdk.origin.last()["headers"]
    assert seen["x-anything"] == "yes"  # AllViewerExceptHostHeader
    assert seen["host"] == "api.example.com"  # the origin's domain, not the viewer's Host
    again = await cdk.get("/api/items?page=1&sort=desc", {"Accept-Language": "de"})
    other = await cdk.get("/api/items?page=1&sort=asc", {"Accept-Language": "en"})
    assert [a.headers["X-Cache"] for a in (first, again, other)] == [
        "Miss from cloudfront",
        "Hit from cloudfront",
        "Miss from cloudfront",
    ]
    # Managed-SecurityHeadersPolicy.
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    assert first.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert first.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    # ALLOW_ALL methods; HTTPS_ONLY.
    posted = await cdk.get("/api/items", method="POST", data=b"{}")
    assert posted.status == 200
    assert cdk.origin.last()["method"] == "POST"
    assert (await cdk.get("/api/items", https=False)).status == 403


async def test_cdk_error_page_and_geo_restriction(cdk: Edge) -> None:
    not_found = (CDK_SITE / "404.html").read_bytes()
    assert (await cdk.get("/no-such-page.html"))[::2] == (404, not_found)
    assert (await cdk.get("/", {COUNTRY: "IR"}))[::2] == (404, not_found)
    assert (await cdk.get("/", {COUNTRY: "JP"})).status == 200


async def test_cdk_an_explicit_mapping_of_the_bucket_wins(world: World) -> None:
    dist = world.load(
        CDK, origins=[f"{CDK_API}={world.origin.url}", f"EdgesimSite/Bucket={world.bucket}"]
    )
    edge = await world.serve(dist)
    assert (await edge.get("/"))[::2] == (200, b"<h1>home page</h1>")


async def test_cdk_origin_custom_headers_reach_the_api_origin(cdk: Edge) -> None:
    assert (await cdk.get("/api/items")).status == 200
    assert cdk.origin.last()["headers"].get("x-from-edge") == "edgesim-fixture"


# ---------------------------------------------------------------------------------------------
# Terraform: fixtures/import/terraform/basic (a root module: dynamic blocks, an origin group,
# file() code, KVS keys from for_each, managed policies by name)
# ---------------------------------------------------------------------------------------------

TF_BASIC = FIXTURES / "terraform" / "basic"


@pytest.fixture
async def tf_basic(world: World) -> Edge:
    dist = world.load(
        TF_BASIC,
        origins=[
            f"s3-site={world.bucket}",
            f"api={world.origin.url}",
            f"legacy={world.origin.url}",
        ],
    )
    return await world.serve(dist)


async def test_tf_basic_router_rewrites_and_redirects_from_the_kvs_keys(tf_basic: Edge) -> None:
    # rw:/old-pricing = /pricing, then /index.html for a directory-style path.
    status, headers, body = await tf_basic.get("/old-pricing")
    assert (status, body) == (200, b"<h1>pricing</h1>")
    assert headers["X-Frame-Options"] == "DENY"  # the viewer-response function
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"  # managed policy
    # rw:/docs/v1 = "301 /docs/v2".
    status, headers, _ = await tf_basic.get("/docs/v1")
    assert status == 301
    assert headers["Location"] == "/docs/v2"
    assert (await tf_basic.get("/docs"))[::2] == (200, b"<h1>docs index</h1>")
    assert tf_basic.origin.seen == []


async def test_tf_basic_default_root_object_and_redirect_to_https(tf_basic: Edge) -> None:
    assert (await tf_basic.get("/"))[::2] == (200, b"<h1>home page</h1>")
    status, headers, _ = await tf_basic.get("/pricing/", https=False)
    assert status == 301
    assert headers["Location"] == f"https://127.0.0.1:{tf_basic.server.https_port}/pricing/"


async def test_tf_basic_assets_cache_policy_keys_on_v(tf_basic: Edge) -> None:
    first = await tf_basic.get("/assets/app.css?v=1")
    again = await tf_basic.get("/assets/app.css?v=1&utm=x")
    other = await tf_basic.get("/assets/app.css?v=2")
    assert first[::2] == (200, b"body { color: teal }")
    assert [a.headers["X-Cache"] for a in (first, again, other)] == [
        "Miss from cloudfront",
        "Hit from cloudfront",
        "Miss from cloudfront",
    ]


async def test_tf_basic_api_behaviours_reach_the_origin_group(tf_basic: Edge) -> None:
    first = await tf_basic.get(
        "/api/items?x=1",
        {
            "Origin": "https://www.example.com",
            "Cookie": "session=s1; theme=dark",
            "X-Tenant": "acme",
            "X-Other": "no",
            COUNTRY: "GB",
        },
    )
    assert (first.status, first.body) == (200, b"origin /v1/api/items?x=1")  # the primary, api
    seen = tf_basic.origin.last()["headers"]
    assert seen["x-origin-verify"] == "edge-staging"
    assert seen["x-tenant"] == "acme"
    assert "x-other" not in seen
    assert seen["cookie"] == "session=s1"
    assert seen["cloudfront-viewer-country"] == "GB"
    # The response headers policy: CORS, a custom header, Server removed.
    assert first.headers["Access-Control-Allow-Origin"] == "https://www.example.com"
    assert first.headers["X-Served-By"] == "site-staging"
    assert "test-origin" not in first.headers.get("Server", "")
    # CachingDisabled: every request reaches the origin.
    again = await tf_basic.get("/api/items?x=1")
    assert again.headers["X-Cache"] == "Miss from cloudfront"
    # The dynamic block made /auth/* too.
    assert (await tf_basic.get("/auth/login")).body == b"origin /v1/auth/login"
    assert tf_basic.origin.paths() == ["/v1/api/items?x=1", "/v1/api/items?x=1", "/v1/auth/login"]


async def test_tf_basic_origin_group_fails_over_to_legacy_on_503(tf_basic: Edge) -> None:
    answer = await tf_basic.get("/api/fail")
    assert (answer.status, answer.body) == (200, b"origin /api/fail")
    assert tf_basic.origin.paths() == ["/v1/api/fail", "/api/fail"]  # api, then legacy


async def test_tf_basic_legacy_behaviour_and_the_404_error_page(tf_basic: Edge) -> None:
    answer = await tf_basic.get("/legacy/a?b=1", {"X-Anything": "yes"}, https=False)
    assert (answer.status, answer.body) == (200, b"origin /legacy/a?b=1")  # allow-all
    assert tf_basic.origin.last()["headers"]["x-anything"] == "yes"  # AllViewerExceptHostHeader
    missing = await tf_basic.get("/legacy/missing")
    assert (missing.status, missing.body) == (404, b"<h1>errors/404 page</h1>")


async def test_tf_basic_spa_error_response_answers_403_with_index(tf_basic: Edge) -> None:
    # /app/settings → /app/settings/index.html (router) → the bucket's 403 → 200 /index.html.
    assert (await tf_basic.get("/app/settings"))[::2] == (200, b"<h1>home page</h1>")


async def test_tf_basic_geo_restriction_allows_only_the_listed_countries(tf_basic: Edge) -> None:
    # CloudFront's 403 meets the 403 → 200 /index.html error response.
    blocked = await tf_basic.get("/legacy/a", {COUNTRY: "JP"})
    assert (blocked.status, blocked.body) == (200, b"<h1>home page</h1>")
    assert tf_basic.origin.seen == []
    allowed = await tf_basic.get("/legacy/a", {COUNTRY: "DE"})
    assert (allowed.status, allowed.body) == (200, b"origin /legacy/a")


# ---------------------------------------------------------------------------------------------
# Terraform: fixtures/import/terraform/module (the distribution written through a local module)
# ---------------------------------------------------------------------------------------------

TF_MODULE = FIXTURES / "terraform" / "module"
WEB_DOMAIN = "shop-web-default.s3.us-east-1.amazonaws.com"


@pytest.fixture
async def tf_module(world: World) -> Edge:
    # The bucket's origin mapped by its domain name to the recording origin, so that the
    # requests of the default behaviour (the one with the function) can be seen.
    dist = world.load(
        TF_MODULE, origins=[f"{WEB_DOMAIN}={world.origin.url}", f"api={world.origin.url}"]
    )
    return await world.serve(dist)


async def test_tf_module_function_runs_but_policies_keep_its_header(tf_module: Edge) -> None:
    # flags.js sets x-flag-checkout-v2 from the store, but the default behaviour's policies
    # (Managed-CachingOptimized, no origin request policy) forward no viewer header: CloudFront
    # drops a header a function adds unless a policy names it, and so does edgesim.
    assert (await tf_module.get("/shop/cart")).body == b"origin /shop/cart"
    assert "x-flag-checkout-v2" not in tf_module.origin.last()["headers"]
    stream = tf_module.server.stream
    assert isinstance(stream, _Sink)
    log = [line for line in stream.lines if "GET /shop/cart" in line]
    assert len(log) == 1
    assert "fn=cdn-flags" in log[0], log


PROBE_JS = """\
import cf from 'cloudfront';
const kvs = cf.kvs();
async function handler(event) {
  const checkout = await kvs.get('checkout-v2');
  const banner = await kvs.get('banner', { format: 'json' });
  return {
    statusCode: 200,
    statusDescription: 'OK',
    headers: { 'x-checkout-v2': { value: checkout }, 'x-banner': { value: banner.text } },
  };
}
"""


async def test_tf_module_store_holds_the_keys_exclusive_data(world: World) -> None:
    # The flags function's header never leaves the edge (above), so read its store with a probe
    # in its place: --function keeps the function's store association.
    probe = world.tmp / "probe.js"
    probe.write_text(PROBE_JS)
    dist = world.load(
        TF_MODULE,
        origins=[f"{WEB_DOMAIN}={world.origin.url}", f"api={world.origin.url}"],
        functions=[f"cdn-flags={probe}"],
    )
    assert dist.functions["cdn-flags"].kvs == "shop-flags"
    edge = await world.serve(dist)
    status, headers, _ = await edge.get("/anything")
    assert status == 200
    assert headers["x-checkout-v2"] == "on"
    assert headers["x-banner"] == "Free shipping"
    assert world.origin.seen == []


async def test_tf_module_without_a_default_root_object(tf_module: Edge) -> None:
    # The module sets none: the root is requested from the origin as it is.
    assert (await tf_module.get("/")).body == b"origin /"
    status, headers, _ = await tf_module.get("/shop/", https=False)
    assert status == 301
    assert headers["Location"] == f"https://127.0.0.1:{tf_module.server.https_port}/shop/"


async def test_tf_module_static_behaviour_keys_and_forwards_only_v(tf_module: Edge) -> None:
    first = await tf_module.get("/static/app.js?v=1&utm=a")
    again = await tf_module.get("/static/app.js?utm=b&v=1")
    other = await tf_module.get("/static/app.js?v=2")
    assert [a.headers["X-Cache"] for a in (first, again, other)] == [
        "Miss from cloudfront",
        "Hit from cloudfront",
        "Miss from cloudfront",
    ]
    assert tf_module.origin.paths() == ["/static/app.js?v=1", "/static/app.js?v=2"]


async def test_tf_module_api_behaviour(tf_module: Edge) -> None:
    first = await tf_module.get("/api/cart?id=7", {"X-Anything": "yes"})
    again = await tf_module.get("/api/cart?id=7", {"X-Anything": "yes"})
    assert first.body == b"origin /api/cart?id=7"
    assert [a.headers["X-Cache"] for a in (first, again)] == ["Miss from cloudfront"] * 2
    seen = tf_module.origin.last()["headers"]
    assert seen["x-shop-edge"] == "1"  # the origin's custom header
    assert seen["x-anything"] == "yes"  # AllViewerExceptHostHeader
    assert "x-flag-checkout-v2" not in seen
    assert (await tf_module.get("/api/cart", https=False)).status == 301


async def test_tf_module_error_page_and_geo_restriction(tf_module: Edge) -> None:
    # 403 → 404 with /404.html, fetched from the default behaviour's origin.
    answer = await tf_module.get("/forbidden/thing")
    assert (answer.status, answer.body) == (404, b"origin /404.html")
    assert tf_module.origin.paths() == ["/forbidden/thing", "/404.html"]
    # A blocked country gets CloudFront's 403, and so the same error response (its page
    # fetched above is still cached: the origin sees nothing more).
    blocked = await tf_module.get("/shop/cart", {COUNTRY: "KP"})
    assert (blocked.status, blocked.body) == (404, b"origin /404.html")
    assert len(tf_module.origin.seen) == 2
    assert (await tf_module.get("/shop/cart", {COUNTRY: "US"})).status == 200


# ---------------------------------------------------------------------------------------------
# Terraform: fixtures/import/terraform/show.json (terraform show -json of a state)
# ---------------------------------------------------------------------------------------------

TF_SHOW = FIXTURES / "terraform" / "show.json"


@pytest.fixture
async def tf_show(world: World) -> Edge:
    dist = world.load(TF_SHOW, origins=[f"s3-assets={world.bucket}", f"api={world.origin.url}"])
    return await world.serve(dist)


async def test_tf_show_router_reads_the_kvs_keys_of_the_state(tf_show: Edge) -> None:
    status, headers, body = await tf_show.get("/old-pricing")
    assert (status, body) == (200, b"<h1>pricing</h1>")
    # The response headers policy of module.headers.
    assert headers["X-Served-By"] == "shop-prod"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    status, headers, _ = await tf_show.get("/docs/v1")
    assert (status, headers["Location"]) == (301, "/docs/v2")


async def test_tf_show_default_root_object_and_redirect_to_https(tf_show: Edge) -> None:
    assert (await tf_show.get("/"))[::2] == (200, b"<h1>home page</h1>")
    status, headers, _ = await tf_show.get("/docs/", https=False)
    assert status == 301
    assert headers["Location"] == f"https://127.0.0.1:{tf_show.server.https_port}/docs/"


async def test_tf_show_assets_and_api_behaviours(tf_show: Edge) -> None:
    first = await tf_show.get("/assets/app.css?v=1")
    again = await tf_show.get("/assets/app.css?v=1&x=2")
    other = await tf_show.get("/assets/app.css?v=2")
    assert first[::2] == (200, b"body { color: teal }")
    assert [a.headers["X-Cache"] for a in (first, again, other)] == [
        "Miss from cloudfront",
        "Hit from cloudfront",
        "Miss from cloudfront",
    ]
    assert tf_show.origin.seen == []  # the bucket
    api = await tf_show.get("/api/orders?id=1", {"X-Anything": "yes"})
    api_again = await tf_show.get("/api/orders?id=1", {"X-Anything": "yes"})
    assert api.body == b"origin /v1/api/orders?id=1"
    assert [a.headers["X-Cache"] for a in (api, api_again)] == ["Miss from cloudfront"] * 2
    seen = tf_show.origin.last()["headers"]
    assert seen["x-origin-verify"] == "edge-prod"
    assert seen["x-anything"] == "yes"


async def test_tf_show_spa_error_response_and_geo_restriction(tf_show: Edge) -> None:
    assert (await tf_show.get("/account/orders"))[::2] == (200, b"<h1>home page</h1>")
    blocked = await tf_show.get("/api/orders", {COUNTRY: "DE"})
    assert (blocked.status, blocked.body) == (200, b"<h1>home page</h1>")  # 403 → /index.html
    assert tf_show.origin.seen == []
    allowed = await tf_show.get("/api/orders", {COUNTRY: "CA"})
    assert allowed.body == b"origin /v1/api/orders"


# ---------------------------------------------------------------------------------------------
# Every source: an unmapped origin is an error listing each one with a ready --origin flag
# ---------------------------------------------------------------------------------------------

SOURCES = {
    "cloudformation-yaml": CFN / "site.yaml",
    "cloudformation-json": CFN / "site.json",
    "cdk": CDK,
    "terraform-basic": TF_BASIC,
    "terraform-module": TF_MODULE,
    "terraform-show": TF_SHOW,
}


def _origins_of(name: str, world: World) -> list[str]:
    """The --origin flags the tests of ``name`` use."""
    url, bucket = world.origin.url, world.bucket
    return {
        "cloudformation-yaml": [f"site={bucket}", f"api={url}"],
        "cloudformation-json": [f"site={bucket}", f"api={url}"],
        "cdk": [f"{CDK_API}={url}"],
        "terraform-basic": [f"s3-site={bucket}", f"api={url}", f"legacy={url}"],
        "terraform-module": [f"{WEB_DOMAIN}={url}", f"api={url}"],
        "terraform-show": [f"s3-assets={bucket}", f"api={url}"],
    }[name]


# The origins a behaviour of each source reaches, and none mapped (the CDK bucket's origin is
# mapped to its BucketDeployment's files).
UNMAPPED = {
    "cloudformation-yaml": ["site", "api"],
    "cloudformation-json": ["site", "api"],
    "cdk": ["EdgesimSiteOrigin21344BF86"],
    "terraform-basic": ["s3-site", "api", "legacy"],
    "terraform-module": ["api", "web"],
    "terraform-show": ["s3-assets", "api"],
}


LOOPBACK = "http://127.0.0.1:9"  # never contacted: these imports are not served


def _origin_flags(message: str) -> list[str]:
    """The ``--origin ID=URL`` values of the error's ready-to-paste lines."""
    flags = []
    for line in message.splitlines():
        words = line.split("#")[0].split()
        if words[:1] == ["--origin"]:
            assert len(words) == 2, line
            flags.append(words[1])
    return flags


@pytest.mark.parametrize("name", list(SOURCES))
def test_unmapped_origins_are_listed_with_a_ready_origin_flag(name: str, tmp_path: Path) -> None:
    source, expected = SOURCES[name], UNMAPPED[name]
    with pytest.raises(InputError) as error:
        load_distribution(source, workdir=tmp_path / "work")
    message = str(error.value)
    what = (
        "origins of the imported distribution are"
        if len(expected) > 1
        else "origin of the imported distribution is"
    )
    assert message.startswith(f"{len(expected)} {what} not mapped"), message
    flags = _origin_flags(message)
    assert sorted(flag.partition("=")[0] for flag in flags) == sorted(expected)
    assert all(flag.endswith("=http://127.0.0.1:PORT") for flag in flags)
    # Mapping one leaves the others listed.
    if len(flags) > 1:
        mapped = flags[0].partition("=")[0]
        with pytest.raises(InputError) as rest:
            load_distribution(source, workdir=tmp_path / "work", origins=[f"{mapped}={LOOPBACK}"])
        left = [flag.partition("=")[0] for flag in _origin_flags(str(rest.value))]
        assert sorted(left) == sorted(set(expected) - {mapped})
    # Pasted with a port, the flags are all the import needs.
    dist = load_distribution(
        source,
        workdir=tmp_path / "work",
        origins=[f.replace("http://127.0.0.1:PORT", LOOPBACK) for f in flags],
    )
    assert {o.id for o in dist.origins.values()} >= set(expected)


# ---------------------------------------------------------------------------------------------
# The default root object on its own: every fixture that sets one also has a router function
# that appends index.html to "/", so replace the router with a pass-through (--function keeps
# the rest of the import) to see the root object alone.
# ---------------------------------------------------------------------------------------------

ROUTERS = {
    "cloudformation-yaml": "site-router",
    "cdk": "us-east-1EdgesimSiteRouter9680C31B",
    "terraform-basic": "site-staging-router",
    "terraform-show": "shop-prod-router",
}

PASS_JS = "function handler(event) { return event.request; }\n"


@pytest.mark.parametrize("name", list(ROUTERS))
async def test_the_default_root_object_alone(name: str, world: World) -> None:
    passthrough = world.tmp / "pass.js"
    passthrough.write_text(PASS_JS)
    dist = world.load(
        SOURCES[name],
        origins=_origins_of(name, world),
        functions=[f"{ROUTERS[name]}={passthrough}"],
    )
    assert dist.default_root_object == "index.html"
    edge = await world.serve(dist)
    site = CDK_SITE if name == "cdk" else world.bucket
    root = await edge.get("/")
    assert (root.status, root.body) == (200, (site / "index.html").read_bytes())
    # The object itself, not an error response's page (two fixtures answer 403 with index.html).
    assert root.headers["X-Cache"] == "Miss from cloudfront"
    # Only the root: without the router, /docs/ is not /docs/index.html.
    assert (await edge.get("/docs/")).body != (site / "docs" / "index.html").read_bytes()


# ---------------------------------------------------------------------------------------------
# Every source: the TOML `edgesim import --out` writes serves the same answers
# ---------------------------------------------------------------------------------------------

# Requests (and their status) whose answers the imported distribution and its written TOML must
# agree on: an answer from the viewer-request function and its KVS data, an ordered behaviour,
# an error page.
ROUND_TRIP: dict[str, list[tuple[str, int]]] = {
    "cloudformation-yaml": [("/go/docs", 302), ("/api/items?page=1&x=2", 200), ("/no.html", 404)],
    "cloudformation-json": [("/go/blog", 302), ("/legacy/a?b=1", 200), ("/docs/", 200)],
    "cdk": [("/go/docs", 302), ("/api/items?page=2", 200), ("/no-such.html", 404)],
    "terraform-basic": [
        ("/old-pricing", 200),
        ("/docs/v1", 301),
        ("/api/fail", 200),
        ("/legacy/missing", 404),
    ],
    "terraform-module": [
        ("/static/app.js?v=1&utm=x", 200),
        ("/api/cart", 200),
        ("/forbidden/x", 404),
    ],
    "terraform-show": [("/old-pricing", 200), ("/api/orders?id=1", 200), ("/account", 200)],
}

# Differ between two edges by design (request ids, the edge's host id, the time).
_PER_EDGE = {"date", "via", "x-amz-cf-id", "x-amz-request-id", "x-amz-id-2"}


async def _answers(edge: Edge, paths: Sequence[str]) -> list[tuple[Any, ...]]:
    answers = []
    for path in paths:
        before = len(edge.origin.seen)
        status, headers, body = await edge.get(path)
        kept = sorted((k.lower(), v) for k, v in headers.items() if k.lower() not in _PER_EDGE)
        answers.append((path, status, body, kept, edge.origin.paths()[before:]))
    return answers


@pytest.mark.parametrize("name", list(SOURCES))
async def test_the_written_toml_serves_what_the_import_serves(name: str, world: World) -> None:
    out = world.tmp / "written" / "edgesim.toml"
    out.parent.mkdir()
    origins = _origins_of(name, world)
    argv = ["import", str(SOURCES[name]), "--out", str(out), "--overlay", str(world.overlay)]
    argv += [arg for origin in origins for arg in ("--origin", origin)]
    assert cli.main(argv) == 0
    from_toml = await world.serve(load_config(out))
    imported = await world.serve(world.load(SOURCES[name], origins=origins))
    paths = [path for path, _ in ROUND_TRIP[name]]
    expected = await _answers(imported, paths)
    assert [answer[:2] for answer in expected] == ROUND_TRIP[name]
    assert await _answers(from_toml, paths) == expected
