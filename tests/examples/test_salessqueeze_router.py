"""examples/salessqueeze/functions/tenant-router.js in-process (no Node.js needed): a request is
only ever forwarded inside the prefix its host's pointer names, and nothing is forwarded when
the pointer cannot be read or is not ``<tenant>/<version>``, or the URI has a dot segment
(fail-secure)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim import strategies as es
from edgesim.testing import load_function, viewer_request
from edgesim.testing.properties import assert_fail_secure

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "salessqueeze"
SOURCE = EXAMPLE / "functions" / "tenant-router.js"
SEED = EXAMPLE / "kvs" / "pointers.json"
POINTERS = {item["key"]: item["value"] for item in json.loads(SEED.read_text())["data"]}


@pytest.fixture(scope="module")
def fn() -> Any:
    return load_function(SOURCE, kvs=SEED)


def status_of(result: Any) -> int:
    assert result.error is None
    assert result.kind == "response"
    assert result.response["headers"]["cache-control"]["value"] == "no-store"
    return int(result.response["statusCode"])


@given(host=st.sampled_from(sorted(POINTERS)), uri=es.uris())
def test_a_request_stays_inside_its_hosts_pointer(fn: Any, host: str, uri: str) -> None:
    result = fn.run(viewer_request(uri, headers={"host": host}))
    if any(segment in (".", "..") for segment in unquote(uri).split("/")):
        assert status_of(result) == 400  # e.g. /%2e%2e/: refused, never normalised away
        return
    assert result.error is None
    assert result.kind == "request"
    expected = "/" + POINTERS[host] + ("/index.html" if uri == "/" else uri)
    assert result.request["uri"] == expected  # the viewer's encoding kept: the signer's job


@pytest.mark.parametrize(
    "host", ["ACME.example.com", "acme.example.com:443", "acme.example.com.", "Acme.Example.Com."]
)
def test_the_host_is_matched_without_case_port_or_final_dot(fn: Any, host: str) -> None:
    result = fn.run(viewer_request("/", headers={"host": host}))
    assert result.request["uri"] == "/acme/v1/index.html"


@pytest.mark.parametrize("host", [None, "", "unknown.example.com", "localhost", "a b.example.com"])
def test_a_host_without_a_pointer_gets_404(fn: Any, host: str | None) -> None:
    event = (
        viewer_request("/", host=None)
        if host is None
        else viewer_request("/", headers={"host": host})
    )
    assert status_of(fn.run(event)) == 404


@pytest.mark.parametrize(
    "pointer",
    ["acme", "/acme/v1", "acme/v1/", "acme/..", "acme/.", "../acme/v1", "acme/v 1", "-/v1", ""],
)
def test_a_pointer_that_is_not_tenant_slash_version_gets_503(pointer: str) -> None:
    fn = load_function(SOURCE, kvs={**POINTERS, "acme.example.com": pointer})
    assert status_of(fn.run(viewer_request("/", headers={"host": "acme.example.com"}))) == 503


@pytest.mark.parametrize(
    "uri", ["/../globex/v7/index.html", "/a/./b", "/%2e%2e/globex/v7/", "/x%2F..%2Fy", "/.%2E"]
)
def test_a_dot_segment_gets_400(fn: Any, uri: str) -> None:
    assert status_of(fn.run(viewer_request(uri, headers={"host": "acme.example.com"}))) == 400


def test_nothing_is_forwarded_when_the_store_fails() -> None:
    fn = load_function(SOURCE, kvs=SEED)

    def forwarded(result: Any) -> bool:
        return bool(result.kind == "request")

    event = viewer_request("/", headers={"host": "acme.example.com"})
    assert_fail_secure(fn, event, granted=forwarded, keys=frozenset({"acme.example.com"}))
