"""Lambda@Edge imports (issue 18): LambdaFunctionAssociations → behaviour lambdas and
[[lambdas]], from the API shape, --lambda, CloudFormation, SAM, Terraform and a DistributionConfig;
and `edgesim import` writing them so that edgesim.toml reads back the same distribution.

Fixtures: fixtures/import/lambda/ (the CDK assembly has its own test file)."""

from __future__ import annotations

import json
import random
import tempfile
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgesim.distribution.config import parse_config
from edgesim.distribution.model import LambdaAssociation, LambdaDecl
from edgesim.errors import InputError
from edgesim.importers.apishape import to_distribution
from edgesim.importers.bundle import FunctionSource, ImportBundle, LambdaSource, function_arn
from edgesim.importers.lambda_flags import apply_lambda_flags
from edgesim.importers.load import import_distribution
from edgesim.importers.overlay import read_overlay
from edgesim.importers.totoml import to_toml
from tests.unit.importers.helpers import ROOT, behavior, config, convert, listing, problems_of

LAMBDA = ROOT / "fixtures" / "import" / "lambda"
ARN = "arn:aws:lambda:us-east-1:111122223333:function:sign"
CODE = "exports.handler = async (event) => event.Records[0].cf.request;\n"
EVENTS = ("viewer-request", "origin-request", "origin-response", "viewer-response")


def association(event: str, arn: str = f"{ARN}:3", **extra: Any) -> dict[str, Any]:
    return {"EventType": event, "LambdaFunctionARN": arn, **extra}


def default_with(*associations: dict[str, Any], **members: Any) -> dict[str, Any]:
    return config(
        DefaultCacheBehavior={
            **config()["DefaultCacheBehavior"],
            "LambdaFunctionAssociations": listing(*associations),
            **members,
        }
    )


def signed(**settings: Any) -> dict[str, Any]:
    """Bundle members with one function ``sign`` (inline code) at ``{ARN}:3``."""
    return {
        "lambdas": {"sign": LambdaSource(name="sign", code=CODE, **settings)},
        "lambda_arns": {f"{ARN}:3": "sign"},
    }


# -- the API shape → the model -----------------------------------------------------------------


def test_an_association_becomes_the_behaviours_lambda_and_a_declaration(tmp_path: Path) -> None:
    cfg = default_with(association("origin-request", IncludeBody=True))
    imported = convert(
        tmp_path, cfg, **signed(handler="index.handler", timeout_s=10, memory_mb=512)
    )
    dist = imported.dist
    assert dist.default_behavior.lambdas == (LambdaAssociation("origin-request", "sign", True),)
    assert dist.lambdas == {
        "sign": LambdaDecl(
            name="sign",
            file=tmp_path / "lambdas" / "sign",
            handler="index.handler",
            runtime="nodejs20.x",
            timeout_s=10.0,
            memory_mb=512,
        )
    }
    # Inline code is written as CloudFormation names it: index.js in the package directory.
    assert (tmp_path / "lambdas" / "sign" / "index.js").read_text() == CODE
    assert not [note for note in dist.notes if "Lambda@Edge" in note]


@pytest.mark.parametrize(
    ("arn", "what"),
    [
        (ARN, "has no version"),
        (f"{ARN}:$LATEST", "is $LATEST"),
        (f"{ARN}:live", "names alias 'live'"),
    ],
)
def test_only_a_version_arn_is_accepted(tmp_path: Path, arn: str, what: str) -> None:
    # CloudFront API Reference, LambdaFunctionAssociation: "You must specify the ARN of a
    # function version; you can't specify an alias or $LATEST."
    text = problems_of(tmp_path, default_with(association("origin-request", arn)), **signed())
    assert (
        "dist.json: DistributionConfig.DefaultCacheBehavior.LambdaFunctionAssociations.Items.0"
        f".LambdaFunctionARN: {arn} {what}: CloudFront needs the ARN of a published function "
        "version" in text
    )


