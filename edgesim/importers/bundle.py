"""What every importer front-end produces: the distribution in the CloudFront API's own shape,
with the resources it references, every reference already resolved.

Conventions, so that one converter (``apishape``) serves every front-end:

- ``distribution_config`` is a ``DistributionConfig`` as the API documents it (CloudFormation's
  ``DistributionConfig`` property has the same member names; Terraform's blocks are mapped to
  them by its front-end). Lists may be plain lists instead of ``{"Quantity", "Items"}``.
- A function association's ``FunctionARN`` is ``arn:aws:cloudfront::<account>:function/<name>``
  where ``<name>`` is a key of ``functions``.
- ``CachePolicyId`` / ``OriginRequestPolicyId`` / ``ResponseHeadersPolicyId`` is either a
  managed policy's id (``edgesim.distribution.managed``) or a key of the matching dict below.
- A behaviour's ``TrustedKeyGroups`` items are keys of ``key_groups``, whose ``Items`` are keys
  of ``public_keys`` (the resources' names: CloudFront assigns the ids at deploy time).
- An S3 origin's ``DomainName`` is the bucket's REST endpoint (``<bucket>.s3.<region>
  .amazonaws.com`` or ``<bucket>.s3.amazonaws.com``).
- A Lambda@Edge association's ``LambdaFunctionARN`` is the versioned ARN as written; the
  front-end maps each ARN it resolved to a key of ``lambdas`` in ``lambda_arns`` (an ARN it
  could not resolve stays unmapped: the converter matches it by function name against
  ``lambdas``, filled by ``--lambda``, or reports how to give the code).
- ``where`` maps a dotted path in ``distribution_config`` (``Origins.Items.0``,
  ``DefaultCacheBehavior``, ``CacheBehaviors.Items.2``) or a resource key (``functions.router``)
  to where it was written (``template.yaml: Resources.Site.Properties…``), for comments in the
  written edgesim.toml and for error messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"  # the account id synthetic ARNs carry


def function_arn(name: str) -> str:
    return f"arn:aws:cloudfront::{ACCOUNT}:function/{name}"


@dataclass
class FunctionSource:
    name: str
    runtime: str  # cloudfront-js-1.0 | cloudfront-js-2.0
    code: str | None = None  # inline code (FunctionCode) …
    file: Path | None = None  # … or a file (an asset, a --function flag, file())
    kvs: list[str] = field(default_factory=list)  # names of associated stores (keys of kvs)
    auto_publish: bool = True
    where: str = ""


@dataclass
class KvsSource:
    name: str
    data: Path | None = None  # a KVS import-format JSON file (ImportSource asset, --kvs)
    items: dict[str, str] | None = None  # or keys given one by one (Terraform key resources)
    where: str = ""


@dataclass
class LambdaSource:
    """A Lambda@Edge function's code and settings, as the source declares them. ``name`` is the
    ``[[lambdas]]`` name; the code is ``code`` (inline, e.g. CloudFormation's ``Code.ZipFile``,
    written to ``<workdir>/lambdas/<name>/index.js``) or ``file`` (a ``.js``/``.mjs``/``.cjs``
    file, a package directory or a ``.zip``). None settings take Lambda's defaults."""

    name: str
    runtime: str | None = None  # nodejs20.x …; a python runtime is noted, not run
    code: str | None = None
    file: Path | None = None
    handler: str | None = None
    timeout_s: float | None = None
    memory_mb: int | None = None
    where: str = ""
    # Why the code could not be found (an S3 object, an image), for the converter's error.
    missing: str | None = None


@dataclass
class ImportBundle:
    distribution_config: dict[str, Any]
    # Which distribution of the source this is (a logical id, a resource address), for
    # --distribution when a source holds several.
    name: str = ""
    functions: dict[str, FunctionSource] = field(default_factory=dict)
    kvs: dict[str, KvsSource] = field(default_factory=dict)
    cache_policies: dict[str, dict[str, Any]] = field(
        default_factory=dict
    )  # id → CachePolicyConfig
    origin_request_policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    response_headers_policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Signed URLs and cookies: id → PublicKeyConfig (EncodedKey, Name, …) / KeyGroupConfig
    # (Name, Items = public key ids).
    public_keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    key_groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Lambda@Edge: functions by name, and the versioned ARNs a front-end resolved → name.
    lambdas: dict[str, LambdaSource] = field(default_factory=dict)
    lambda_arns: dict[str, str] = field(default_factory=dict)
    sources: list[Path] = field(default_factory=list)  # files hot reload watches
    where: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # seen, not emulated (front-end specific)
    origin_hints: dict[str, str] = field(default_factory=dict)  # origin id → construct path etc.
