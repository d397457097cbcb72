"""CDK's cloudfront.experimental.EdgeFunction (issue 18): the distribution's stack reads the
version ARN from an SSM parameter that a separate us-east-1 stack writes; the importer follows it
to the function's code asset. Fixture: fixtures/import/lambda/cdk-edge (a synthesised assembly;
its README says how to regenerate it)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from edgesim.distribution.config import parse_config
from edgesim.distribution.model import LambdaAssociation, LambdaDecl
from edgesim.errors import InputError
from edgesim.importers.cdk import load_cdk
from edgesim.importers.load import import_distribution
from edgesim.importers.totoml import to_toml
from tests.unit.importers.helpers import ROOT

ASSEMBLY = ROOT / "fixtures" / "import" / "lambda" / "cdk-edge" / "cdk.out"
EDGE_STACK = "edge-lambda-stack-c8212ea0dbce19d92c8d7fb409d8255f79dcbb872d"
ASSET = "asset.3bb106d9ddcc6e3e7292f755e766bf9b6b465ab770ddebe7d8ff090fdf0ed929"
ORIGIN = "EdgeSiteOrigin13729B128"


def test_the_edge_function_is_followed_to_its_asset(tmp_path: Path) -> None:
    # Two stacks, but only one holds a distribution: no --stack needed.
    imported = import_distribution(
        ASSEMBLY, workdir=tmp_path, origins=[f"{ORIGIN}=http://127.0.0.1:3000"]
    )
    dist = imported.dist
    assert dist.default_behavior.lambdas == (LambdaAssociation("origin-request", "Sign", True),)
    assert dist.lambdas == {
        "Sign": LambdaDecl(
            name="Sign",  # the construct's id, not the generated logical id
            file=ASSEMBLY / ASSET,
            handler="index.handler",
            runtime="nodejs20.x",
            timeout_s=10.0,
            memory_mb=256,
        )
    }
    assert (ASSEMBLY / ASSET / "index.js").is_file()
    assert imported.where["lambdas.Sign"] == (
        f"{ASSEMBLY / EDGE_STACK}.template.json: Resources.Sign988FF37F"
    )
    assert ASSEMBLY / f"{EDGE_STACK}.template.json" in dist.sources  # hot reload watches it
    assert not [note for note in dist.notes if "Lambda" in note or "SSM" in note]
    text = to_toml(dist, base_dir=tmp_path, where=imported.where)
    back = parse_config(tomllib.loads(text), base_dir=tmp_path, source="edgesim.toml")
    assert back.lambdas == dist.lambdas
    assert back.default_behavior.lambdas == dist.default_behavior.lambdas


def test_the_distribution_stack_can_be_named(tmp_path: Path) -> None:
    (bundle,) = load_cdk(ASSEMBLY, stack="EdgeSite")
    assert set(bundle.lambdas) == {"Sign"}
    with pytest.raises(InputError, match="no CloudFront distribution found"):
        import_distribution(ASSEMBLY, workdir=tmp_path, stack=EDGE_STACK, require_origins=False)


def test_without_the_edge_stack_the_error_names_the_function(tmp_path: Path) -> None:
    copy = tmp_path / "cdk.out"
    shutil.copytree(ASSEMBLY, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    del manifest["artifacts"][EDGE_STACK]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError) as info:
        import_distribution(copy, workdir=tmp_path / "w", require_origins=False)
    assert "the code of Lambda@Edge function Sign is not part of the import" in str(info.value)
    assert "give it with --lambda arn:aws:lambda:us-east-1:123456789012:function:Sign:1=PATH" in (
        str(info.value)
    )
    dist = import_distribution(
        copy,
        workdir=tmp_path / "w",
        require_origins=False,
        lambdas=[f"Sign={ASSEMBLY / ASSET}"],
    ).dist
    assert dist.lambdas["Sign"].file == ASSEMBLY / ASSET


def test_an_unreadable_edge_stack_is_a_note(tmp_path: Path) -> None:
    copy = tmp_path / "cdk.out"
    shutil.copytree(ASSEMBLY, copy)
    (copy / f"{EDGE_STACK}.template.json").write_text("{ not json")
    dist = import_distribution(
        copy,
        workdir=tmp_path / "w",
        require_origins=False,
        lambdas=[f"Sign={ASSEMBLY / ASSET}"],
    ).dist
    assert dist.lambdas["Sign"].file == ASSEMBLY / ASSET
    (note,) = [n for n in dist.notes if EDGE_STACK in n]
    assert "not valid JSON" in note
    assert note.endswith("a Lambda@Edge function it holds needs --lambda")


# -- re-synthesis ---------------------------------------------------------------------------------

APP = ASSEMBLY.parent
HASH = re.compile(r"[0-9a-f]{64}")


def _normalised(path: Path) -> Any:
    """A template without what varies between synths: CDK's analytics and hashes."""
    template = json.loads(path.read_text())
    template["Resources"].pop("CDKMetadata", None)
    return json.loads(HASH.sub("<hash>", json.dumps(template, sort_keys=True)))


@pytest.mark.node
def test_the_committed_assembly_is_what_the_app_synthesises(tmp_path: Path) -> None:
    """Runs when Node and the app's packages are here (`npm install` in
    fixtures/import/lambda/cdk-edge; about 20 s), and skips otherwise: make test never runs npm."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    modules = APP / "node_modules"
    if not (modules / "aws-cdk-lib").is_dir() or not (modules / ".bin" / "cdk").exists():
        pytest.skip(f"the fixture app's packages are not installed: run `npm install` in {APP}")
    env = {
        **os.environ,
        "NODE_PATH": str(modules),
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "CDK_DISABLE_VERSION_CHECK": "true",
    }
    out = tmp_path / "cdk.out"
    subprocess.run(
        [str(modules / ".bin" / "cdk"), "synth", "--quiet", "--no-notices", "--output", str(out)],
        cwd=APP,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    for template in ("EdgeSite.template.json", f"{EDGE_STACK}.template.json"):
        assert _normalised(out / template) == _normalised(ASSEMBLY / template)
    assert (out / ASSET / "index.js").read_bytes() == (APP / "edge" / "index.js").read_bytes()
    (fresh,) = load_cdk(out)
    (committed,) = load_cdk(ASSEMBLY)
    assert fresh.distribution_config == committed.distribution_config
    assert fresh.lambdas["Sign"].handler == committed.lambdas["Sign"].handler