def test_a_function_outside_us_east_1_is_refused(tmp_path: Path) -> None:
    arn = "arn:aws:lambda:eu-west-1:111122223333:function:sign:3"
    text = problems_of(tmp_path, default_with(association("origin-request", arn)), **signed())
    assert text.endswith(f"{arn} is in eu-west-1: Lambda@Edge functions are created in us-east-1")


def test_an_arn_without_code_says_where_and_how_to_give_it(tmp_path: Path) -> None:
    text = problems_of(tmp_path, default_with(association("viewer-request", f"{ARN}:9")))
    assert text == (
        "dist.json: DistributionConfig.DefaultCacheBehavior.LambdaFunctionAssociations.Items.0"
        ".LambdaFunctionARN: the code of Lambda@Edge function sign is not part of the import; "
        f"give it with --lambda {ARN}:9=PATH (a .js/.mjs/.cjs file, a package directory or a .zip)"
    )


def test_code_that_is_not_local_names_the_function_and_the_flag(tmp_path: Path) -> None:
    bundle: dict[str, Any] = {
        "lambdas": {
            "sign": LambdaSource(name="sign", missing="s3://b/k.zip", where="t.yaml: Resources.F")
        },
        "lambda_arns": {f"{ARN}:3": "sign"},
        "where": {"": "dist.json: DistributionConfig", "lambdas.sign": "t.yaml: Resources.F"},
    }
    text = problems_of(tmp_path, default_with(association("origin-request")), **bundle)
    assert text == (
        "t.yaml: Resources.F: the code of Lambda@Edge function sign is not a local file "
        "(s3://b/k.zip): give it with --lambda sign=PATH (a .js/.mjs/.cjs file, a package "
        "directory or a .zip)"
    )


def test_cloudfront_refusals_are_errors(tmp_path: Path) -> None:
    functions = {"f": FunctionSource(name="f", runtime="cloudfront-js-2.0", code="function h(e){}")}
    cfg = config(
        CacheBehaviors=listing(
            # A CloudFront function excludes Lambda@Edge on both viewer events.
            behavior(
                "/a/*",
                FunctionAssociations=listing(
                    {"EventType": "viewer-request", "FunctionARN": function_arn("f")}
                ),
                LambdaFunctionAssociations=listing(association("viewer-response")),
            ),
            behavior(
                "/b/*",
                LambdaFunctionAssociations=listing(
                    association("origin-response", IncludeBody=True),
                    association("origin-request"),
                    association("origin-request"),
                    association("on-request"),
                ),
            ),
        )
    )
    text = problems_of(tmp_path, cfg, functions=functions, **signed())
    place = "dist.json: DistributionConfig.CacheBehaviors.Items"
    assert (
        f"{place}.0.LambdaFunctionAssociations.Items.0.EventType: a Lambda@Edge viewer-response "
        "function in a behaviour with a CloudFront function" in text
    )
    assert (
        f"{place}.1.LambdaFunctionAssociations.Items.0.IncludeBody: is for request events" in text
    )
    assert (
        f"{place}.1.LambdaFunctionAssociations.Items.2.EventType: a second origin-request "
        "Lambda@Edge function" in text
    )
    assert f"{place}.1.LambdaFunctionAssociations.Items.3.EventType: 'on-request' is not" in text


def test_a_function_and_a_lambda_on_different_stages_go_together(tmp_path: Path) -> None:
    functions = {"f": FunctionSource(name="f", runtime="cloudfront-js-2.0", code="function h(e){}")}
    cfg = default_with(
        association("origin-request"),
        FunctionAssociations=listing(
            {"EventType": "viewer-request", "FunctionARN": function_arn("f")}
        ),
    )
    dist = convert(tmp_path, cfg, functions=functions, **signed()).dist
    assert dist.default_behavior.viewer_request == "f"
    assert dist.default_behavior.lambdas == (LambdaAssociation("origin-request", "sign"),)


