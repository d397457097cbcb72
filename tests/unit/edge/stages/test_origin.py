"""Origin stage: the request CloudFront sends the origin, which origin that is (behaviour, group,
origin helpers), and failover within a group — with a fake origin client, no sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from edgesim.distribution.model import Behavior, Distribution, Origin, OriginGroup
from edgesim.distribution.patterns import select_behavior
from edgesim.edge.message import EdgeRequest
from edgesim.edge.origin import OriginFailure, OriginRequest
from edgesim.edge.stages import origin as stage
from edgesim.errors import InputError
from tests.unit.edge.stages.conftest import FakeOriginResponse, make_dist, make_request

TOML = """
[[origins]]
id = "app"
url = "http://127.0.0.1:3000"
custom_headers = { X-Origin-Secret = "s3cr3t" }

[[origins]]
id = "backup"
url = "http://backup.internal:8080"

[[origin_groups]]
id = "app-ha"
primary = "app"
secondary = "backup"

[[behaviors]]
path = "/all/*"
origin = "app"
origin_request_policy = "AllViewer"

[[behaviors]]
path = "/except/*"
origin = "app"
origin_request_policy = "AllViewerExceptHostHeader"

[[behaviors]]
path = "/ha/*"
origin = "app-ha"
cache_policy = "CachingDisabled"
allowed_methods = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]

[default_behavior]
origin = "app"

