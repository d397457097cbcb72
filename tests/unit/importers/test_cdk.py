"""The CDK cloud-assembly importer on the committed fixture (fixtures/import/cdk-app/cdk.out)
and on assemblies derived from it: stacks and stages, assets, construct paths, BucketDeployment
contents, the errors; and a re-synthesis of the fixture app when Node and its packages are here."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from edgesim.errors import InputError
from edgesim.importers.bundle import ImportBundle, function_arn
from edgesim.importers.cdk import list_stacks, load_cdk

APP = Path(__file__).parents[3] / "fixtures" / "import" / "cdk-app"
ASSEMBLY = APP / "cdk.out"
TEMPLATE = ASSEMBLY / "EdgesimSite.template.json"
KVS_ASSET = "asset.2c5eef0f3ecaa51a83678cb5d8be4ac607fff6ba8392da5400d85ada2bee60e7.json"
SITE_ASSET = "asset.698bdb4267f1c15f47082d947ce6ec229513296729be561ab0a682c923bfdea7"
S3_ORIGIN = "EdgesimSiteOrigin105156F7A"
API_ORIGIN = "EdgesimSiteOrigin21344BF86"
ROUTER = "us-east-1EdgesimSiteRouter9680C31B"
STORE = "EdgesimSiteRedirects8FCA79E2"


def only(found: list[ImportBundle]) -> ImportBundle:
    assert [bundle.name for bundle in found] == ["SiteE53D7754"]
    return found[0]


def copy_assembly(tmp_path: Path) -> Path:
    target = tmp_path / "cdk.out"
    shutil.copytree(ASSEMBLY, target)
    return target


def edit_json(path: Path, change: Any) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_the_fixture_distribution() -> None:
    bundle = only(load_cdk(ASSEMBLY))
    config = bundle.distribution_config
    assert config["DefaultRootObject"] == "index.html"
    assert config["Comment"] == "edgesim CDK fixture"
    s3, api = config["Origins"]
    assert s3["Id"] == S3_ORIGIN
    assert re.fullmatch(
        r"edgesimsite-bucket83908e77-[0-9a-f]{12}\.s3\.us-east-1\.amazonaws\.com", s3["DomainName"]
    )
    assert s3["OriginAccessControlId"] == "SiteOrigin1S3OriginAccessControl278A1C77"
    assert api == {
        "CustomOriginConfig": {
            "OriginProtocolPolicy": "https-only",
            "OriginSslProtocols": ["TLSv1.2"],
        },
        "DomainName": "api.example.com",
        "Id": API_ORIGIN,
        "CustomHeaders": [{"HeaderName": "X-From-Edge", "HeaderValue": "edgesim-fixture"}],
    }
    default = config["DefaultCacheBehavior"]
    assert default["FunctionAssociations"] == [
        {"EventType": "viewer-request", "FunctionARN": function_arn(ROUTER)}
    ]
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    (api_behaviour,) = config["CacheBehaviors"]
    assert api_behaviour["PathPattern"] == "/api/*"
    assert api_behaviour["CachePolicyId"] == "ApiCacheA0112D40"
    assert api_behaviour["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    assert config["CustomErrorResponses"] == [
        {
            "ErrorCachingMinTTL": 10,
            "ErrorCode": 403,
            "ResponseCode": 404,
            "ResponsePagePath": "/404.html",
        }
    ]
    assert config["Restrictions"] == {
        "GeoRestriction": {"Locations": ["KP", "IR"], "RestrictionType": "blacklist"}
    }


def test_the_fixture_function_store_and_policy() -> None:
    bundle = only(load_cdk(ASSEMBLY))
    router = bundle.functions[ROUTER]
    assert router.runtime == "cloudfront-js-2.0"
    assert router.kvs == [STORE]
    assert router.code is not None
    assert router.code.startswith("import cf from 'cloudfront';")
    store = bundle.kvs[STORE]
    assert store.data == ASSEMBLY / KVS_ASSET
    assert json.loads(store.data.read_text()) == json.loads(
        (APP / "kvs" / "redirects.json").read_text()
    )
    policy = bundle.cache_policies["ApiCacheA0112D40"]
    assert policy["Name"] == "edgesim-fixture-api"
    assert (policy["MinTTL"], policy["DefaultTTL"], policy["MaxTTL"]) == (0, 60, 600)


def test_the_fixture_origin_hints() -> None:
    bundle = only(load_cdk(ASSEMBLY))
    assert bundle.origin_hints == {
        "distribution": "EdgesimSite/Site",
        S3_ORIGIN: "EdgesimSite/Bucket",
        API_ORIGIN: "EdgesimSite/Site/Origin2",
        f"content:{S3_ORIGIN}": str((ASSEMBLY / SITE_ASSET).absolute()),
    }
    site = Path(bundle.origin_hints[f"content:{S3_ORIGIN}"])
    assert sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")) == [
        "404.html",
        "docs/index.html",
        "index.html",
    ]


def test_the_fixture_sources_where_and_notes() -> None:
    bundle = only(load_cdk(ASSEMBLY))
    assert bundle.sources == [
        TEMPLATE,
        ASSEMBLY / KVS_ASSET,
        ASSEMBLY / "manifest.json",
        ASSEMBLY / "EdgesimSite.assets.json",
        ASSEMBLY / "tree.json",
    ]
    assert bundle.where[""] == f"{TEMPLATE}: Resources.SiteE53D7754.Properties.DistributionConfig"
    assert bundle.where[f"functions.{ROUTER}"] == f"{TEMPLATE}: Resources.Router16807C72"
    assert bundle.notes == []


def test_the_stack_can_be_named() -> None:
    for name in ("EdgesimSite",):
        only(load_cdk(ASSEMBLY, stack=name))
    with pytest.raises(InputError) as caught:
        load_cdk(ASSEMBLY, stack="Nope")
    assert str(caught.value) == f"{ASSEMBLY}: no stack Nope (stacks: EdgesimSite)"


def test_unknown_parameters_are_refused() -> None:
    with pytest.raises(InputError) as caught:
        load_cdk(ASSEMBLY, parameters={"Nope": "1"})
    assert str(caught.value) == (
        f"{TEMPLATE}: --parameter Nope: the template has no such parameter "
        "(its parameters: BootstrapVersion)"
    )


def add_stack(manifest: dict[str, Any], artifact_id: str, display: str, stack_name: str) -> None:
    artifact = json.loads(json.dumps(manifest["artifacts"]["EdgesimSite"]))
    artifact["displayName"] = display
    artifact["properties"]["stackName"] = stack_name
    manifest["artifacts"][artifact_id] = artifact


def test_several_stacks_need_a_choice(tmp_path: Path) -> None:
    assembly = copy_assembly(tmp_path)
    edit_json(
        assembly / "manifest.json",
        lambda m: add_stack(m, "EdgesimSiteStaging", "EdgesimSiteStaging", "edgesim-staging"),
    )
    with pytest.raises(InputError) as caught:
        load_cdk(assembly)
    assert str(caught.value) == (
        f"{assembly}: 2 stacks (EdgesimSite, EdgesimSiteStaging): choose one with --stack"
    )
    staging = only(load_cdk(assembly, stack="edgesim-staging"))  # by CloudFormation name
    bucket = staging.distribution_config["Origins"][0]["DomainName"]
    assert bucket.startswith("edgesim-staging-bucket83908e77-")
    assert only(load_cdk(assembly, stack="EdgesimSiteStaging")).distribution_config == (
        staging.distribution_config
    )


def test_stacks_inside_stages(tmp_path: Path) -> None:
    root = tmp_path / "cdk.out"
    shutil.copytree(ASSEMBLY, root / "assembly-Prod")
    edit_json(
        root / "assembly-Prod" / "manifest.json",
        lambda m: m["artifacts"]["EdgesimSite"].update(displayName="Prod/EdgesimSite"),
    )
    (root / "manifest.json").write_text(
        json.dumps(
            {
                "version": "55.0.0",
                "artifacts": {
                    "assembly-Prod": {
                        "type": "cdk:cloud-assembly",
                        "properties": {"directoryName": "assembly-Prod", "displayName": "Prod"},
                    }
                },
            }
        )
    )
    assert [stack.display_name for stack in list_stacks(root)] == ["Prod/EdgesimSite"]
    bundle = only(load_cdk(root, stack="Prod/EdgesimSite"))
    assert bundle.kvs[STORE].data == root / "assembly-Prod" / KVS_ASSET
    # Without tree.json entries for the stage's path, the template's aws:cdk:path metadata serves.
    assert bundle.origin_hints[S3_ORIGIN] == "EdgesimSite/Bucket"


def test_construct_paths_from_metadata_without_tree_json(tmp_path: Path) -> None:
    assembly = copy_assembly(tmp_path)
    (assembly / "tree.json").unlink()
    bundle = only(load_cdk(assembly))
    assert bundle.origin_hints[S3_ORIGIN] == "EdgesimSite/Bucket"
    assert bundle.origin_hints["distribution"] == "EdgesimSite/Site"


def test_construct_paths_from_the_stack_metadata(tmp_path: Path) -> None:
    """Older CDK versions name logical ids only in the manifest's stack metadata (or its
    additionalMetadataFile), and plain `app.synth()` writes no aws:cdk:path metadata."""
    assembly = copy_assembly(tmp_path)
    (assembly / "tree.json").unlink()

    def strip(template: dict[str, Any]) -> None:
        for resource in template["Resources"].values():
            resource.pop("Metadata", None)

    edit_json(assembly / "EdgesimSite.template.json", strip)
    assert "distribution" not in only(load_cdk(assembly)).origin_hints
    entries = {
        "/EdgesimSite/Bucket/Resource": [{"type": "aws:cdk:logicalId", "data": "Bucket83908E77"}],
    }
    (assembly / "EdgesimSite.metadata.json").write_text(
        json.dumps(
            {"/EdgesimSite/Site/Resource": [{"type": "aws:cdk:logicalId", "data": "SiteE53D7754"}]}
        )
    )
    edit_json(
        assembly / "manifest.json", lambda m: m["artifacts"]["EdgesimSite"].update(metadata=entries)
    )
    hints = only(load_cdk(assembly)).origin_hints
    assert hints["distribution"] == "EdgesimSite/Site"
    assert hints[S3_ORIGIN] == "EdgesimSite/Bucket"


def test_a_distribution_in_a_nested_stack(tmp_path: Path) -> None:
    """The fixture's template as a NestedStack of a parent stack, staged as CDK stages it."""
    assembly = copy_assembly(tmp_path)
    nested_key = "4b4aba1a9d25a4e6025a1def11f60747a395b9ec511ef127d5c45f9d4979ffb6.json"
    (assembly / "EdgesimSite.template.json").rename(
        assembly / "EdgesimSiteCdn.nested.template.json"
    )
    url = {
        "Fn::Join": [
            "",
            [
                "https://s3.",
                {"Ref": "AWS::Region"},
                ".",
                {"Ref": "AWS::URLSuffix"},
                "/",
                {"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"},
                f"/{nested_key}",
            ],
        ]
    }
    parent = {
        "Resources": {
            "CdnNestedStack": {
                "Type": "AWS::CloudFormation::Stack",
                "Properties": {"TemplateURL": url},
            }
        }
    }
    (assembly / "EdgesimSite.template.json").write_text(json.dumps(parent))
    edit_json(
        assembly / "EdgesimSite.assets.json",
        lambda m: m["files"].update(
            nested={
                "source": {"path": "EdgesimSiteCdn.nested.template.json", "packaging": "file"},
                "destinations": {"d": {"bucketName": "b", "objectKey": nested_key}},
            }
        ),
    )
    (bundle,) = load_cdk(assembly)
    assert bundle.name == "CdnNestedStack/SiteE53D7754"
    assert bundle.kvs[STORE].data == assembly / KVS_ASSET
    assert bundle.origin_hints[S3_ORIGIN] == "EdgesimSite/Bucket"
    assert bundle.origin_hints[f"content:{S3_ORIGIN}"] == str((assembly / SITE_ASSET).absolute())
    assert bundle.sources[0] == assembly / "EdgesimSiteCdn.nested.template.json"
    assert assembly / "EdgesimSite.template.json" in bundle.sources