def test_viewer_events_have_the_viewer_quotas(tmp_path: Path) -> None:
    # Quotas on Lambda@Edge: viewer events 128 MB and 5 s; origin events more.
    cfg = default_with(association("viewer-request"))
    text = problems_of(tmp_path, cfg, **signed(memory_mb=256))
    assert "function sign (256 MB, 3 s, here) is over the viewer event quotas (128 MB, 5 s" in text
    text = problems_of(
        tmp_path, default_with(association("origin-request")), **signed(memory_mb=64)
    )
    assert "function sign: 64 MB is below Lambda's 128" in text
    dist = convert(tmp_path, default_with(association("origin-request")), **signed(memory_mb=256))
    assert dist.dist.lambdas["sign"].memory_mb == 256


def test_a_python_function_is_a_note_and_not_run(tmp_path: Path) -> None:
    dist = convert(
        tmp_path, default_with(association("origin-request")), **signed(runtime="python3.12")
    ).dist
    assert dist.default_behavior.lambdas == ()
    assert dist.lambdas == {}
    assert any(
        "Lambda@Edge origin-request function sign (python3.12): not emulated yet" in note
        for note in dist.notes
    )


def test_a_lambda_named_like_a_cloudfront_function_is_renamed(tmp_path: Path) -> None:
    functions = {
        "sign": FunctionSource(name="sign", runtime="cloudfront-js-2.0", code="function h(e){}")
    }
    cfg = config(
        DefaultCacheBehavior={
            **config()["DefaultCacheBehavior"],
            "FunctionAssociations": listing(
                {"EventType": "viewer-request", "FunctionARN": function_arn("sign")}
            ),
        },
        CacheBehaviors=listing(
            behavior("/s/*", LambdaFunctionAssociations=listing(association("origin-request")))
        ),
    )
    imported = convert(tmp_path, cfg, functions=functions, **signed())
    (signed_behaviour,) = imported.dist.behaviors
    assert signed_behaviour.lambdas == (LambdaAssociation("origin-request", "sign-lambda"),)
    assert set(imported.dist.lambdas) == {"sign-lambda"}
    assert set(imported.dist.functions) == {"sign"}
    assert "lambdas.sign-lambda" in imported.where


# -- --lambda ----------------------------------------------------------------------------------


def test_the_lambda_flag_takes_an_arn_or_a_name_and_settings(tmp_path: Path) -> None:
    code = tmp_path / "auth.mjs"
    code.write_text(CODE)
    bundle = ImportBundle(distribution_config={})
    apply_lambda_flags(
        bundle,
        [f"{ARN}:3=auth.mjs,handler=auth.check,timeout=4,memory=128", "other=."],
        base_dir=tmp_path,
    )
    assert bundle.lambda_arns == {f"{ARN}:3": "sign"}
    sign = bundle.lambdas["sign"]
    assert (sign.file, sign.handler, sign.timeout_s, sign.memory_mb) == (
        code,
        "auth.check",
        4.0,
        128,
    )
    assert bundle.lambdas["other"].file == tmp_path
    assert code in bundle.sources  # hot reload watches a file given with --lambda


def test_the_lambda_flag_keeps_the_sources_settings(tmp_path: Path) -> None:
    (tmp_path / "new.js").write_text(CODE)
    bundle = ImportBundle(distribution_config={}, **signed(handler="index.go", memory_mb=256))
    apply_lambda_flags(bundle, [f"{ARN}:3=new.js,timeout=2"], base_dir=tmp_path)
    sign = bundle.lambdas["sign"]
    assert (sign.code, sign.file, sign.handler, sign.memory_mb, sign.timeout_s) == (
        None,
        tmp_path / "new.js",
        "index.go",
        256,
        2.0,
    )


