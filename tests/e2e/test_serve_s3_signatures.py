"""A local S3 directory with credentials checks signatures as S3 does, behind serve: an unsigned
request gets S3's 403 AccessDenied, a presigned URL whose query reaches the origin is served until
it expires on the edge clock, and a URL signed with another secret gets SignatureDoesNotMatch
with the canonical request S3 computed."""

from __future__ import annotations

from urllib.parse import urlsplit

from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.e2e.conftest import StartEdge

BUCKET = "media-eu.s3.eu-west-1.amazonaws.com"
CONFIG = f"""
[[origins]]
id = "media"
url = "https://{BUCKET}"

[origins_local]
media = {{ dir = "bucket", region = "eu-west-1", credentials = {{ access_key_id = "AKIDLOCAL", secret_access_key = "local-secret" }} }}

[default_behavior]
origin = "media"
cache_policy = "CachingDisabled"
origin_request_policy = "AllViewerExceptHostHeader"
"""


def presigned(path: str, secret: str = "local-secret", expires: int = 60) -> str:
    """The path and query of a presigned GET for ``path`` in the bucket (as botocore signs)."""
    request = AWSRequest(method="GET", url=f"https://{BUCKET}{path}")
    S3SigV4QueryAuth(Credentials("AKIDLOCAL", secret), "s3", "eu-west-1", expires=expires).add_auth(
        request
    )
    parts = urlsplit(request.prepare().url)
    return f"{parts.path}?{parts.query}"


async def test_signatures_are_checked_by_a_directory_with_credentials(
    start_edge: StartEdge,
) -> None:
    edge = await start_edge(CONFIG, files={"bucket/videos/intro.txt": "hello"})
    banner = "\n".join(edge.server.banner())
    assert "checking signatures for eu-west-1" in banner

    status, _, body = await edge.get("/videos/intro.txt")
    assert status == 403
    assert b"<Code>AccessDenied</Code><Message>Access Denied</Message>" in body

    url = presigned("/videos/intro.txt")
    status, _, body = await edge.get(url)
    assert (status, body) == (200, b"hello")

    edge.clock.advance(61)  # the edge clock decides when a presigned URL has expired
    status, _, body = await edge.get(url)
    assert status == 403
    assert b"<Message>Request has expired</Message>" in body
    assert b"<X-Amz-Expires>60</X-Amz-Expires>" in body

    status, _, body = await edge.get(presigned("/videos/intro.txt", secret="another", expires=3600))
    assert status == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in body
    assert b"<CanonicalRequest>GET\n/videos/intro.txt\n" in body


MRAP_HOST = "mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com"
MRAP = f"""
[[origins]]
id = "pages"
url = "https://{MRAP_HOST}"
s3 = true

[origins_local]
pages = {{ regions = {{ "us-east-1" = "us", "eu-west-1" = "eu" }} }}

[edges]
pops = ["IAD", "DUB", "FRA", "NRT"]
pop_regions = {{ NRT = "eu-west-1" }}

[default_behavior]
origin = "pages"
cache_policy = "CachingDisabled"
"""


async def test_an_mrap_style_origin_answers_from_the_bucket_that_serves_the_pop(
    start_edge: StartEdge,
) -> None:
    edge = await start_edge(
        MRAP, files={"us/page.html": "from us-east-1", "eu/page.html": "from eu-west-1"}
    )
    served = {}
    for pop in ("IAD", "DUB", "FRA", "NRT"):
        status, _, body = await edge.get("/page.html", **{"x-edgesim-pop": pop})
        assert status == 200
        served[pop] = body.decode()
    assert served == {
        "IAD": "from us-east-1",  # its own region has a bucket
        "DUB": "from eu-west-1",
        "FRA": "from eu-west-1",  # eu-central-1 has none: the nearest does
        "NRT": "from eu-west-1",  # [edges] pop_regions puts NRT there
    }