def test_a_missing_kvs_asset_is_an_error(tmp_path: Path) -> None:
    assembly = copy_assembly(tmp_path)
    (assembly / KVS_ASSET).unlink()
    with pytest.raises(InputError) as caught:
        load_cdk(assembly)
    key = KVS_ASSET.removeprefix("asset.")
    assert str(caught.value) == (
        f"{assembly / 'EdgesimSite.template.json'}: Resources.RedirectsE80BB6C8.Properties"
        f".ImportSource.SourceArn: s3://cdk-hnb659fds-assets-123456789012-us-east-1/{key}: "
        f"the asset file {assembly / KVS_ASSET} is missing"
    )


def test_a_missing_bucket_deployment_asset_is_an_error(tmp_path: Path) -> None:
    assembly = copy_assembly(tmp_path)
    shutil.rmtree(assembly / SITE_ASSET)
    with pytest.raises(InputError) as caught:
        load_cdk(assembly)
    key = SITE_ASSET.removeprefix("asset.") + ".zip"
    assert str(caught.value) == (
        f"{assembly / 'EdgesimSite.template.json'}: Resources.DeploySiteCustomResourceE47C9748"
        f".Properties.SourceObjectKeys: {key}: the asset {assembly / SITE_ASSET} is missing "
        "from the assembly"
    )


