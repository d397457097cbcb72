"""Private content in imports: ``AWS::CloudFront::PublicKey`` / ``KeyGroup`` and Terraform's
``aws_cloudfront_public_key`` / ``aws_cloudfront_key_group`` become public keys and key groups
named by their resources, behaviours keep their ``TrustedKeyGroups``, and legacy
``TrustedSigners`` get a "not emulated" note."""

from __future__ import annotations

import json
import textwrap
import tomllib
from pathlib import Path

import pytest

from edgesim.distribution.config import parse_config
from edgesim.errors import InputError
from edgesim.importers.load import import_distribution
from edgesim.importers.totoml import to_toml
from tests import signing

PEM = signing.public_pem("rsa")


def cfn_template(trusted: str = "[!Ref Signers]", key: str = "!Ref SignerKey") -> str:
    pem = textwrap.indent(PEM, " " * 10)
    return f"""\
Resources:
  SignerKey:
    Type: AWS::CloudFront::PublicKey
    Properties:
      PublicKeyConfig:
        CallerReference: signer-1
        Name: signer
        EncodedKey: |
{pem}
  Signers:
    Type: AWS::CloudFront::KeyGroup
    Properties:
      KeyGroupConfig:
        Name: signers
        Items: [{key}]
  Site:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Enabled: true
        Origins:
          - Id: app
            DomainName: app.example.com
            CustomOriginConfig: {{OriginProtocolPolicy: http-only}}
        DefaultCacheBehavior:
          TargetOriginId: app
          ViewerProtocolPolicy: allow-all
          CachePolicyId: 658327ea-f89d-4fab-a63d-7e88639e58f6
        CacheBehaviors:
          - PathPattern: /private/*
            TargetOriginId: app
            ViewerProtocolPolicy: allow-all
            CachePolicyId: 658327ea-f89d-4fab-a63d-7e88639e58f6
            TrustedKeyGroups: {trusted}
          - PathPattern: /legacy/*
            TargetOriginId: app
            ViewerProtocolPolicy: allow-all
            CachePolicyId: 658327ea-f89d-4fab-a63d-7e88639e58f6
            TrustedSigners: [self]
"""


def load(tmp_path: Path, name: str, text: str, **files: str) -> object:
    source = tmp_path / name
    source.write_text(text)
    for file, content in files.items():
        (tmp_path / file).write_text(content)
    return import_distribution(
        source if name.endswith((".yaml", ".json")) else tmp_path,
        workdir=tmp_path / "work",
        origins=["app=http://127.0.0.1:3000"],
        base_dir=tmp_path,
    ).dist


def test_cloudformation_public_keys_and_key_groups(tmp_path: Path) -> None:
    dist = load(tmp_path, "template.yaml", cfn_template())
    assert dist.public_keys["SignerKey"].pem.decode().strip() == PEM.strip()  # type: ignore[attr-defined]
    assert dist.key_groups["Signers"].keys == ("SignerKey",)  # type: ignore[attr-defined]
    private, legacy = dist.behaviors  # type: ignore[attr-defined]
    assert private.trusted_key_groups == ("Signers",)
    assert legacy.trusted_key_groups == ()
    assert dist.default_behavior.trusted_key_groups == ()  # type: ignore[attr-defined]
    notes = "\n".join(dist.notes)  # type: ignore[attr-defined]
    assert "legacy trusted signers (TrustedSigners" in notes
    assert "not emulated" in notes
    assert "behaviour /legacy/*" in notes


def test_a_key_group_that_is_not_in_the_import_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"key group 'abc-123' is not part of the import"):
        load(tmp_path, "template.yaml", cfn_template(trusted="[abc-123]"))
    with pytest.raises(InputError, match=r"public key 'K2JCJMDEHXQW5F' is not part of the import"):
        load(tmp_path, "template.yaml", cfn_template(key="K2JCJMDEHXQW5F"))


def test_a_bad_encoded_key_is_an_error_naming_the_resource(tmp_path: Path) -> None:
    text = cfn_template().replace(
        "-----BEGIN PUBLIC KEY-----", "-----BEGIN PUBLIC KEY-----\n          AAAA"
    )
    with pytest.raises(InputError) as info:
        load(tmp_path, "template.yaml", text)
    assert "Resources.SignerKey.Properties.PublicKeyConfig.EncodedKey" in str(info.value)


