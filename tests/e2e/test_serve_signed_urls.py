"""Private content through serve: a behaviour with trusted key groups serves only valid signed
URLs or signed cookies (made by botocore's CloudFrontSigner or by `edgesim sign`), refuses the
rest with CloudFront's 403 XML before the cache and the origin, expires them on the edge clock,
and keeps the precise reason for the request log, the inspector and the metrics."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesim.cli import main
from tests import signing
from tests.e2e.conftest import Edge, StartEdge

CONFIG = """
[[origins]]
id = "app"
url = "{origin}"

[[public_keys]]
id = "K1"
pem = "keys/public.pem"

[[key_groups]]
name = "signers"
keys = ["K1"]

[[behaviors]]
path = "/private/*"
origin = "app"
trusted_key_groups = ["signers"]

[default_behavior]
origin = "app"
"""
FILES = {"keys/public.pem": signing.public_pem("rsa")}


async def start(start_edge: StartEdge) -> Edge:
    return await start_edge(CONFIG, files=FILES)


def local(edge: Edge, url: str) -> str:
    """The path and query of a signed URL, for ``edge.get``."""
    return url.removeprefix(edge.url)


def now_s(edge: Edge) -> int:
    return int(edge.clock.wall().timestamp())


async def test_signed_urls_open_the_private_behaviour_until_they_expire(
    start_edge: StartEdge,
) -> None:
    edge = await start(start_edge)
    status, headers, body = await edge.get("/private/a.pdf")
    assert status == 403
    assert headers["Content-Type"] == "text/xml"
    assert headers["X-Cache"] == "Error from cloudfront"
    assert headers["Server"] == "CloudFront"
    assert b"<Code>MissingKey</Code>" in body
    assert edge.origin.seen == []  # refused before the cache and the origin

    signed = signing.canned_url(edge.url + "/private/a.pdf", "K1", now_s(edge) + 60)
    assert (await edge.get(local(edge, signed)))[0] == 200
    assert len(edge.origin.seen) == 1
    # Cached now; still every request must be signed.
    assert (await edge.get("/private/a.pdf"))[0] == 403
    status, headers, _ = await edge.get(local(edge, signed))
    assert (status, headers["X-Cache"]) == (200, "Hit from cloudfront")

    edge.clock.advance(61)  # the edge clock decides expiry
    status, _, body = await edge.get(local(edge, signed))
    assert status == 403
    assert b"<Code>AccessDenied</Code><Message>Access denied</Message>" in body
    assert b"expired" not in body  # the reason is for the log, not the viewer
    assert (await edge.get("/public.txt"))[0] == 200


async def test_signed_cookies_and_custom_policies(start_edge: StartEdge) -> None:
    edge = await start(start_edge)
    signed = signing.custom_url(
        edge.url + "/private/x",
        "K1",
        resource=edge.url + "/private/*",
        less_than=now_s(edge) + 60,
        algorithm="SHA256",
    )
    cookies = signing.cookies_from(signed)
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    assert (await edge.get("/private/deep/y.jpg", Cookie=cookie))[0] == 200
    status, _, body = await edge.get("/private/y.jpg", Cookie=cookie.replace("K1", "K9"))
    assert (status, b"<Code>InvalidKey</Code><Message>Unknown Key</Message>" in body) == (403, True)


async def test_refusals_reach_the_log_the_inspector_and_the_metrics(start_edge: StartEdge) -> None:
    edge = await start(start_edge)
    signed = signing.canned_url(edge.url + "/private/a.pdf", "K1", now_s(edge) + 60)
    assert (await edge.get(local(edge, signed.replace("a.pdf", "b.pdf"))))[0] == 403
    log = "\n".join(edge.server.stream.lines)  # type: ignore[attr-defined]
    assert "private content refused: AccessDenied" in log
    assert "does not verify a canned policy" in log
    captured = list(edge.server.capture.since(0))[-1].detail()
    assert "does not verify a canned policy" in str(captured)
    async with edge.session.get(edge.admin + "/metrics") as response:
        metrics = await response.text()
    assert 'edgesim_responses{status="403"} 1' in metrics
    assert 'edgesim_private_content_refusals{code="AccessDenied"} 1' in metrics


async def test_edgesim_sign_makes_urls_and_cookies_serve_accepts(
    start_edge: StartEdge, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edge = await start(start_edge)
    key = tmp_path / "private.pem"
    key.write_text(signing.private_pem("rsa"))
    base = ["sign", "--key-pair-id", "K1", "--private-key", str(key)]
    now = edge.clock.wall().isoformat()
    assert (
        main([*base, edge.url + "/private/a.pdf?v=2", "--date-less-than", "1h", "--now", now]) == 0
    )
    url = capsys.readouterr().out.strip()
    assert "Expires=" in url
    assert (await edge.get(local(edge, url)))[0] == 200
    argv = [*base, edge.url + "/private/*", "--date-less-than", "15m", "--cookies",
            "--hash-algorithm", "SHA256", "--ip-address", "127.0.0.1"]  # fmt: skip
    assert main([*argv, "--now", now]) == 0
    lines = capsys.readouterr().out.split()
    assert [line.split("=")[0] for line in lines] == [
        "CloudFront-Policy",
        "CloudFront-Signature",
        "CloudFront-Key-Pair-Id",
        "CloudFront-Hash-Algorithm",
    ]
    assert (await edge.get("/private/z", Cookie="; ".join(lines)))[0] == 200


def test_sign_rejects_bad_input_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "private.pem"
    key.write_text(signing.public_pem("rsa"))
    url = "http://127.0.0.1:8080/private/a"
    assert main(["sign", url, "--key-pair-id", "K1", "--private-key", str(key),
                 "--date-less-than", "1h"]) == 2  # fmt: skip
    assert "not an unencrypted PEM private key" in capsys.readouterr().err
    key.write_text(signing.private_pem("rsa"))
    assert main(["sign", url, "--key-pair-id", "K1", "--private-key", str(key),
                 "--date-less-than", "tomorrow"]) == 2  # fmt: skip
    assert "--date-less-than 'tomorrow'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("files", "extra", "expected"),
    [
        ({"keys/public.pem": "not a key"}, "", "public_keys[0].pem: "),
        ({"keys/public.pem": signing.private_pem("rsa")}, "", "is a private key"),
        ({"keys/public.pem": signing.public_pem("rsa1024")}, "", "RSA key of 1024 bits"),
        (FILES, 'keys = ["K1", "K2"]', "key_groups[0].keys: unknown public key 'K2'"),
        (FILES, 'trusted_key_groups = ["signer"]', "unknown key group 'signer'"),
    ],
)
def test_serve_refuses_a_bad_key_configuration_with_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str],
    extra: str,
    expected: str,
) -> None:
    text = CONFIG.replace("{origin}", "http://127.0.0.1:9")
    if extra.startswith("keys"):
        text = text.replace('keys = ["K1"]', extra)
    elif extra:
        text = text.replace('trusted_key_groups = ["signers"]', extra)
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    config = tmp_path / "edgesim.toml"
    config.write_text(text)
    assert main(["serve", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert str(config) in err
    assert expected in err
    assert "Traceback" not in err


# A viewer-request function that answers /private/ping itself and logs every request it sees.
PING = """
function handler(event) {
  console.log('saw ' + event.request.uri);
  if (event.request.uri === '/private/ping') {
    return { statusCode: 200, statusDescription: 'OK' };
  }
  return event.request;
}
"""


@pytest.mark.parametrize("order", ["before-function", "after-function"])
async def test_the_check_runs_before_the_function_unless_configured_after(
    start_edge: StartEdge, order: str
) -> None:
    config = CONFIG.replace(
        'trusted_key_groups = ["signers"]',
        'trusted_key_groups = ["signers"]\nviewer_request = "ping"',
    )
    config += f'\n[[functions]]\nname = "ping"\nfile = "ping.js"\n\n[private_content]\ncheck = "{order}"\n'
    edge = await start_edge(config, files={**FILES, "ping.js": PING})
    status, _, _ = await edge.get("/private/a.pdf")
    assert status == 403  # unsigned: refused either way
    status, _, _ = await edge.get("/private/ping")
    log = "\n".join(edge.server.stream.lines)  # type: ignore[attr-defined]
    if order == "before-function":
        assert status == 403  # the function never ran
        assert "saw /private/" not in log
    else:
        assert status == 200  # the function answered before the check
        assert "saw /private/a.pdf" in log
    assert edge.origin.seen == []