def test_bad_lambda_flags_are_all_reported(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("")
    with pytest.raises(InputError) as info:
        apply_lambda_flags(
            ImportBundle(distribution_config={}),
            ["nope", "x=missing.js", "x=a.txt", "x=.,color=red", "x=.,memory=lots", "a b=."],
            base_dir=tmp_path,
        )
    lines = str(info.value).splitlines()
    assert lines[0].startswith("--lambda 'nope': expected NAME_OR_ARN=PATH")
    assert lines[1] == f"--lambda x=missing.js: {tmp_path / 'missing.js'} does not exist"
    assert "is not a .js/.mjs/.cjs file, a package directory or a .zip" in lines[2]
    assert "unknown option 'color=red'" in lines[3]
    assert "memory='lots' is not a number" in lines[4]
    assert "'a b' is neither a Lambda function ARN nor a function name" in lines[5]


def test_a_distribution_config_with_the_lambda_flag(tmp_path: Path) -> None:
    source = LAMBDA / "distconfig" / "distribution-config.json"
    arn = "arn:aws:lambda:us-east-1:111122223333:function:edge-auth:4"
    with pytest.raises(InputError, match=f"give it with --lambda {arn}=PATH"):
        import_distribution(source, workdir=tmp_path, require_origins=False)
    for flag in (f"{arn}=distconfig/auth", "edge-auth=distconfig/auth"):
        imported = import_distribution(
            source, workdir=tmp_path, require_origins=False, lambdas=[flag], base_dir=LAMBDA
        )
        dist = imported.dist
        assert dist.default_behavior.lambdas == (LambdaAssociation("viewer-request", "edge-auth"),)
        assert dist.lambdas["edge-auth"].file == LAMBDA / "distconfig" / "auth"
        assert imported.where["lambdas.edge-auth"] == f"--lambda {flag}"
    unused = import_distribution(
        source,
        workdir=tmp_path,
        require_origins=False,
        lambdas=[f"{arn}=distconfig/auth", "edge-atuh=distconfig/auth"],
        base_dir=LAMBDA,
    ).dist
    assert (
        "--lambda edge-atuh=distconfig/auth: no Lambda@Edge association uses edge-atuh: not run"
        in unused.notes
    )


# -- CloudFormation, SAM, Terraform ------------------------------------------------------------


def test_cloudformation_inline_code_and_versions(tmp_path: Path) -> None:
    source = LAMBDA / "cloudformation" / "template.yaml"
    with pytest.raises(InputError) as info:
        import_distribution(source, workdir=tmp_path, require_origins=False)
    assert str(info.value) == (
        f"{source}: Resources.Auth: the code of Lambda@Edge function Auth is not a local file "
        "(s3://my-deploy-bucket/edge/auth-v3.zip): give it with --lambda Auth=PATH (a "
        ".js/.mjs/.cjs file, a package directory or a .zip)"
    )
    imported = import_distribution(
        source,
        workdir=tmp_path,
        require_origins=False,
        lambdas=["Auth=distconfig/auth"],
        base_dir=LAMBDA,
    )
    dist = imported.dist
    (api,) = dist.behaviors
    assert api.lambdas == (
        LambdaAssociation("viewer-request", "Auth"),
        LambdaAssociation("origin-response", "security-headers"),
    )
    assert dist.default_behavior.lambdas == (
        LambdaAssociation("origin-response", "security-headers"),
    )
    headers = dist.lambdas["security-headers"]
    assert (headers.handler, headers.runtime, headers.timeout_s, headers.memory_mb) == (
        "index.handler",
        "nodejs20.x",
        5.0,
        256,
    )
    assert 'value: "DENY"' in (headers.file / "index.js").read_text()
    assert imported.where["lambdas.security-headers"] == f"{source}: Resources.Headers"
    assert dist.lambdas["Auth"].handler == "index.handler"  # kept from the template


def test_a_version_arn_written_out_finds_its_function(tmp_path: Path) -> None:
    template = tmp_path / "t.yaml"
    template.write_text(
        (LAMBDA / "cloudformation" / "template.yaml")
        .read_text()
        .replace(
            "LambdaFunctionARN: !Ref HeadersVersion", 'LambdaFunctionARN: !Sub "${Headers.Arn}:7"'
        )
    )
    dist = import_distribution(
        template,
        workdir=tmp_path / "w",
        require_origins=False,
        lambdas=[f"Auth={LAMBDA / 'distconfig' / 'auth'}"],
    ).dist
    assert dist.default_behavior.lambdas == (
        LambdaAssociation("origin-response", "security-headers"),
    )


def test_sam_code_uri_globals_and_auto_publish_alias(tmp_path: Path) -> None:
    source = LAMBDA / "sam" / "template.yaml"
    dist = import_distribution(source, workdir=tmp_path, require_origins=False).dist
    assert dist.default_behavior.lambdas == (LambdaAssociation("origin-request", "Tagger", True),)
    assert dist.lambdas["Tagger"] == LambdaDecl(
        name="Tagger",
        file=LAMBDA / "sam" / "src",
        handler="index.handler",
        runtime="nodejs20.x",
        timeout_s=10.0,
        memory_mb=512,
    )
    # !Ref Tagger.Alias is the alias ARN, which CloudFront refuses.
    alias = tmp_path / "alias.yaml"
    alias.write_text(source.read_text().replace("!Ref Tagger.Version", "!Ref Tagger.Alias"))
    (tmp_path / "src").symlink_to(LAMBDA / "sam" / "src")
    with pytest.raises(InputError, match=r":function:alias-Tagger-[0-9a-f]{10}:live names alias"):
        import_distribution(alias, workdir=tmp_path, require_origins=False)


def test_terraform_archive_file_and_qualified_arn(tmp_path: Path) -> None:
    source = LAMBDA / "terraform"
    imported = import_distribution(source, workdir=tmp_path, require_origins=False)
    dist = imported.dist
    assert dist.default_behavior.lambdas == (LambdaAssociation("viewer-request", "rewrite"),)
    assert dist.lambdas["rewrite"] == LambdaDecl(
        name="rewrite",
        file=source / "edge",  # data.archive_file's source_dir: the zip is not built yet
        handler="index.handler",
        runtime="nodejs20.x",
        timeout_s=5.0,
        memory_mb=128,
    )
    assert (
        imported.where["lambdas.rewrite"] == f"{source / 'main.tf'}:26: aws_lambda_function.rewrite"
    )
    # Without publish = true, qualified_arn ends in $LATEST, which CloudFront refuses.
    unpublished = tmp_path / "tf"
    unpublished.mkdir()
    (unpublished / "edge").symlink_to(source / "edge")
    (unpublished / "main.tf").write_text(
        (source / "main.tf").read_text().replace("publish          = true", "")
    )
    with pytest.raises(InputError, match=r"function:rewrite:\$LATEST is \$LATEST"):
        import_distribution(unpublished, workdir=tmp_path / "w", require_origins=False)


# -- edgesim import → edgesim.toml → the same distribution --------------------------------------


@pytest.mark.parametrize(
    ("source", "flags"),
    [
        ("cloudformation/template.yaml", ["Auth=distconfig/auth"]),
        ("sam/template.yaml", []),
        ("terraform", []),
        (
            "distconfig/distribution-config.json",
            ["arn:aws:lambda:us-east-1:111122223333:function:edge-auth:4=distconfig/auth"],
        ),
    ],
)
def test_imports_round_trip_through_edgesim_toml(
    tmp_path: Path, source: str, flags: list[str]
) -> None:
    imported = import_distribution(
        LAMBDA / source,
        workdir=tmp_path / "work",
        origins=["app=http://127.0.0.1:3000"],
        lambdas=flags,
        base_dir=LAMBDA,
    )
    text = to_toml(imported.dist, base_dir=tmp_path, where=imported.where)
    assert "[[lambdas]]" in text
    back = parse_config(tomllib.loads(text), base_dir=tmp_path, source="edgesim.toml")
    assert back.lambdas == imported.dist.lambdas
    assert [b.lambdas for b in back.all_behaviors()] == [
        b.lambdas for b in imported.dist.all_behaviors()
    ]


_NAMES = ("sign", "auth", "tag")


@st.composite
def lambda_bundles(draw: st.DrawFn) -> ImportBundle:
    """A distribution with 0-3 behaviours, each with Lambda@Edge associations on some events,
    of functions whose settings fit every event's quotas."""
    lambdas = {
        name: LambdaSource(
            name=name,
            code=CODE,
            handler=draw(st.sampled_from([None, "index.handler"])),
            runtime=draw(st.sampled_from(["nodejs18.x", "nodejs20.x", "nodejs22.x"])),
            timeout_s=draw(st.sampled_from([None, 1, 2.5, 5])),
            memory_mb=draw(st.sampled_from([None, 128])),
        )
        for name in _NAMES
    }

    def associations() -> dict[str, Any]:
        events = draw(st.lists(st.sampled_from(EVENTS), unique=True, max_size=4))
        items = []
        for event in events:
            version = draw(st.integers(1, len(_NAMES)))
            item = association(event, f"arn:aws:lambda:us-east-1:1:function:x:{version}")
            if event.endswith("request") and draw(st.booleans()):
                item["IncludeBody"] = True
            items.append(item)
        return listing(*items)

    paths = draw(st.lists(st.sampled_from(["/a/*", "/b/*", "/c/*"]), unique=True, max_size=3))
    cfg = config(
        DefaultCacheBehavior={
            **config()["DefaultCacheBehavior"],
            "LambdaFunctionAssociations": associations(),
        },
        CacheBehaviors=listing(
            *(behavior(p, LambdaFunctionAssociations=associations()) for p in paths)
        ),
    )
    arns = {f"arn:aws:lambda:us-east-1:1:function:x:{i + 1}": n for i, n in enumerate(_NAMES)}
    return ImportBundle(distribution_config=cfg, lambdas=lambdas, lambda_arns=arns)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lambda_bundles())