TF = """
resource "aws_cloudfront_public_key" "signer" {
  name        = "signer-key"
  encoded_key = file("public_key.pem")
}

resource "aws_cloudfront_key_group" "signers" {
  name  = "signers"
  items = [aws_cloudfront_public_key.signer.id]
}

resource "aws_cloudfront_distribution" "site" {
  enabled = true
  origin {
    origin_id   = "app"
    domain_name = "app.example.com"
    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = "http-only"
      origin_ssl_protocols   = ["TLSv1.2"]
    }
  }
  default_cache_behavior {
    target_origin_id       = "app"
    viewer_protocol_policy = "allow-all"
    allowed_methods        = ["GET", "HEAD"]
    cached_methods         = ["GET", "HEAD"]
    cache_policy_id        = "658327ea-f89d-4fab-a63d-7e88639e58f6"
    trusted_key_groups     = [aws_cloudfront_key_group.signers.id]
  }
  ordered_cache_behavior {
    path_pattern           = "/legacy/*"
    target_origin_id       = "app"
    viewer_protocol_policy = "allow-all"
    allowed_methods        = ["GET", "HEAD"]
    cached_methods         = ["GET", "HEAD"]
    cache_policy_id        = "658327ea-f89d-4fab-a63d-7e88639e58f6"
    trusted_signers        = ["self"]
  }
  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }
  viewer_certificate {
    cloudfront_default_certificate = true
  }
}
"""


def test_terraform_public_keys_and_key_groups(tmp_path: Path) -> None:
    dist = load(tmp_path, "main.tf", TF, **{"public_key.pem": PEM})
    assert dist.public_keys["signer"].pem.decode() == PEM  # type: ignore[attr-defined]
    assert dist.key_groups["signers"].keys == ("signer",)  # type: ignore[attr-defined]
    assert dist.default_behavior.trusted_key_groups == ("signers",)  # type: ignore[attr-defined]
    assert dist.behaviors[0].trusted_key_groups == ()  # type: ignore[attr-defined]
    assert any("legacy trusted signers" in note for note in dist.notes)  # type: ignore[attr-defined]


def test_distribution_config_json_with_key_groups_needs_their_keys(tmp_path: Path) -> None:
    config = {
        "CallerReference": "x",
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "app", "DomainName": "app.example.com",
                    "CustomOriginConfig": {"OriginProtocolPolicy": "http-only"}}]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "app", "ViewerProtocolPolicy": "allow-all",
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            "TrustedKeyGroups": {"Enabled": True, "Quantity": 1, "Items": ["kg-1"]},
        },
    }  # fmt: skip
    with pytest.raises(InputError, match="key group 'kg-1' is not part of the import"):
        load(tmp_path, "dist.json", json.dumps({"DistributionConfig": config}))
    config["DefaultCacheBehavior"]["TrustedKeyGroups"]["Enabled"] = False  # type: ignore[index]
    dist = load(tmp_path, "dist.json", json.dumps({"DistributionConfig": config}))
    assert dist.default_behavior.trusted_key_groups == ()  # type: ignore[attr-defined]


def test_edgesim_import_writes_keys_groups_and_trusted_key_groups(tmp_path: Path) -> None:
    source = tmp_path / "template.yaml"
    source.write_text(cfn_template())
    imported = import_distribution(
        source, workdir=tmp_path / "work", origins=["app=http://127.0.0.1:3000"], base_dir=tmp_path
    )
    text = to_toml(imported.dist, base_dir=tmp_path, where=imported.where)
    assert 'template.yaml: Resources.SignerKey.Properties.PublicKeyConfig\nid = "SignerKey"' in text
    again = parse_config(tomllib.loads(text), base_dir=tmp_path, source="edgesim.toml")
    assert again.public_keys == imported.dist.public_keys
    assert again.key_groups == imported.dist.key_groups
    assert again.behaviors[0].trusted_key_groups == ("Signers",)
