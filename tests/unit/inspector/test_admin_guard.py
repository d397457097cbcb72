"""The admin server's guards (edgesim.controlplane.guard), for the KVS API and the inspector.

Behaviour relied on (docs/inspector.md, "Security"): requests whose Host is not a loopback name,
the bound address or a name of ``[server] admin_allowed_hosts`` are refused (DNS rebinding); a
state-changing request a browser sent (it carries Origin or Sec-Fetch-*) must come from the
admin server's own origin with the per-process token; clients that are not browsers (boto3, the
AWS CLI, the ``edgesim`` CLI, curl) need neither.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim.app import EdgeServer
from edgesim.controlplane.guard import TOKEN_HEADER, HostPolicy, split_host
from tests.unit.inspector.conftest import Client

# -- the Host allow-list ---------------------------------------------------------------------------

ALLOWED = [
    "localhost",
    "localhost:8081",
    "LOCALHOST:8081",
    "localhost.:8081",
    "app.localhost:8081",
    "a.b.localhost",
    "127.0.0.1:8081",
    "127.1.2.3",
    "[::1]:8081",
    "[::1]",
    "123456789012.localhost:8081",  # boto3's account-id prefix
    "123456789012.127.0.0.1:8081",
    "123456789012.kvs.localhost",
    "edgesim:8081",  # [server] admin_allowed_hosts
    "123456789012.edgesim:8081",
    "ci.dev.example:8081",  # *.dev.example
]
REFUSED = [
    "evil.example",
    "evil.example:8081",
    "localhost.evil.example",  # not under .localhost
    "127.0.0.1.evil.example",
    "kvs.invalid",
    "10.0.0.5:8081",
    "[::2]:8081",
    "dev.example",  # *.dev.example is names under it, not itself
    "12345.localhost.evil.example",
    "1234567890123.evil.example",
    "",
]


@pytest.mark.parametrize("host", ALLOWED)
def test_allowed_hosts(host: str) -> None:
    assert HostPolicy(["edgesim", "*.dev.example"]).allows(host)


@pytest.mark.parametrize("host", REFUSED)
def test_refused_hosts(host: str) -> None:
    assert not HostPolicy(["edgesim", "*.dev.example"]).allows(host)


def test_the_bound_address_is_allowed_unless_it_is_a_wildcard() -> None:
    assert HostPolicy(bound="192.168.1.5").allows("192.168.1.5:8081")
    assert not HostPolicy(bound="0.0.0.0").allows("0.0.0.0:8081")
    assert HostPolicy(bound="fd00::5").allows("[fd00::5]:8081")


def test_split_host() -> None:
    assert split_host("[::1]:8081") == "[::1]"
    assert split_host("Example.COM.:80") == "example.com"
    assert split_host("localhost") == "localhost"


names = st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,20}){0,3}", fullmatch=True)
ports = st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}"))


@given(name=names, port=ports)
def test_any_name_under_localhost_with_any_port_is_allowed(name: str, port: str) -> None:
    policy = HostPolicy()
    assert policy.allows(f"{name}.localhost{port}")
    assert policy.allows(f"123456789012.{name}.localhost{port}")


@given(name=names, port=ports)
def test_a_public_name_is_refused_whatever_its_port(name: str, port: str) -> None:
    if name == "localhost" or name.endswith(".localhost"):
        return
    assert not HostPolicy().allows(f"{name}.example{port}")


@given(a=st.integers(0, 255), b=st.integers(0, 255), c=st.integers(0, 255), port=ports)
def test_every_address_of_127_0_0_0_8_is_allowed(a: int, b: int, c: int, port: str) -> None:
    assert HostPolicy().allows(f"127.{a}.{b}.{c}{port}")


# -- through the admin server ----------------------------------------------------------------------


async def test_a_foreign_host_is_refused_on_every_route(admin: Client) -> None:
    for path in ("/status", "/", "/__edgesim/kvs/stores", "/inspector/api/flows"):
        response = await admin.get(path, headers={"Host": "rebound.evil.example"})
        assert response.status == 403, path
        assert response.headers["x-amzn-ErrorType"] == "ForbiddenHost"
        body = await response.json()
        assert "rebound.evil.example" in body["Message"]
        assert "admin_allowed_hosts" in body["Message"]


async def test_loopback_names_and_configured_names_are_answered(admin: Client) -> None:
    for host in ("localhost:8081", "123456789012.127.0.0.1:8081", "edgesim:8081"):
        response = await admin.get("/status", headers={"Host": host})
        assert response.status == 200, host


def _browser(origin: str, site: str, token: str | None = None) -> dict[str, str]:
    headers = {"Origin": origin, "Sec-Fetch-Site": site, "Sec-Fetch-Mode": "cors"}
    if token is not None:
        headers[TOKEN_HEADER] = token
    return headers


async def test_a_cross_site_post_is_refused_and_changes_nothing(
    admin: Client, server: EdgeServer
) -> None:
    before = server.kvs.describe("site").etag
    response = await admin.post(
        "/__edgesim/kvs/stores",
        data='{"name": "evil"}',
        headers={**_browser("http://evil.example", "cross-site"), "Content-Type": "text/plain"},
    )
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "CrossOriginRequest"
    assert [s.name for s in server.kvs.list_stores()] == ["site"]
    assert server.kvs.describe("site").etag == before


async def test_a_same_origin_browser_write_needs_the_token(
    admin: Client, server: EdgeServer
) -> None:
    host = f"127.0.0.1:{admin.port}"
    origin = f"http://{host}"
    etag = server.kvs.describe("site").etag
    arn = server.kvs.describe("site").arn
    path = f"/key-value-stores/{arn.replace('/', '%2F')}/keys/colour"
    body = {"Value": "blue"}
    for token in (None, "wrong"):
        response = await admin.put(
            path,
            json=body,
            headers={**_browser(origin, "same-origin", token), "If-Match": etag, "Host": host},
        )
        assert response.status == 403
        assert (await response.json())["error"]["code"] == "InvalidToken"
    assert server.kvs.export("site") == {"colour": "red"}
    response = await admin.put(
        path,
        json=body,
        headers={**_browser(origin, "same-origin", server.token), "If-Match": etag, "Host": host},
    )
    assert response.status == 200
    assert server.kvs.export("site") == {"colour": "blue"}


async def test_the_token_does_not_help_a_request_from_another_origin(
    admin: Client, server: EdgeServer
) -> None:
    response = await admin.post(
        "/cache/invalidations",
        json={"paths": ["/*"]},
        headers=_browser("http://evil.example", "cross-site", server.token),
    )
    assert response.status == 403


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "null"},  # a sandboxed frame or a file: page
        {"Sec-Fetch-Site": "same-site"},  # another port of localhost is another origin
        {"Origin": "http://127.0.0.1:1"},
    ],
)
async def test_browser_requests_not_from_this_origin_are_refused(
    admin: Client, server: EdgeServer, headers: dict[str, str]
) -> None:
    response = await admin.post(
        "/cache/invalidations",
        json={"paths": ["/*"]},
        headers={**headers, TOKEN_HEADER: server.token},
    )
    assert response.status == 403


async def test_clients_that_are_not_browsers_need_no_token(admin: Client) -> None:
    # curl, urllib (the edgesim CLI), boto3: no Origin, no Sec-Fetch-*.
    response = await admin.post("/cache/invalidations", json={"paths": ["/*"]})
    assert response.status == 200
    created = await admin.post(
        "/__edgesim/kvs/stores",
        data='{"name": "flags"}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},  # as curl -d sends it
    )
    assert created.status == 201


async def test_reads_from_the_page_need_no_token(admin: Client) -> None:
    host = f"127.0.0.1:{admin.port}"
    response = await admin.get(
        "/inspector/api/flows", headers={"Sec-Fetch-Site": "same-origin", "Host": host}
    )
    assert response.status == 200


async def test_the_page_embeds_the_token_and_cannot_be_framed(
    admin: Client, server: EdgeServer
) -> None:
    response = await admin.get("/")
    assert response.status == 200
    text = await response.text()
    assert f'<meta name="edgesim-token" content="{server.token}">' in text
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_each_process_has_its_own_token(make_server: Any) -> None:
    assert make_server().token != make_server().token