def test_generated_lambda_associations_round_trip(bundle: ImportBundle) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        overlay = read_overlay(None, base_dir=base)
        dist = to_distribution(bundle, workdir=base / "work", server=overlay.server).dist
        text = to_toml(dist, base_dir=base)
        back = parse_config(tomllib.loads(text), base_dir=base, source="edgesim.toml")
        assert back.lambdas == dist.lambdas
        assert [b.lambdas for b in back.all_behaviors()] == [
            b.lambdas for b in dist.all_behaviors()
        ]
        used = {a.name for b in dist.all_behaviors() for a in b.lambdas}
        assert set(dist.lambdas) == used  # every association's function is declared, no other


def test_terraform_show_json_state(tmp_path: Path) -> None:
    # A state holds the deployed qualified_arn and the filename as written (relative to the
    # directory terraform ran in: here the JSON file's).
    doc = json.loads((ROOT / "fixtures" / "import" / "terraform" / "show.json").read_text())
    resources = doc["values"]["root_module"]["resources"]
    (site,) = [r for r in resources if r["type"] == "aws_cloudfront_distribution"]
    arn = "arn:aws:lambda:us-east-1:111122223333:function:rewrite:7"
    site["values"]["default_cache_behavior"][0]["lambda_function_association"] = [
        {"event_type": "origin-request", "lambda_arn": arn, "include_body": True}
    ]
    resources.append(
        {
            "address": "aws_lambda_function.rewrite",
            "mode": "managed",
            "type": "aws_lambda_function",
            "name": "rewrite",
            "values": {
                "function_name": "rewrite",
                "filename": "build/rewrite.zip",
                "handler": "main.handler",
                "runtime": "nodejs22.x",
                "timeout": 30,
                "memory_size": 1024,
                "publish": True,
                "qualified_arn": arn,
            },
        }
    )
    (tmp_path / "build").mkdir()
    with zipfile.ZipFile(tmp_path / "build" / "rewrite.zip", "w") as archive:
        archive.writestr("main.js", CODE)
    show = tmp_path / "show.json"
    show.write_text(json.dumps(doc))
    dist = import_distribution(show, workdir=tmp_path / "w", require_origins=False).dist
    assert dist.default_behavior.lambdas == (LambdaAssociation("origin-request", "rewrite", True),)
    assert dist.lambdas["rewrite"] == LambdaDecl(
        name="rewrite",
        file=tmp_path / "build" / "rewrite.zip",
        handler="main.handler",
        runtime="nodejs22.x",
        timeout_s=30.0,
        memory_mb=1024,
    )


