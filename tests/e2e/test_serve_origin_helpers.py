"""Origin modification helpers as CloudFront applies them: updateRequestOrigin merges over the
origin the behaviour assigned (path and custom headers inherited unless passed), may target any
domain, which serve reaches through [origins_local] only; an unmapped domain is a 502 with the
entry to add; values CloudFront rejects are a 502 FunctionValidationError."""

from __future__ import annotations

from tests.e2e.conftest import StartEdge

CONFIG = """
[[origins]]
id = "app"
url = "{origin}"
origin_path = "/base"
custom_headers = { X-Origin-Secret = "s3cr3t" }

[[functions]]
name = "router"
file = "router.js"

[origins_local]
"api.example.com" = "{origin}"

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
viewer_request = "router"
"""

ROUTER_JS = """
import cf from 'cloudfront';
function handler(event) {
  var uri = event.request.uri;
  if (uri === '/mapped') {
    cf.updateRequestOrigin({ domainName: 'api.example.com' });
  } else if (uri === '/replaced') {
    cf.updateRequestOrigin({
      domainName: 'api.example.com', originPath: '/v2', customHeaders: { 'x-tenant': 'a' }
    });
  } else if (uri === '/host') {
    cf.updateRequestOrigin({ hostHeader: 'tenant.example.com' });
  } else if (uri === '/unmapped') {
    cf.updateRequestOrigin({ domainName: 'other.example.com' });
  } else if (uri === '/ip') {
    cf.updateRequestOrigin({ domainName: '192.0.2.1' });
  }
  return event.request;
}
"""


async def test_update_request_origin_merges_over_the_assigned_origin(start_edge: StartEdge) -> None:
    edge = await start_edge(CONFIG, files={"router.js": ROUTER_JS})
    assert (await edge.get("/mapped"))[0] == 200
    seen = edge.origin.seen[-1]
    assert seen["path_qs"] == "/base/mapped"  # origin path inherited
    assert seen["headers"]["host"] == "api.example.com"  # Host follows the new domain
    assert seen["headers"]["x-origin-secret"] == "s3cr3t"  # custom headers inherited

    assert (await edge.get("/replaced"))[0] == 200
    seen = edge.origin.seen[-1]
    assert seen["path_qs"] == "/v2/replaced"
    assert seen["headers"]["x-tenant"] == "a"
    assert "x-origin-secret" not in seen["headers"]  # customHeaders replaces the configured set

    assert (await edge.get("/host"))[0] == 200
    seen = edge.origin.seen[-1]
    assert seen["headers"]["host"] == "tenant.example.com"
    assert seen["path_qs"] == "/base/host"


async def test_unmapped_domain_is_502_naming_the_entry_to_add(start_edge: StartEdge) -> None:
    edge = await start_edge(CONFIG, files={"router.js": ROUTER_JS})
    before = len(edge.origin.seen)
    status, headers, _ = await edge.get("/unmapped")
    assert status == 502
    assert headers["X-Cache"] == "Error from cloudfront"
    assert len(edge.origin.seen) == before  # never sent anywhere
    console = "\n".join(edge.server.stream.lines)  # type: ignore[attr-defined]
    assert '[origins_local] "other.example.com" = "http://127.0.0.1:PORT"' in console
    assert "--origin other.example.com=" in console


async def test_values_cloudfront_rejects_are_validation_errors(start_edge: StartEdge) -> None:
    edge = await start_edge(CONFIG, files={"router.js": ROUTER_JS})
    status, headers, body = await edge.get("/ip")
    assert status == 502
    assert headers["X-Cache"] == "FunctionValidationError from cloudfront"
    assert b"invalid value for origin rewrite" in body
