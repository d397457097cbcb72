"""examples/salessqueeze through ``serve``: a CloudFront Function routes each Host by a KVS
pointer, a Lambda@Edge function signs the origin request with SigV4A (``@smithy/signature-v4a``,
installed by ``npm ci`` from the example's lock file) for an MRAP whose buckets are two local
directories that check signatures as S3 does.

The lambda's node_modules are installed once per lock file into the user's cache folder; the
tests skip, saying why, where Node.js or npm is missing or the install fails (no registry).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import subprocess
import tempfile
import tomllib
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yarl
from hypothesis import given, settings
from hypothesis import strategies as st

from edgesim import strategies as es
from edgesim.controlplane.boto import kvs_client
from edgesim.lambda_edge.spec import Credentials
from edgesim.origins.s3auth import S3Credentials, S3RequestAuth
from edgesim.testing import lambda_event, load_lambda
from edgesim.testing.lambdas import s3_origin
from edgesim.testing.plugin import EdgesimServer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "salessqueeze"
LAMBDA = Path("lambda") / "sign"
ACME = "acme.example.com"
MRAP_HOST = "mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com"
ROLE = Credentials("ASIAEXAMPLEROLE", "role-secret", "role-session-token")
TITLES = {"v1": "Acme — spring collection (v1)", "v2": "Acme — summer sale (v2)"}

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="Node.js and npm are not installed: the example's lambda runs on Node.js and its "
    "dependency (@smithy/signature-v4a) is installed with npm ci",
)

Start = Callable[..., Awaitable[EdgesimServer]]


def _installed_node_modules() -> Path:
    """The lambda's node_modules for its lock file, installed once with ``npm ci`` into the
    user's cache folder (keyed by the lock file's hash) and reused by later runs."""
    source = EXAMPLE / LAMBDA
    lock = (source / "package-lock.json").read_bytes()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "edgesim-tests"
    folder = cache / f"salessqueeze-sign-{hashlib.sha256(lock).hexdigest()[:16]}"
    if not (folder / "node_modules" / ".package-lock.json").is_file():
        cache.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=cache))
        for name in ("package.json", "package-lock.json"):
            shutil.copy(source / name, staging / name)
        done = subprocess.run(
            ["npm", "ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=staging,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            first = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
            pytest.skip(
                "npm ci for the example's lambda failed (no npm registry?): "
                + " | ".join(first[:3])[:500]
            )
        try:
            staging.rename(folder)  # atomic: a concurrent run either wins or reuses this one
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
    return folder / "node_modules"


def _copy_of_example(where: Path, node_modules: Path) -> Path:
    folder = where / "salessqueeze"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("node_modules"))
    (folder / LAMBDA / "node_modules").symlink_to(node_modules, target_is_directory=True)
    return folder


@pytest.fixture(scope="module")
def node_modules() -> Path:
    return _installed_node_modules()


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory, node_modules: Path) -> Path:
    """A copy of the example with the lambda's dependencies in place."""
    return _copy_of_example(tmp_path_factory.mktemp("example"), node_modules)


@pytest.fixture
async def edge(edgesim_server: Start, example: Path) -> EdgesimServer:
    return await edgesim_server(example / "edgesim.toml")


async def get(
    edge: EdgesimServer, path: str, *, host: str = ACME, pop: str = "IAD"
) -> tuple[int, Any, str]:
    # encoded=True: the target goes out exactly as written (%20 stays %20).
    url = yarl.URL(edge.url + path, encoded=True)
    headers = {"Host": host, "x-edgesim-pop": pop}
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as response:
        return response.status, response.headers, await response.text()


def signed_lines(edge: EdgesimServer) -> list[str]:
    """The sign lambda's console lines (serve prints them before each request's line)."""
    return [line for line in edge.logs if "[sign]" in line and "\tINFO\tsigned " in line]