_DISTRIBUTION_YAML = """
  Site:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Enabled: true
        Origins: [{Id: app, DomainName: app.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]
        DefaultCacheBehavior:
          TargetOriginId: app
          ViewerProtocolPolicy: allow-all
          CachePolicyId: 658327ea-f89d-4fab-a63d-7e88639e58f6
          LambdaFunctionAssociations: [{EventType: origin-request, LambdaFunctionARN: !Ref FnVersion}]
"""


@pytest.mark.parametrize(
    ("function", "missing"),
    [
        (
            "Type: AWS::Lambda::Function\n    Properties: {Code: {ImageUri: repo/img:1}}",
            "a container image (repo/img:1); Lambda@Edge needs a .zip",
        ),
        (
            "Type: AWS::Serverless::Function\n    Properties: {CodeUri: s3://b/k.zip, "
            "AutoPublishAlias: live}",
            "s3://b/k.zip",
        ),
        (
            "Type: AWS::Serverless::Function\n    Properties: {CodeUri: {Bucket: b, Key: c.zip}, "
            "AutoPublishAlias: live}",
            "s3://b/c.zip",
        ),
    ],
)
def test_code_outside_the_template_needs_the_lambda_flag(
    tmp_path: Path, function: str, missing: str
) -> None:
    sam = "Serverless" in function
    version = "!Ref Fn.Version" if sam else "!Ref FnVersion"
    template = tmp_path / "t.yaml"
    template.write_text(
        ("Transform: AWS::Serverless-2016-10-31\n" if sam else "")
        + f"Resources:\n  Fn:\n    {function}\n"
        + (
            ""
            if sam
            else "  FnVersion:\n    Type: AWS::Lambda::Version\n"
            "    Properties: {FunctionName: !Ref Fn}\n"
        )
        + _DISTRIBUTION_YAML.replace("!Ref FnVersion", version)
    )
    with pytest.raises(InputError) as info:
        import_distribution(template, workdir=tmp_path / "w", require_origins=False)
    assert str(info.value) == (
        f"{template}: Resources.Fn: the code of Lambda@Edge function Fn is not a local file "
        f"({missing}): give it with --lambda Fn=PATH (a .js/.mjs/.cjs file, a package "
        "directory or a .zip)"
    )


