"""Local S3 buckets that check signatures accept the emulated Lambda@Edge role's keys exactly
while the distribution has lambdas — also after a reload adds or removes them."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edgesim.distribution.config import load_config
from edgesim.origins.buckets import LocalBuckets

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")

CONFIG = """
[server]
port = 0
admin_port = 0
https = false
ephemeral = true

[[origins]]
id = "bucket"
url = "https://media.s3.us-east-1.amazonaws.com"
s3 = true

[origins_local]
bucket = { dir = "site", region = "us-east-1", credentials = { access_key_id = "AKIDLOCAL", secret_access_key = "local" } }

[[lambdas]]
name = "sign"
file = "sign.js"

[default_behavior]
origin = "bucket"
origin_request = "sign"
"""


async def test_role_keys_follow_the_lambdas_of_the_running_config(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "sign.js").write_text("exports.handler = async (e) => e.Records[0].cf.request;\n")
    config = tmp_path / "edgesim.toml"
    config.write_text(CONFIG)
    dist = load_config(config)
    role = dist.lambda_settings.credentials[0]
    buckets = LocalBuckets(lambda: datetime.now(UTC))
    await buckets.serve(dist)
    try:
        ((auth, _own),) = buckets._auths
        assert set(auth.keys) == {"AKIDLOCAL", role}
        buckets.role_keys_for(replace(dist, lambdas={}))  # a reload removed the lambdas
        assert set(auth.keys) == {"AKIDLOCAL"}
        buckets.role_keys_for(dist)  # … and one brought them back
        assert set(auth.keys) == {"AKIDLOCAL", role}
    finally:
        await buckets.stop()