async def test_a_pointer_change_reaches_each_pop_after_its_lag(edge: EdgesimServer) -> None:
    lags_ms = tomllib.loads((EXAMPLE / "edgesim.toml").read_text())["edges"]["propagation_per_pop"]
    assert lags_ms["IAD"] < lags_ms["FRA"]
    for pop in ("IAD", "FRA"):
        status, _, body = await get(edge, "/", pop=pop)
        assert status == 200, body
        assert TITLES["v1"] in body

    # Publish v2 the way a deploy script would: PutKey through the KVS API (boto3, SigV4A).
    arn = edge.kvs.describe("pointers").arn

    def publish() -> None:
        client = kvs_client(edge.admin)
        try:
            etag = client.describe_key_value_store(KvsARN=arn)["ETag"]
            client.put_key(KvsARN=arn, Key=ACME, Value="acme/v2", IfMatch=etag)
        finally:
            client.close()

    await asyncio.to_thread(publish)

    async def pages() -> dict[str, str]:
        seen = {}
        for pop in ("IAD", "FRA"):
            status, _, body = await get(edge, "/", pop=pop)
            assert status == 200, body
            versions = [v for v, title in TITLES.items() if title in body]
            assert len(versions) == 1, body
            seen[pop] = versions[0]
        return seen

    assert await pages() == {"IAD": "v1", "FRA": "v1"}  # acknowledged, not yet at the edge
    edge.advance(lags_ms["IAD"] / 1000 - 0.01)
    assert await pages() == {"IAD": "v1", "FRA": "v1"}
    edge.advance(0.02)
    assert await pages() == {"IAD": "v2", "FRA": "v1"}  # IAD has it, FRA does not yet
    edge.advance((lags_ms["FRA"] - lags_ms["IAD"]) / 1000)
    assert await pages() == {"IAD": "v2", "FRA": "v2"}


async def test_a_hit_does_not_run_the_origin_request_lambda(edge: EdgesimServer) -> None:
    status, headers, body = await get(edge, "/spring%20sale.html")
    assert status == 200, body
    assert "spring sale details (v1)" in body
    assert headers["X-Cache"] == "Miss from cloudfront"
    assert len(signed_lines(edge)) == 1
    assert "signed GET /acme/v1/spring%20sale.html " in signed_lines(edge)[0]

    status, headers, again = await get(edge, "/spring%20sale.html")
    assert (status, again) == (200, body)
    assert headers["X-Cache"] == "Hit from cloudfront"
    assert len(signed_lines(edge)) == 1  # the hit was answered without signing anything
    hit_line = [line for line in edge.logs if line.startswith("IAD GET /acme/v1/spring")][-1]
    assert "[Hit]" in hit_line
    assert "tenant-router=" in hit_line  # the CloudFront Function runs on hits too
    assert "λsign" not in hit_line

    await get(edge, "/")  # another object is a miss again: one more signature, not two
    assert len(signed_lines(edge)) == 2
    assert "(invocation 2 of this instance)" in signed_lines(edge)[-1]


async def test_a_path_encoded_twice_by_the_signer_gets_signature_does_not_match(
    edgesim_server: Start, edge: EdgesimServer, tmp_path: Path, node_modules: Path
) -> None:
    # The example signs S3's canonical path (decoded, then encoded once): a key with a space is
    # served, and so is one whose ( ) the viewer left unencoded (S3 signs them as %28 %29).
    status, _, body = await get(edge, "/spring%20sale.html")
    assert status == 200, body
    status, _, body = await get(edge, "/terms(2026).html")
    assert status == 200, body
    assert "Acme — terms (v1)" in body

    # The same lambda with the SDK's default uriEscapePath (true, meant for other services)
    # encodes the already-encoded URI again: %20 is signed as %2520.
    variant = _copy_of_example(tmp_path, node_modules)
    code = variant / LAMBDA / "index.js"
    text = code.read_text()
    assert text.count("uriEscapePath: false") == 1
    code.write_text(text.replace("uriEscapePath: false", "uriEscapePath: true"))
    naive = await edgesim_server(variant / "edgesim.toml")

    status, _, body = await get(naive, "/index.html")  # nothing to encode: still matches
    assert status == 200, body
    status, headers, body = await get(naive, "/spring%20sale.html")
    assert status == 403
    assert headers["Content-Type"] == "application/xml"
    assert "<Code>SignatureDoesNotMatch</Code>" in body
    # S3 shows the canonical request it computed: the path encoded once.
    assert "<CanonicalRequest>GET\n/acme/v1/spring%20sale.html\n" in body
    assert "signed GET /acme/v1/spring%20sale.html " in signed_lines(naive)[-1]


async def test_the_pop_decides_which_regions_bucket_answers(edge: EdgesimServer) -> None:
    served = {}
    for pop in ("IAD", "FRA"):
        status, headers, body = await get(edge, "/", host="globex.example.com", pop=pop)
        assert status == 200, body
        assert headers["X-Amz-Cf-Pop"].startswith(pop)
        served[pop] = body
    assert "Served from the us-east-1 bucket." in served["IAD"]
    # FRA's regional edge cache is eu-central-1, which has no bucket: the MRAP answers from the
    # nearest region that has one.
    assert "Served from the eu-west-1 bucket." in served["FRA"]
    regions = [line.rsplit(" in ", 1)[1].split(" ")[0] for line in signed_lines(edge)]
    assert regions == ["us-east-1", "eu-central-1"]  # the lambda runs in the POP's region


