"""Stand-ins for the values only a deployed resource of a type edgesim does not model would have
(an API's id or endpoint, a function URL, a load balancer's DNS name, …), including the resources
the SAM transform would add (``ServerlessRestApi``, ``<Function>Url``, …); a note says so when the
value matters.

``placeholder``, ``sam_implicit_type`` and ``sam_implicit`` are ``Stack`` methods (bound in
``stack``)."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from edgesim.importers.bundle import ACCOUNT
from edgesim.importers.cloudformation import lambdas
from edgesim.importers.cloudformation.parameters import REGION, URL_SUFFIX

if TYPE_CHECKING:
    from edgesim.importers.cloudformation.stack import Stack


# Where a placeholder needs no note of its own: the converter notes these features.
_NOTED_ELSEWHERE = (
    ".LambdaFunctionAssociations",
    ".WebACLId",
    ".ViewerCertificate",
    ".Logging",
    ".RealtimeLogConfigArn",
    ".TrustedKeyGroups",
)


def placeholder(self: Stack, logical_id: str, attribute: str | None, at: str) -> Any:
    """A stand-in for a value only a deployed resource of an unmodelled type would have.

    A note says so, unless the value goes where the converter notes the feature anyway
    (Lambda@Edge, WAF, certificates, logging)."""
    kind = self.resource_type(logical_id) or "SAM implicit resource"
    known = _placeholders(self, logical_id, kind, attribute)
    if known is not None:
        return known
    token = logical_id.lower() if attribute is None else f"{logical_id}-{attribute}".lower()
    value = re.sub(r"[^a-z0-9-]", "-", token) + "-" + self.physical_id(logical_id, 8)
    expression = f"Ref {logical_id}" if attribute is None else f"GetAtt {logical_id}.{attribute}"
    note = (
        f"{self.label}: Resources.{logical_id} ({kind}) is not emulated: "
        f"{expression} stands in as {value!r}"
    )
    if not any(part in at for part in _NOTED_ELSEWHERE):
        self.notes.append(note)  # once per use: each bundle keeps the notes of what it uses
    return value


def sam_implicit_type(self: Stack, name: str) -> str | None:
    """The type of a resource the SAM transform would add, that the template may refer to."""
    if not self.is_sam:
        return None
    if name == "ServerlessRestApi":
        return "AWS::ApiGateway::RestApi"
    if name == "ServerlessHttpApi":
        return "AWS::ApiGatewayV2::Api"
    version = lambdas.sam_version_type(self, name)
    if version is not None:
        return version
    for suffix, kind in (("Url", "AWS::Lambda::Url"), ("Role", "AWS::IAM::Role")):
        base = name.removesuffix(suffix)
        if base != name and self.resource_type(base) == "AWS::Serverless::Function":
            return kind
    return None


def sam_implicit(self: Stack, name: str, attribute: str | None, node: Any, at: str) -> Any:
    kind = self.sam_implicit_type(name) or ""
    known = _placeholders(self, name, kind, attribute)
    return known if known is not None else self.placeholder(name, attribute, at)


def _placeholders(stack: Stack, logical_id: str, kind: str, attribute: str | None) -> Any:
    """Deployed values of common origin resources, in the shape AWS gives them."""
    token = stack.physical_id(logical_id, 10)
    if kind in ("AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api", "AWS::Serverless::Api"):
        if attribute is None or attribute in ("RestApiId", "ApiId"):
            return token
        if attribute == "ApiEndpoint":
            return f"https://{token}.execute-api.{REGION}.{URL_SUFFIX}"
        if attribute == "RootResourceId":
            return stack.physical_id(logical_id + "/root", 10)
    if kind == "AWS::Serverless::HttpApi" and attribute in (None, "ApiEndpoint"):
        return token if attribute is None else f"https://{token}.execute-api.{REGION}.{URL_SUFFIX}"
    if kind == "AWS::Lambda::Url":
        if attribute == "FunctionUrl":
            return f"https://{stack.physical_id(logical_id, 32)}.lambda-url.{REGION}.on.aws/"
        if attribute == "FunctionArn":
            return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical_id}"
    if kind in lambdas.FUNCTION_TYPES:
        if attribute is None:
            return lambdas.function_name(stack, logical_id)
        if attribute == "Arn":
            return lambdas.function_arn(stack, logical_id)
    if kind == "AWS::Lambda::Version":
        if attribute is None:
            return lambdas.version_arn(stack, logical_id)
        if attribute == "Version":
            return "1"
    if kind == "AWS::Lambda::Alias" and attribute is None and "." in logical_id:
        return lambdas.version_arn(stack, logical_id)  # SAM's Fn.Alias: the alias ARN
    if kind == lambdas.CROSS_REGION_READER and attribute is not None:
        return lambdas.cross_region_value(stack, logical_id, attribute)
    if kind == "AWS::ElasticLoadBalancingV2::LoadBalancer" and attribute == "DNSName":
        return f"{logical_id.lower()[:20]}-{token}.{REGION}.elb.{URL_SUFFIX}"
    if kind == "AWS::EC2::Instance" and attribute in ("PublicDnsName", "PrivateDnsName"):
        octets = "-".join(str(int(token[i : i + 2], 16)) for i in (0, 2, 4))
        if attribute == "PublicDnsName":
            return f"ec2-203-{octets}.compute-1.{URL_SUFFIX}"
        return f"ip-10-{octets}.ec2.internal"
    if kind == "AWS::CertificateManager::Certificate" and attribute is None:
        return f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/{uuid.uuid5(uuid.NAMESPACE_URL, token)}"
    return None