[origins_local]
backup = "http://127.0.0.1:7001"
"api.example.com" = "http://127.0.0.1:9000"
"""

REQUEST_ID = "REQ-ID-1"
VIA_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Distribution:
    return make_dist(tmp_path_factory.mktemp("origin"), TOML)


def build(dist: Distribution, req: EdgeRequest, origin: str = "app") -> OriginRequest:
    behavior = select_behavior(dist, req.path)
    return stage.build_request(
        req, behavior, dist.origins[origin], request_id=REQUEST_ID, via_id=VIA_ID
    )


def values(request: OriginRequest, name: str) -> list[str]:
    return [v for n, v in request.headers if n == name]


# -- build_request -------------------------------------------------------------------------------


def test_x_forwarded_for_appends_the_viewer_address(dist: Distribution) -> None:
    req = make_request(
        path="/all/x",
        headers=[
            ("x-forwarded-for", "198.51.100.1, 198.51.100.2"),
            ("x-forwarded-for", "10.0.0.1"),
        ],
    )
    assert values(build(dist, req), "X-Forwarded-For") == [
        "198.51.100.1, 198.51.100.2, 10.0.0.1, 203.0.113.7"
    ]


def test_x_forwarded_for_is_the_viewer_address_when_none_was_sent(dist: Distribution) -> None:
    assert values(build(dist, make_request(path="/p")), "X-Forwarded-For") == ["203.0.113.7"]


def test_x_forwarded_for_is_appended_whatever_the_policy(dist: Distribution) -> None:
    req = make_request(path="/p", headers=[("x-forwarded-for", "198.51.100.1")])
    assert values(build(dist, req), "X-Forwarded-For") == ["198.51.100.1, 203.0.113.7"]


def test_via_appends_cloudfront_to_the_viewers(dist: Distribution) -> None:
    cloudfront = f"1.1 {VIA_ID}.cloudfront.net (CloudFront)"
    assert values(build(dist, make_request(path="/p")), "Via") == [cloudfront]
    req = make_request(path="/all/x", headers=[("via", "1.0 proxy.example")])
    assert values(build(dist, req), "Via") == [f"1.0 proxy.example, {cloudfront}"]


def test_x_amz_cf_id_is_the_request_id(dist: Distribution) -> None:
    req = make_request(path="/all/x", headers=[("x-amz-cf-id", "forged")])
    assert values(build(dist, req), "X-Amz-Cf-Id") == [REQUEST_ID]


def test_user_agent_is_amazon_cloudfront_unless_forwarded(dist: Distribution) -> None:
    ua = [("user-agent", "curl/8.0")]
    assert values(build(dist, make_request(path="/p", headers=ua)), "User-Agent") == [
        "Amazon CloudFront"
    ]
    assert values(build(dist, make_request(path="/all/x", headers=ua)), "User-Agent") == [
        "curl/8.0"
    ]
    assert values(build(dist, make_request(path="/all/x")), "User-Agent") == ["Amazon CloudFront"]


@pytest.mark.parametrize(
    ("path", "host"),
    [
        ("/p", "127.0.0.1:3000"),  # CachingOptimized, no origin request policy
        ("/except/x", "127.0.0.1:3000"),  # AllViewerExceptHostHeader
        ("/all/x", "viewer.example.com"),  # AllViewer forwards the viewer's Host
    ],
)
def test_host_is_the_origins_unless_the_policy_forwards_the_viewers(
    dist: Distribution, path: str, host: str
) -> None:
    req = make_request(path=path, headers=[("host", "viewer.example.com")])
    assert values(build(dist, req), "Host") == [host]


def test_host_header_set_by_a_helper_wins(dist: Distribution) -> None:
    origin = replace(dist.origins["app"], host_header="vhost.example.com")
    req = make_request(path="/all/x", headers=[("host", "viewer.example.com")])
    out = stage.build_request(
        req, select_behavior(dist, req.path), origin, request_id=REQUEST_ID, via_id=VIA_ID
    )
    assert values(out, "Host") == ["vhost.example.com"]


def test_host_of_the_member_origin(dist: Distribution) -> None:
    req = make_request(path="/p", headers=[("host", "viewer.example.com")])
    assert values(build(dist, req, "backup"), "Host") == ["backup.internal:8080"]


def test_origin_custom_headers_replace_the_viewers(dist: Distribution) -> None:
    req = make_request(path="/all/x", headers=[("x-origin-secret", "forged"), ("x-a", "1")])
    out = build(dist, req)
    assert values(out, "X-Origin-Secret") == ["s3cr3t"]
    assert values(out, "X-A") == ["1"]
    # backup has no custom headers: the viewer's header goes there as AllViewer forwards it
    assert values(build(dist, req, "backup"), "X-Origin-Secret") == ["forged"]


def test_hop_by_hop_headers_are_never_sent(dist: Distribution) -> None:
    hop = [
        ("connection", "keep-alive, x-a"),
        ("keep-alive", "timeout=5"),
        ("te", "trailers"),
        ("trailer", "x-b"),
        ("transfer-encoding", "chunked"),
        ("upgrade", "websocket"),
        ("proxy-authorization", "Basic eA=="),
        ("proxy-connection", "keep-alive"),
    ]
    out = build(dist, make_request(path="/all/x", headers=[*hop, ("accept", "*/*")]))
    names = {n.lower() for n, _ in out.headers}
    assert not names & {n for n, _ in hop}
    assert "accept" in names


def test_header_names_go_out_capitalised(dist: Distribution) -> None:
    req = make_request(path="/all/x", headers=[("x-custom-thing", "1"), ("accept", "*/*")])
    names = [n for n, _ in build(dist, req).headers]
    for expected in ("X-Custom-Thing", "Accept", "Host", "X-Forwarded-For", "X-Amz-Cf-Id", "Via"):
        assert expected in names
    assert all(n == "-".join(p.capitalize() for p in n.split("-")) for n in names), names


def test_query_and_cookies_follow_the_policies(dist: Distribution) -> None:
    headers = [("cookie", "b=2; a=1")]
    plain = build(dist, make_request(path="/p", query="z=1&a=%2F", headers=headers))
    assert plain.query is None  # CachingOptimized keys (and forwards) no query string
    assert not values(plain, "Cookie")
    forwarded = build(dist, make_request(path="/all/x", query="z=1&a=%2F", headers=headers))
    assert forwarded.query == "z=1&a=%2F"  # as the viewer sent it
    assert values(forwarded, "Cookie") == ["a=1; b=2"]  # sorted by name


def test_method_path_and_body_pass_through(dist: Distribution) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"x"

    stream = body()
    req = make_request("POST", "/ha/a%20b")
    out = stage.build_request(
        req,
        select_behavior(dist, req.path),
        dist.origins["app"],
        request_id=REQUEST_ID,
        via_id=VIA_ID,
        body=stream,
    )
    assert (out.method, out.path, out.body) == ("POST", "/ha/a%20b", stream)


# -- route_for -----------------------------------------------------------------------------------


def test_route_of_an_origin_is_that_origin_alone(dist: Distribution) -> None:
    route = stage.route_for(dist, "app")
    assert route.members == (dist.origins["app"],)
    assert not route.is_group


def test_route_of_a_group_is_primary_then_secondary(dist: Distribution) -> None:
    route = stage.route_for(dist, "app-ha")
    assert route.members == (dist.origins["app"], dist.origins["backup"])
    assert route.failover_codes == frozenset({500, 502, 503, 504})  # the documented default
    assert route.is_group
    made = OriginGroup("g", "backup", "app", frozenset({404}))
    assert stage.route_for(dist, made).members == (dist.origins["backup"], dist.origins["app"])
    assert stage.route_for(dist, made).failover_codes == frozenset({404})


def test_route_passes_through(dist: Distribution) -> None:
    route = stage.OriginRoute((dist.origins["backup"],))
    assert stage.route_for(dist, route) is route


# -- apply_origin_helpers ------------------------------------------------------------------------


def helpers(dist: Distribution, target: stage.Target, *calls: tuple[str, Any]) -> stage.OriginRoute:
    new, notes = stage.apply_origin_helpers(dist, target, calls)
    assert notes == []
    return stage.route_for(dist, new)


@pytest.mark.parametrize("argument", ["backup", ["backup"]])
def test_select_request_origin_by_id(dist: Distribution, argument: Any) -> None:
    route = helpers(dist, "app-ha", ("selectRequestOriginById", argument))
    assert route.members == (dist.origins["backup"],)  # no longer a group


def test_select_request_origin_by_id_with_overrides(dist: Distribution) -> None:
    route = helpers(
        dist, "app", ("selectRequestOriginById", ["backup", {"hostHeader": "h.example"}])
    )
    (origin,) = route.members
    assert (origin.id, origin.url, origin.host_header) == (
        "backup",
        "http://backup.internal:8080",
        "h.example",
    )


def test_select_unknown_origin_names_the_configured_ones(dist: Distribution) -> None:
    with pytest.raises(InputError, match=r"'nope'.*configured: app, backup"):
        stage.apply_origin_helpers(dist, "app", [("selectRequestOriginById", "nope")])


def test_update_request_origin_changes_the_domain_and_inherits_the_rest(dist: Distribution) -> None:
    route = helpers(dist, "app", ("updateRequestOrigin", {"domainName": "api.example.com"}))
    (origin,) = route.members
    app = dist.origins["app"]
    assert origin.url == "http://api.example.com"  # the configured port went with the domain
    assert origin.host_header is None  # Host follows the new domain
    assert (origin.custom_headers, origin.origin_path) == (app.custom_headers, app.origin_path)
    assert origin.connection_attempts == app.connection_attempts


def test_update_request_origin_of_a_group_changes_its_primary(dist: Distribution) -> None:
    route = helpers(dist, "app-ha", ("updateRequestOrigin", {"originPath": "/v2"}))
    primary, secondary = route.members
    assert (primary.id, primary.origin_path) == ("app", "/v2")
    assert secondary == dist.origins["backup"]
    assert route.failover_codes == dist.origin_groups["app-ha"].failover_status_codes


def test_update_request_origin_properties(dist: Distribution) -> None:
    props = {
        "domainName": "api.example.com",
        "hostHeader": "vhost.example.com",
        "customHeaders": {},
        "connectionAttempts": 1,
        "timeouts": {"readTimeout": 5, "connectionTimeout": 2},
        "customOriginConfig": {"port": 8443, "protocol": "https"},
    }
    (origin,) = helpers(dist, "app", ("updateRequestOrigin", props)).members
    assert origin.url == "https://api.example.com:8443"
    assert origin.host_header == "vhost.example.com"
    assert origin.custom_headers == ()  # {} clears the configured ones
    assert (origin.connection_attempts, origin.response_timeout_s, origin.connect_timeout_s) == (
        1,
        5.0,
        2.0,
    )


def test_update_request_origin_custom_headers_replace_the_configured(dist: Distribution) -> None:
    props = {"customHeaders": {"X-Tenant": "t1"}}
    (origin,) = helpers(dist, "app", ("updateRequestOrigin", props)).members
    out = stage.build_request(
        make_request(path="/p"),
        select_behavior(dist, "/p"),
        origin,
        request_id=REQUEST_ID,
        via_id=VIA_ID,
    )
    assert values(out, "X-Tenant") == ["t1"]
    assert not values(out, "X-Origin-Secret")


def test_origin_shield_and_access_control_are_noted_not_emulated(dist: Distribution) -> None:
    props = {
        "originShield": {"enabled": True, "region": "us-east-1"},
        "originAccessControlConfig": {"enabled": False},
    }
    target, notes = stage.apply_origin_helpers(dist, "app", [("updateRequestOrigin", props)])
    assert [n.split(" ")[0] for n in notes] == ["Origin", "OAC"]
    assert stage.route_for(dist, target).members == (dist.origins["app"],)


@pytest.mark.parametrize(
    "ids",
    [["app", "backup"], [{"originId": "app"}, {"originId": "backup"}]],
    ids=["strings", "objects"],
)
def test_create_request_origin_group(dist: Distribution, ids: list[Any]) -> None:
    argument = {"originIds": ids, "failoverCriteria": {"statusCodes": [404, 503.0]}}
    route = helpers(dist, "app", ("createRequestOriginGroup", argument))
    assert route.members == (dist.origins["app"], dist.origins["backup"])
    assert route.failover_codes == frozenset({404, 503})


def test_create_request_origin_group_with_host_header_overrides(dist: Distribution) -> None:
    ids = [{"originId": "app", "originOverrides": {"hostHeader": "h.example"}}, "backup"]
    argument = {"originIds": ids, "failoverCriteria": {"statusCodes": [503]}}
    primary, secondary = helpers(dist, "app", ("createRequestOriginGroup", argument)).members
    assert (primary.host_header, secondary.host_header) == ("h.example", None)


def test_create_request_origin_group_of_unknown_origin_names_the_configured_ones(
    dist: Distribution,
) -> None:
    argument = {"originIds": ["app", "nope"], "failoverCriteria": {"statusCodes": [503]}}
    with pytest.raises(InputError, match=r"'nope'.*configured: app, backup"):
        stage.apply_origin_helpers(dist, "app", [("createRequestOriginGroup", argument)])


def test_helper_calls_apply_in_call_order(dist: Distribution) -> None:
    route = helpers(
        dist,
        "app-ha",
        ("selectRequestOriginById", "backup"),
        ("updateRequestOrigin", {"originPath": "/v2"}),
    )
    (origin,) = route.members
    assert (origin.id, origin.origin_path) == ("backup", "/v2")
    target, _ = stage.apply_origin_helpers(dist, "app-ha", [])
    assert target == "app-ha"


# -- local_base ----------------------------------------------------------------------------------


def test_configured_origin_is_reached_at_its_url_or_its_local_entry(dist: Distribution) -> None:
    assert stage.local_base(dist, dist.origins["app"]) == "http://127.0.0.1:3000"
    assert stage.local_base(dist, dist.origins["backup"]) == "http://127.0.0.1:7001"


def test_helper_domain_is_reached_through_origins_local(dist: Distribution) -> None:
    (origin,) = helpers(
        dist, "app", ("updateRequestOrigin", {"domainName": "api.example.com"})
    ).members
    assert stage.local_base(dist, origin) == "http://127.0.0.1:9000"


def test_unmapped_helper_domain_is_a_502_naming_the_entry_to_add(dist: Distribution) -> None:
    (origin,) = helpers(
        dist, "app", ("updateRequestOrigin", {"domainName": "other.example.com"})
    ).members
    with pytest.raises(stage.UnmappedOrigin) as info:
        stage.local_base(dist, origin)
    assert info.value.status == 502
    assert '[origins_local] "other.example.com"' in info.value.reason


def test_network_origins_reach_an_unmapped_domain(tmp_path: Path) -> None:
    network = make_dist(tmp_path, TOML + "[server]\nnetwork_origins = true\n")
    (origin,) = helpers(
        network, "app", ("updateRequestOrigin", {"domainName": "other.example.com"})
    ).members
    assert stage.local_base(network, origin) == "http://other.example.com"


# -- send ----------------------------------------------------------------------------------------


class FakeClient:
    """``OriginClient.send``: answers per origin id with a status or an OriginFailure."""

    def __init__(self, answers: dict[str, int | OriginFailure]) -> None:
        self.answers = answers
        self.sent: list[tuple[str, OriginRequest, str | None]] = []
        self.responses: list[FakeOriginResponse] = []

    async def send(
        self, origin: Origin, request: OriginRequest, *, base_url: str | None = None
    ) -> FakeOriginResponse:
        self.sent.append((origin.id, request, base_url))
        answer = self.answers[origin.id]
        if isinstance(answer, OriginFailure):
            raise answer
        response = FakeOriginResponse(answer, origin=origin.id)
        self.responses.append(response)
        return response

    @property
    def tried(self) -> list[str]:
        return [origin for origin, _, _ in self.sent]


def ha_behavior(dist: Distribution) -> Behavior:
    return select_behavior(dist, "/ha/x")


async def send(
    client: FakeClient,
    dist: Distribution,
    method: str = "GET",
    target: stage.Target = "app-ha",
    **kw: Any,
) -> FakeOriginResponse:
    response = await stage.send(
        client,  # type: ignore[arg-type]
        dist,
        make_request(method, "/ha/x"),
        ha_behavior(dist),
        target,
        request_id=REQUEST_ID,
        via_id=VIA_ID,
        **kw,
    )
    assert isinstance(response, FakeOriginResponse)
    return response


def unreachable(origin: str) -> OriginFailure:
    return OriginFailure(502, f"origin {origin} unreachable")


async def test_single_origin_answers(dist: Distribution) -> None:
    client = FakeClient({"app": 200})
    response = await send(client, dist, target="app")
    assert (response.origin, response.status, response.released) == ("app", 200, 0)
    assert client.tried == ["app"]
    assert client.sent[0][2] == "http://127.0.0.1:3000"


async def test_single_origin_failure_is_raised(dist: Distribution) -> None:
    client = FakeClient({"app": OriginFailure(504, "timed out")})
    with pytest.raises(OriginFailure) as info:
        await send(client, dist, target="app")
    assert info.value.status == 504


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
async def test_group_fails_over_when_the_primary_is_unreachable(
    dist: Distribution, method: str
) -> None:
    client = FakeClient({"app": unreachable("app"), "backup": 200})
    response = await send(client, dist, method)
    assert (response.origin, response.status) == ("backup", 200)
    assert client.tried == ["app", "backup"]
    assert [r.method for _, r, _ in client.sent] == [method, method]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_group_fails_over_on_a_failover_status(dist: Distribution, status: int) -> None:
    client = FakeClient({"app": status, "backup": 200})
    response = await send(client, dist)
    assert response.origin == "backup"
    primary = client.responses[0]
    assert (primary.origin, primary.released) == ("app", 1)  # its connection given back
    assert response.released == 0


@pytest.mark.parametrize("status", [200, 403, 404])
async def test_group_keeps_a_status_outside_its_failover_codes(
    dist: Distribution, status: int
) -> None:
    client = FakeClient({"app": status, "backup": 200})
    response = await send(client, dist)
    assert (response.origin, response.status, response.released) == ("app", status, 0)
    assert client.tried == ["app"]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_no_failover_for_other_methods(dist: Distribution, method: str) -> None:
    client = FakeClient({"app": unreachable("app"), "backup": 200})
    with pytest.raises(OriginFailure):
        await send(client, dist, method)
    assert client.tried == ["app"]

    client = FakeClient({"app": 503, "backup": 200})
    response = await send(client, dist, method)
    assert (response.origin, response.status, response.released) == ("app", 503, 0)
    assert client.tried == ["app"]


async def test_secondary_failure_is_the_one_raised(dist: Distribution) -> None:
    client = FakeClient({"app": unreachable("app"), "backup": OriginFailure(504, "slow backup")})
    with pytest.raises(OriginFailure) as info:
        await send(client, dist)
    assert (info.value.status, info.value.reason) == (504, "slow backup")


async def test_secondary_failover_status_is_returned(dist: Distribution) -> None:
    client = FakeClient({"app": 503, "backup": 502})
    response = await send(client, dist)
    assert (response.origin, response.status, response.released) == ("backup", 502, 0)


async def test_function_made_group_uses_its_own_codes(dist: Distribution) -> None:
    argument = {"originIds": ["backup", "app"], "failoverCriteria": {"statusCodes": [404]}}
    target, _ = stage.apply_origin_helpers(dist, "app", [("createRequestOriginGroup", argument)])
    client = FakeClient({"app": 200, "backup": 404})
    response = await send(client, dist, target=target)
    assert response.origin == "app"
    assert client.responses[0].released == 1


async def test_conditional_headers_go_to_every_member_tried(dist: Distribution) -> None:
    client = FakeClient({"app": unreachable("app"), "backup": 304})
    conditional = [("if-none-match", '"v1"'), ("if-modified-since", "Wed, 21 Oct 2015")]
    response = await send(client, dist, conditional=conditional)
    assert response.status == 304
    for _, request, _ in client.sent:
        assert ("If-None-Match", '"v1"') in request.headers
        assert ("If-Modified-Since", "Wed, 21 Oct 2015") in request.headers
        assert sum(n == "If-None-Match" for n, _ in request.headers) == 1


async def test_each_member_gets_its_own_host_and_address(dist: Distribution) -> None:
    client = FakeClient({"app": 500, "backup": 200})
    await send(client, dist)
    hosts = [[v for n, v in r.headers if n == "Host"] for _, r, _ in client.sent]
    assert hosts == [["127.0.0.1:3000"], ["backup.internal:8080"]]
    assert [base for _, _, base in client.sent] == [
        "http://127.0.0.1:3000",
        "http://127.0.0.1:7001",
    ]


async def test_helper_domain_goes_to_its_local_address_with_its_host(dist: Distribution) -> None:
    target, _ = stage.apply_origin_helpers(
        dist, "app", [("updateRequestOrigin", {"domainName": "api.example.com"})]
    )
    client = FakeClient({"app": 200})
    await send(client, dist, target=target)
    ((origin_id, request, base),) = client.sent
    assert (origin_id, base) == ("app", "http://127.0.0.1:9000")
    assert values(request, "Host") == ["api.example.com"]


async def test_unmapped_helper_domain_is_not_sent(dist: Distribution) -> None:
    target, _ = stage.apply_origin_helpers(
        dist, "app", [("updateRequestOrigin", {"domainName": "other.example.com"})]
    )
    client = FakeClient({"app": 200})
    with pytest.raises(stage.UnmappedOrigin):
        await send(client, dist, target=target)
    assert client.sent == []


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
def test_body_framing_goes_to_the_origin_only_with_a_body(dist: Distribution, method: str) -> None:
    framing = [("content-length", "1"), ("transfer-encoding", "chunked")]
    req = make_request(method, path="/all/x", headers=[*framing, ("x-a", "1")])
    behavior = select_behavior(dist, req.path)
    without = stage.build_request(
        req, behavior, dist.origins["app"], request_id=REQUEST_ID, via_id=VIA_ID
    )
    assert values(without, "Content-Length") == values(without, "Transfer-Encoding") == []
    assert values(without, "X-A") == ["1"]

    async def body() -> AsyncIterator[bytes]:
        yield b"x"

    with_body = stage.build_request(
        req, behavior, dist.origins["app"], request_id=REQUEST_ID, via_id=VIA_ID, body=body()
    )
    assert values(with_body, "Content-Length") == ["1"]