def test_terraform_code_in_s3_needs_the_lambda_flag(tmp_path: Path) -> None:
    source = LAMBDA / "terraform" / "main.tf"
    (tmp_path / "main.tf").write_text(
        source.read_text().replace(
            "filename         = data.archive_file.rewrite.output_path",
            's3_bucket = "deploys"\n  s3_key = "edge/rewrite.zip"',
        )
    )
    with pytest.raises(
        InputError, match=r"\(s3://deploys/edge/rewrite.zip\): give it with --lambda rewrite=PATH"
    ):
        import_distribution(tmp_path, workdir=tmp_path / "w", require_origins=False)
    dist = import_distribution(
        tmp_path,
        workdir=tmp_path / "w",
        require_origins=False,
        lambdas=[f"rewrite={LAMBDA / 'terraform' / 'edge'}"],
    ).dist
    assert dist.lambdas["rewrite"].file == LAMBDA / "terraform" / "edge"
    assert dist.lambdas["rewrite"].timeout_s == 5.0  # the configuration's settings are kept


def test_the_overlay_sets_lambda_and_edgesim_import_writes_it(tmp_path: Path) -> None:
    overlay = tmp_path / "edgesim.local.toml"
    overlay.write_text(
        '[lambda]\nmax_workers = 2\nidle_s = 30.0\ntimeout_error = "LambdaLimitExceeded"\n'
        '[lambda.env]\nSTAGE = "local"\n'
    )
    imported = import_distribution(
        LAMBDA / "sam" / "template.yaml",
        workdir=tmp_path / "w",
        overlay=overlay,
        origins=["app=http://127.0.0.1:3000"],
    )
    settings = imported.dist.lambda_settings
    assert (settings.max_workers, settings.idle_s, settings.timeout_error, settings.env) == (
        2,
        30.0,
        "LambdaLimitExceeded",
        (("STAGE", "local"),),
    )
    text = to_toml(imported.dist, base_dir=tmp_path, where=imported.where)
    back = parse_config(tomllib.loads(text), base_dir=tmp_path, source="edgesim.toml")
    assert back.lambda_settings == settings


