"""Fuzz the [[lambdas]] / [lambda] / association reader with mutated versions of a document that
uses every spelling (tests/reliability/test_fuzz_config.py's mutations and invariant).

Invariant: a Distribution, or an InputError each of whose lines names the file and a key path.
Never another exception.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.conftest import budget
from tests.reliability.mutations import mutated
from tests.reliability.test_fuzz_config import check_config, toml_document

pytestmark = pytest.mark.soak

FUZZ = settings(
    max_examples=int(budget(60, 1500)),
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
    deadline=None,
)

DOC = """
[[origins]]
id = "app"
url = "http://127.0.0.1:3000"

[[functions]]
name = "fn"
file = "auth.js"

[[lambdas]]
name = "auth"
file = "auth.js"
handler = "auth.handler"
runtime = "nodejs20.x"
timeout_s = 5
memory_mb = 128

[[lambdas]]
name = "sign"
file = "pkg"
timeout_s = 30
memory_mb = 1024

[[lambdas]]
name = "zipped"
file = "pkg.zip"

[lambda]
node = "./fake-node"
max_workers = 2
max_queue = 8
idle_s = 30
timeout_error = "LambdaLimitExceeded"
credentials = { access_key_id = "AKIA1", secret_access_key = "s", session_token = "t" }
env = { STAGE = "dev" }

[[behaviors]]
path = "/a/*"
origin = "app"
viewer_request = "auth"
origin_request = { lambda = "sign", include_body = true }
lambda_function_associations = [{ event_type = "origin-response", lambda = "zipped" }]

[default_behavior]
origin = "app"
viewer_request = "fn"
origin_request = "zipped"
"""
BASE_DOC: dict[str, Any] = tomllib.loads(DOC)


def project(root: Path) -> None:
    import zipfile

    (root / "auth.js").write_text("exports.handler = async (e) => e.Records[0].cf.request;\n")
    (root / "pkg").mkdir(exist_ok=True)
    (root / "pkg" / "index.js").write_text("exports.handler = async () => null;\n")
    with zipfile.ZipFile(root / "pkg.zip", "w") as zf:
        zf.writestr("index.js", "exports.handler = async () => null;\n")
    node = root / "fake-node"
    node.write_text("#!/bin/sh\necho v20.11.1\n")
    node.chmod(0o755)


def test_the_base_document_loads(tmp_path: Path) -> None:
    from edgesim.distribution.config import load_config

    project(tmp_path)
    path = tmp_path / "edgesim.toml"
    path.write_text(toml_document(BASE_DOC), encoding="utf-8")
    dist = load_config(path)
    assert set(dist.lambdas) == {"auth", "sign", "zipped"}
    assert dist.notes == ()


@FUZZ
@given(case=mutated(BASE_DOC) | st.just((BASE_DOC, [])))
def test_lambda_config_mutations(tmp_path: Path, case: tuple[dict[str, Any], list[str]]) -> None:
    doc, _ = case
    project(tmp_path)
    path = tmp_path / "edgesim.toml"
    path.write_text(toml_document(doc), encoding="utf-8")
    check_config(path)