def test_a_deployment_with_a_prefix_and_a_source_outside_the_assembly(tmp_path: Path) -> None:
    assembly = copy_assembly(tmp_path)

    def change(template: dict[str, Any]) -> None:
        properties = template["Resources"]["DeploySiteCustomResourceE47C9748"]["Properties"]
        properties["SourceObjectKeys"].append("not-an-asset.zip")
        properties["DestinationBucketKeyPrefix"] = "/www/"

    edit_json(assembly / "EdgesimSite.template.json", change)
    bundle = only(load_cdk(assembly))
    assert bundle.origin_hints[f"content:{S3_ORIGIN}"] == str((assembly / SITE_ASSET).absolute())
    assert bundle.origin_hints[f"content-prefix:{S3_ORIGIN}"] == "www"
    assert bundle.notes == [
        f"{assembly / 'EdgesimSite.template.json'}: Resources.DeploySiteCustomResourceE47C9748: "
        "a BucketDeployment source (not-an-asset.zip) is not an asset of the assembly: map that "
        "bucket's origin yourself"
    ]


def test_not_an_assembly(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load_cdk(tmp_path)
    assert str(caught.value) == f"{tmp_path}: not a CDK cloud assembly (no manifest.json)"


def test_a_broken_manifest(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{")
    with pytest.raises(InputError, match=r"manifest\.json:1:2: not valid JSON: "):
        load_cdk(tmp_path)


def test_an_assembly_without_stacks(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"version": "55.0.0", "artifacts": {}}')
    with pytest.raises(InputError) as caught:
        load_cdk(tmp_path)
    assert str(caught.value) == f"{tmp_path}: the cloud assembly has no stack"


# -- re-synthesis ---------------------------------------------------------------------------------

HASH = re.compile(r"[0-9a-f]{64}")


def normalised(template: dict[str, Any]) -> dict[str, Any]:
    """The template without what varies between synths: CDK's analytics and asset hashes."""
    resources = dict(template["Resources"])
    resources.pop("CDKMetadata", None)
    text = HASH.sub("<hash>", json.dumps({**template, "Resources": resources}, sort_keys=True))
    return dict(json.loads(text))


@pytest.mark.node
def test_the_committed_assembly_is_what_the_app_synthesises(tmp_path: Path) -> None:
    node = shutil.which("node")
    cli = APP / "node_modules" / ".bin" / "cdk"
    if node is None:
        pytest.skip("node is not installed")
    if not (APP / "node_modules" / "aws-cdk-lib").is_dir() or not cli.exists():
        pytest.skip(f"the fixture app's packages are not installed: run `npm ci` in {APP}")
    env = {
        **os.environ,
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "CDK_DISABLE_VERSION_CHECK": "true",
    }
    subprocess.run(
        [str(cli), "synth", "--quiet", "--no-notices", "--output", str(tmp_path / "cdk.out")],
        cwd=APP,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    fresh = json.loads((tmp_path / "cdk.out" / "EdgesimSite.template.json").read_text())
    assert normalised(fresh) == normalised(json.loads(TEMPLATE.read_text()))
    committed, synthesised = only(load_cdk(ASSEMBLY)), only(load_cdk(tmp_path / "cdk.out"))
    assert synthesised.distribution_config == committed.distribution_config
    assert synthesised.functions[ROUTER].code == committed.functions[ROUTER].code
