"""``Ref`` and ``Fn::GetAtt`` of the resource types edgesim models (CloudFront functions, key value
stores, distributions, policies, OAC and OAI, S3 buckets, nested stacks): the values AWS would
give once deployed, made up deterministically from the stack name and logical id in their shape.
Any other type gets a placeholder (``placeholders``).

The functions taking ``self`` are ``Stack`` methods (bound in ``stack``)."""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import TYPE_CHECKING, Any

from edgesim.importers.bundle import ACCOUNT, function_arn
from edgesim.importers.cloudformation.parameters import PARTITION, REGION, URL_SUFFIX

if TYPE_CHECKING:
    from edgesim.importers.cloudformation.stack import Stack


# Attributes of the resource types edgesim models: an unknown one is an error, not a placeholder.
_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "AWS::CloudFront::Function": ("FunctionARN", "FunctionMetadata.FunctionARN", "Stage"),
    "AWS::CloudFront::KeyValueStore": ("Arn", "Id", "Status"),
    "AWS::CloudFront::CachePolicy": ("Id", "LastModifiedTime"),
    "AWS::CloudFront::OriginRequestPolicy": ("Id", "LastModifiedTime"),
    "AWS::CloudFront::ResponseHeadersPolicy": ("Id", "LastModifiedTime"),
    "AWS::CloudFront::OriginAccessControl": ("Id",),
    "AWS::CloudFront::CloudFrontOriginAccessIdentity": ("Id", "S3CanonicalUserId"),
    "AWS::CloudFront::Distribution": ("DomainName", "Id"),
    "AWS::CloudFront::PublicKey": ("Id", "CreatedTime"),
    "AWS::CloudFront::KeyGroup": ("Id", "LastModifiedTime"),
    "AWS::S3::Bucket": (
        "Arn",
        "DomainName",
        "DualStackDomainName",
        "RegionalDomainName",
        "WebsiteURL",
    ),
}


NESTED_TYPES = ("AWS::CloudFormation::Stack", "AWS::Serverless::Application")


def resource_id(self: Stack, name: str, node: Any, at: str) -> str | None:
    """The logical id, checked to exist and to be created; ``None`` for a SAM implicit one."""
    if name not in self.resources:
        if self.sam_implicit_type(name):
            return None
        raise self.fail(at, node, f"no parameter or resource named {name}")
    resource = self.resources[name]
    if not self.exists(name):
        condition = resource.get("Condition")
        raise self.fail(
            at, node, f"resource {name} is not created (condition {condition} is false)"
        )
    return name


def physical_id(self: Stack, logical_id: str, length: int = 12) -> str:
    digest = hashlib.sha256(f"{self.name}/{logical_id}".encode()).hexdigest()
    return digest[:length]


def bucket_name(self: Stack, logical_id: str) -> str:
    name = self.string_property(logical_id, "BucketName")
    if name:
        return name
    generated = f"{self.name}-{logical_id}".lower()
    generated = re.sub(r"[^a-z0-9.-]", "-", generated)[:50].strip("-.")
    return f"{generated}-{self.physical_id(logical_id)}"


def named(self: Stack, logical_id: str) -> str:
    """A resource's ``Name`` property (functions and stores must have one)."""
    name = self.string_property(logical_id, "Name")
    if not name:
        raise self.fail(f"Resources.{logical_id}.Properties.Name", None, "is required")
    return name


def kvs_arn(self: Stack, logical_id: str) -> str:
    store = self.named(logical_id)
    arn = f"arn:aws:cloudfront::{ACCOUNT}:key-value-store/{_kvs_id(store)}"
    self.kvs_arns[arn] = logical_id
    return arn


# Not ``function_arn``, which would hide bundle.function_arn (called here).
def cloudfront_function_arn(self: Stack, logical_id: str) -> str:
    arn = function_arn(self.named(logical_id))
    self.function_arns[arn] = logical_id
    return arn


def resource_ref(self: Stack, logical_id: str, node: Any, at: str) -> Any:
    kind = self.resource_type(logical_id)
    if kind == "AWS::S3::Bucket":
        return self.bucket_name(logical_id)
    if kind == "AWS::CloudFront::Function":
        return self.function_arn(logical_id)
    if kind == "AWS::CloudFront::KeyValueStore":
        self.kvs_arn(logical_id)
        return self.named(logical_id)
    if kind == "AWS::CloudFront::Distribution":
        return self.distribution_id(logical_id)
    if kind in NESTED_TYPES:
        return self.child(logical_id).pseudo("AWS::StackId", node, at)
    if kind in _ATTRIBUTES:  # policies, OAC, OAI, public keys, key groups: the id
        return logical_id
    return self.placeholder(logical_id, None, at)


def distribution_id(self: Stack, logical_id: str) -> str:
    return "E" + self.physical_id(logical_id, 13).upper()


def get_att(self: Stack, logical_id: str, attribute: str, node: Any, at: str) -> Any:
    kind = self.resource_type(logical_id)
    if kind in NESTED_TYPES and attribute.startswith("Outputs."):
        return self.child(logical_id).output(attribute.removeprefix("Outputs."), node, at)
    known = _ATTRIBUTES.get(kind)
    if known is None:
        return self.placeholder(logical_id, attribute, at)
    if attribute not in known:
        raise self.fail(at, node, f"unknown attribute (an {kind} has {', '.join(known)})")
    if kind == "AWS::S3::Bucket":
        bucket = self.bucket_name(logical_id)
        return {
            "Arn": f"arn:{PARTITION}:s3:::{bucket}",
            "DomainName": f"{bucket}.s3.{URL_SUFFIX}",
            "DualStackDomainName": f"{bucket}.s3.dualstack.{REGION}.{URL_SUFFIX}",
            "RegionalDomainName": f"{bucket}.s3.{REGION}.{URL_SUFFIX}",
            "WebsiteURL": f"http://{bucket}.s3-website-{REGION}.{URL_SUFFIX}",
        }[attribute]
    if kind == "AWS::CloudFront::Function":
        if attribute == "Stage":
            return (
                "LIVE" if self.prop(logical_id, "AutoPublish") in (True, "true") else "DEVELOPMENT"
            )
        return self.function_arn(logical_id)
    if kind == "AWS::CloudFront::KeyValueStore":
        arn = self.kvs_arn(logical_id)
        return {"Arn": arn, "Id": arn.rsplit("/", 1)[1], "Status": "READY"}[attribute]
    if kind == "AWS::CloudFront::Distribution":
        distribution_id = self.distribution_id(logical_id)
        if attribute == "Id":
            return distribution_id
        return f"d{self.physical_id(logical_id, 13)}.cloudfront.net"
    if attribute in ("LastModifiedTime", "CreatedTime"):
        return "2024-01-01T00:00:00Z"
    if attribute == "S3CanonicalUserId":
        return hashlib.sha256(logical_id.encode()).hexdigest() * 2
    return logical_id  # Id of a policy, an OAC, an OAI, a public key or a key group


def _kvs_id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"edgesim:kvs:{name}"))