async def test_hosts_without_a_valid_pointer_never_reach_the_buckets(
    edge: EdgesimServer,
) -> None:
    status, headers, _ = await get(edge, "/", host="unknown.example.com")
    assert status == 404
    assert headers["X-Cache"] == "FunctionGeneratedResponse from cloudfront"

    etag = edge.kvs.describe("pointers").etag
    edge.kvs.put_key("pointers", "broken.example.com", "../acme/v1", if_match=etag)
    edge.settle()
    status, headers, _ = await get(edge, "/", host="broken.example.com", pop="FRA")
    assert status == 503
    assert headers["X-Cache"] == "FunctionGeneratedResponse from cloudfront"
    assert signed_lines(edge) == []  # the lambda never ran: nothing reached an origin


# -- the signer on its own (in-process, with the real clock) -------------------------------------

# Path pieces a viewer may send as they are or percent-encoded, in upper or lower case, valid or not.
PIECES = st.sampled_from(
    ["a", "Z", "0", "-", ".", "_", "~", "/", "(", ")", "!", "*", "'", "+", ",", ";", "=", "@",
     "$", "&", ":", "%20", "%7E", "%7e", "%28", "%2F", "%2f", "%2B", "%C3%A9", "%e2%82%ac",
     "%25", "%zz", "%"]
)  # fmt: skip
RAW_URIS = st.lists(PIECES, min_size=1, max_size=12).map(lambda parts: "/" + "".join(parts))


@pytest.fixture(scope="module")
def signer(example: Path) -> Iterator[Any]:
    with load_lambda(example / LAMBDA, credentials=ROLE) as fn:
        yield fn


def signed_request(signer: Any, uri: str, querystring: str = "") -> dict[str, Any]:
    event = lambda_event(
        "origin-request",
        uri,
        headers={"host": MRAP_HOST, "user-agent": "Amazon CloudFront", "via": "2.0 x (CloudFront)"},
        querystring=querystring,
        origin=s3_origin(MRAP_HOST),
    )
    outcome = signer.run(event)
    assert outcome.kind == "request", outcome.failure
    request: dict[str, Any] = outcome.request
    return request


def s3_verdict(request: dict[str, Any], region: str) -> Any:
    """What a bucket of the MRAP in ``region`` says to the request as CloudFront sends it (the
    URI on the wire as the event has it, plus X-Amz-Cf-Id, which CloudFront adds after)."""
    headers = [(name, h["value"]) for name, values in request["headers"].items() for h in values]
    headers.append(("X-Amz-Cf-Id", "added-after-the-lambda=="))
    auth = S3RequestAuth(
        [S3Credentials(ROLE.access_key_id, ROLE.secret_access_key)],
        region,
        lambda: datetime.now(UTC),
    )
    return auth.check(request["method"], request["uri"], request["querystring"], headers)


@settings(max_examples=60, deadline=None)
@given(uri=st.one_of(es.uris(), RAW_URIS), region=st.sampled_from(["us-east-1", "eu-west-1"]))
def test_every_bucket_accepts_the_signature_whatever_the_uris_encoding(
    signer: Any, uri: str, region: str
) -> None:
    request = signed_request(signer, uri)
    assert request["uri"] == uri  # signed, not rewritten: S3 gets what the viewer sent
    assert s3_verdict(request, region) is None
    assert request["headers"]["x-amz-region-set"][0]["value"] == "*"
    assert request["headers"]["x-amz-security-token"][0]["value"] == ROLE.session_token


def test_the_query_string_is_signed_too(signer: Any) -> None:
    request = signed_request(signer, "/a.html", "b=2&a=1&a=0&c=x%20y&d")
    assert s3_verdict(request, "us-east-1") is None
    request["querystring"] = "b=2&a=1&a=0&c=x%20y&d=changed"
    failure = s3_verdict(request, "us-east-1")
    assert failure is not None
    assert failure.code == "SignatureDoesNotMatch"


def test_requests_to_other_origins_go_out_unsigned(signer: Any) -> None:
    event = lambda_event("origin-request", "/a.html", origin=s3_origin("assets.s3.amazonaws.com"))
    outcome = signer.run(event)
    assert outcome.kind == "request"
    assert "authorization" not in outcome.request["headers"]