def test_a_package_over_the_viewer_quota_is_refused(tmp_path: Path) -> None:
    # Quotas on Lambda@Edge: 1 MB compressed for viewer events, 50 MB for origin events.
    package = tmp_path / "big"
    package.mkdir()
    (package / "index.js").write_text(CODE)
    (package / "blob.bin").write_bytes(random.Random(7).randbytes(1_100_000))  # incompressible
    bundle: dict[str, Any] = {
        "lambdas": {"sign": LambdaSource(name="sign", file=package)},
        "lambda_arns": {f"{ARN}:3": "sign"},
    }
    cfg = default_with(association("origin-request"), association("viewer-request"))
    text = problems_of(tmp_path, cfg, **bundle)
    assert (
        "DefaultCacheBehavior.LambdaFunctionAssociations.Items.1.LambdaFunctionARN: viewer-request "
        f"function sign: {package}: the package is" in text
    )
    assert "the quota for viewer events is 1,048,576" in text
    dist = convert(tmp_path, default_with(association("origin-request")), **bundle).dist
    assert dist.lambdas["sign"].file == package


def test_terraform_data_source_function_needs_the_lambda_flag(tmp_path: Path) -> None:
    # A function looked up with data "aws_lambda_function" (its qualifier is the version) has
    # no code in the configuration.
    (tmp_path / "main.tf").write_text(
        (LAMBDA / "terraform" / "main.tf")
        .read_text()
        .replace(
            "aws_lambda_function.rewrite.qualified_arn",
            "data.aws_lambda_function.existing.qualified_arn",
        )
        + 'data "aws_lambda_function" "existing" {\n'
        '  function_name = "edge-auth"\n  qualifier = "12"\n}\n'
    )
    (tmp_path / "edge").symlink_to(LAMBDA / "terraform" / "edge")
    arn = "arn:aws:lambda:us-east-1:123456789012:function:edge-auth:12"
    with pytest.raises(InputError, match=f"give it with --lambda {arn}=PATH"):
        import_distribution(tmp_path, workdir=tmp_path / "w", require_origins=False)
    dist = import_distribution(
        tmp_path,
        workdir=tmp_path / "w",
        require_origins=False,
        lambdas=[f"{arn}={LAMBDA / 'distconfig' / 'auth'}"],
    ).dist
    assert dist.default_behavior.lambdas == (LambdaAssociation("viewer-request", "edge-auth"),)
