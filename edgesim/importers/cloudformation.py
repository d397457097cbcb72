"""CloudFormation and SAM templates (YAML or JSON) → one ``ImportBundle`` per distribution.

Only what the distributions need is evaluated: each ``AWS::CloudFront::Distribution``'s
``DistributionConfig``, and through its references the functions, stores, policies and buckets it
uses. A value another resource would only have once deployed (a bucket's generated name, a
policy's id, a store's ARN) is made up deterministically from the stack name and logical id, in
the shape AWS gives it, so that the same template always imports the same way:

- ``AWS::CloudFront::Function``: ``FunctionARN`` is ``bundle.function_arn(Name)`` and
  ``functions[Name]`` holds its code.
- ``AWS::CloudFront::KeyValueStore``: ``Arn`` is ``arn:aws:cloudfront::<account>:key-value-store/
  <uuid>``; ``kvs[Name]`` holds the file its ``ImportSource`` points at (see ``AssetResolver``).
- ``AWS::CloudFront::CachePolicy`` / ``OriginRequestPolicy`` / ``ResponseHeadersPolicy``,
  ``OriginAccessControl`` / ``CloudFrontOriginAccessIdentity``: the ``Id`` is the logical id, and
  ``cache_policies[<logical id>]`` (and siblings) hold the policy config.
- ``AWS::S3::Bucket``: its ``BucketName``, else ``<stack>-<logical id>-<hash>`` lower-cased as
  CloudFormation would generate it; ``RegionalDomainName`` is ``<name>.s3.us-east-1.amazonaws.com``.
- Any other resource type gives a placeholder for ``Ref`` / ``Fn::GetAtt`` (an origin's domain
  behind an API, a load balancer or a function URL is mapped to a local origin anyway), and a note.

Pseudo parameters: ``AWS::Region`` is ``us-east-1``, ``AWS::AccountId`` ``123456789012``,
``AWS::StackName`` the stack name (the template file's stem unless given), ``AWS::Partition``
``aws``, ``AWS::URLSuffix`` ``amazonaws.com``.

Every error is an ``InputError`` that names the file, the property path and the expression:
``template.yaml: Resources.Site.Properties.DistributionConfig.Origins[0].DomainName: !GetAtt
Bucket.Nope: unknown attribute …``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from edgesim.errors import InputError
from edgesim.importers._cfn_yaml import load_yaml
from edgesim.importers.bundle import ACCOUNT, FunctionSource, ImportBundle, KvsSource, function_arn

REGION = "us-east-1"
PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"

AssetResolver = Callable[[str, str], Path | None]
"""``(bucket, key)`` of an S3 object the template names (a KeyValueStore's ``ImportSource``) →
the local file that holds it, or ``None`` when it is not a local asset. A returned path that does
not exist is reported as a missing asset. Without a resolver, a plain template's object is looked
for as the key relative to the template's directory."""

_NO_VALUE: Any = object()  # AWS::NoValue: the property (or list item) is left out

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
    "AWS::S3::Bucket": (
        "Arn",
        "DomainName",
        "DualStackDomainName",
        "RegionalDomainName",
        "WebsiteURL",
    ),
}

_POLICY_TYPES = {
    "AWS::CloudFront::CachePolicy": ("CachePolicyConfig", "cache_policies"),
    "AWS::CloudFront::OriginRequestPolicy": (
        "OriginRequestPolicyConfig",
        "origin_request_policies",
    ),
    "AWS::CloudFront::ResponseHeadersPolicy": (
        "ResponseHeadersPolicyConfig",
        "response_headers_policies",
    ),
}
_POLICY_MEMBERS = {
    "CachePolicyId": "AWS::CloudFront::CachePolicy",
    "OriginRequestPolicyId": "AWS::CloudFront::OriginRequestPolicy",
    "ResponseHeadersPolicyId": "AWS::CloudFront::ResponseHeadersPolicy",
}

# Where a placeholder needs no note of its own: the converter notes these features.
_NOTED_ELSEWHERE = (
    ".LambdaFunctionAssociations",
    ".WebACLId",
    ".ViewerCertificate",
    ".Logging",
    ".RealtimeLogConfigArn",
    ".TrustedKeyGroups",
)

_SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
_NESTED_TYPES = ("AWS::CloudFormation::Stack", "AWS::Serverless::Application")
_KNOWN_TRANSFORMS = (_SAM_TRANSFORM, "AWS::LanguageExtensions")


@dataclass
class Stack:
    """One template being read: its file, name, parameter values, and what resolving it found."""

    path: Path
    label: str  # how messages name the file
    template: dict[str, Any]
    name: str
    short_forms: bool  # render expressions in messages as YAML short forms
    parameters: dict[str, Any] = field(default_factory=dict)
    missing_parameters: dict[str, str] = field(default_factory=dict)  # name → why it has no value
    assets: AssetResolver | None = None
    construct_paths: dict[str, str] = field(default_factory=dict)  # logical id → CDK path
    function_arns: dict[str, str] = field(default_factory=dict)  # ARN → logical id
    kvs_arns: dict[str, str] = field(default_factory=dict)  # ARN → logical id
    notes: list[str] = field(default_factory=list)
    children: dict[str, Stack] = field(default_factory=dict)  # nested stacks, by logical id
    _conditions: dict[str, bool] = field(default_factory=dict)
    _in_progress: list[str] = field(default_factory=list)
    _property_cache: dict[tuple[str, str], Any] = field(default_factory=dict)

    # -- the template's sections ---------------------------------------------------------------

    @property
    def resources(self) -> dict[str, Any]:
        resources = self.template.get("Resources")
        return resources if isinstance(resources, dict) else {}

    def resource_type(self, logical_id: str) -> str:
        resource = self.resources.get(logical_id)
        kind = resource.get("Type") if isinstance(resource, dict) else None
        return kind if isinstance(kind, str) else ""

    def exists(self, logical_id: str) -> bool:
        resource = self.resources[logical_id]
        condition = resource.get("Condition") if isinstance(resource, dict) else None
        if condition is None:
            return True
        return self.condition(str(condition), f"Resources.{logical_id}.Condition")

    def where(self, at: str) -> str:
        """``file: path`` (the form of ``ImportBundle.where`` values)."""
        return f"{self.label}: {at}"

    # -- errors ----------------------------------------------------------------------------------

    def fail(self, at: str, expression: Any, problem: str) -> InputError:
        if expression is None:
            return InputError(f"{self.label}: {at}: {problem}")
        return InputError(f"{self.label}: {at}: {self.render(expression)}: {problem}")

    def render(self, expression: Any) -> str:
        text = _short(expression) if self.short_forms else _json(expression)
        return text if len(text) <= 120 else text[:119] + "…"

    # -- values ----------------------------------------------------------------------------------

    def value(self, node: Any, at: str, *, argument: bool = False) -> Any:
        """``node`` with every intrinsic function resolved (``_NO_VALUE`` for ``AWS::NoValue``).

        ``at`` is the property path of ``node``; inside an intrinsic function's arguments
        (``argument``) it stays the path of the property that holds the function."""
        if isinstance(node, dict):
            if len(node) == 1:
                ((key, inner),) = node.items()
                if key == "Ref" or (isinstance(key, str) and key.startswith("Fn::")):
                    return self.intrinsic(key, inner, node, at)
            resolved: dict[str, Any] = {}
            for key, item in node.items():
                got = self.value(item, at if argument else f"{at}.{key}", argument=argument)
                if got is not _NO_VALUE:
                    resolved[key] = got
            return resolved
        if isinstance(node, list):
            items = []
            for index, item in enumerate(node):
                got = self.value(item, at if argument else f"{at}[{index}]", argument=argument)
                if got is not _NO_VALUE:
                    items.append(got)
            return items
        return node

    def arg(self, node: Any, at: str) -> Any:
        """An intrinsic function's argument, resolved."""
        return self.value(node, at, argument=True)

    def prop(self, logical_id: str, name: str) -> Any:
        """One property of a resource, resolved (``None`` when absent), memoised."""
        key = (logical_id, name)
        if key in self._property_cache:
            return self._property_cache[key]
        marker = f"{logical_id}.{name}"
        at = f"Resources.{logical_id}.Properties.{name}"
        if marker in self._in_progress:
            cycle = " → ".join([*self._in_progress[self._in_progress.index(marker) :], marker])
            raise self.fail(at, None, f"circular reference: {cycle}")
        properties = self.resources[logical_id].get("Properties") or {}
        if not isinstance(properties, dict):
            raise self.fail(f"Resources.{logical_id}.Properties", None, "must be a mapping")
        self._in_progress.append(marker)
        try:
            got = self.value(properties[name], at) if name in properties else None
        finally:
            self._in_progress.pop()
        got = None if got is _NO_VALUE else got
        self._property_cache[key] = got
        return got

    def string_property(self, logical_id: str, name: str) -> str | None:
        got = self.prop(logical_id, name)
        if got is None or isinstance(got, str):
            return got
        if isinstance(got, bool | int | float):
            return _text(got)
        raise self.fail(f"Resources.{logical_id}.Properties.{name}", None, "must be a string")

    # -- intrinsic functions ---------------------------------------------------------------------

    def intrinsic(self, name: str, argument: Any, node: Any, at: str) -> Any:
        handler = _INTRINSICS.get(name)
        if handler is None:
            if name in _UNRESOLVABLE:
                raise self.fail(at, node, f"cannot resolve: {_UNRESOLVABLE[name]}")
            raise self.fail(at, node, f"unknown intrinsic function {name}")
        return handler(self, argument, node, at)

    def ref(self, name: Any, node: Any, at: str) -> Any:
        if not isinstance(name, str):
            raise self.fail(at, node, "Ref takes the name of a parameter or resource")
        if name.startswith("AWS::"):
            return self.pseudo(name, node, at)
        if name in self.parameters:
            return self.parameters[name]
        if name in self.missing_parameters:
            raise self.fail(at, node, self.missing_parameters[name])
        logical_id = self.resource_id(name, node, at)
        if logical_id is None:
            return self.sam_implicit(name, None, node, at)
        return self.resource_ref(logical_id, node, at)

    def pseudo(self, name: str, node: Any, at: str) -> Any:
        values: dict[str, Any] = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::StackName": self.name,
            "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{self.name}/"
            + str(uuid.uuid5(uuid.NAMESPACE_URL, f"edgesim:{self.name}")),
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": URL_SUFFIX,
            "AWS::NotificationARNs": [],
            "AWS::NoValue": _NO_VALUE,
        }
        if name not in values:
            raise self.fail(at, node, f"unknown pseudo parameter {name}")
        return values[name]

    def resource_id(self, name: str, node: Any, at: str) -> str | None:
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

    def physical_id(self, logical_id: str, length: int = 12) -> str:
        digest = hashlib.sha256(f"{self.name}/{logical_id}".encode()).hexdigest()
        return digest[:length]

    def bucket_name(self, logical_id: str) -> str:
        name = self.string_property(logical_id, "BucketName")
        if name:
            return name
        generated = f"{self.name}-{logical_id}".lower()
        generated = re.sub(r"[^a-z0-9.-]", "-", generated)[:50].strip("-.")
        return f"{generated}-{self.physical_id(logical_id)}"

    def named(self, logical_id: str) -> str:
        """A resource's ``Name`` property (functions and stores must have one)."""
        name = self.string_property(logical_id, "Name")
        if not name:
            raise self.fail(f"Resources.{logical_id}.Properties.Name", None, "is required")
        return name

    def kvs_arn(self, logical_id: str) -> str:
        store = self.named(logical_id)
        arn = f"arn:aws:cloudfront::{ACCOUNT}:key-value-store/{_kvs_id(store)}"
        self.kvs_arns[arn] = logical_id
        return arn

    def function_arn(self, logical_id: str) -> str:
        arn = function_arn(self.named(logical_id))
        self.function_arns[arn] = logical_id
        return arn

    def resource_ref(self, logical_id: str, node: Any, at: str) -> Any:
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
        if kind in _NESTED_TYPES:
            return self.child(logical_id).pseudo("AWS::StackId", node, at)
        if kind in _ATTRIBUTES:  # policies, OAC, OAI: the id
            return logical_id
        return self.placeholder(logical_id, None, at)

    def distribution_id(self, logical_id: str) -> str:
        return "E" + self.physical_id(logical_id, 13).upper()

    def get_att(self, logical_id: str, attribute: str, node: Any, at: str) -> Any:
        kind = self.resource_type(logical_id)
        if kind in _NESTED_TYPES and attribute.startswith("Outputs."):
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
                    "LIVE"
                    if self.prop(logical_id, "AutoPublish") in (True, "true")
                    else "DEVELOPMENT"
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
        if attribute == "LastModifiedTime":
            return "2024-01-01T00:00:00Z"
        if attribute == "S3CanonicalUserId":
            return hashlib.sha256(logical_id.encode()).hexdigest() * 2
        return logical_id  # Id of a policy, an OAC or an OAI

    def placeholder(self, logical_id: str, attribute: str | None, at: str) -> Any:
        """A stand-in for a value only a deployed resource of an unmodelled type would have.

        A note says so, unless the value goes where the converter notes the feature anyway
        (Lambda@Edge, WAF, certificates, logging)."""
        kind = self.resource_type(logical_id) or "SAM implicit resource"
        known = _placeholders(self, logical_id, kind, attribute)
        if known is not None:
            return known
        token = logical_id.lower() if attribute is None else f"{logical_id}-{attribute}".lower()
        value = re.sub(r"[^a-z0-9-]", "-", token) + "-" + self.physical_id(logical_id, 8)
        expression = (
            f"Ref {logical_id}" if attribute is None else f"GetAtt {logical_id}.{attribute}"
        )
        note = (
            f"{self.label}: Resources.{logical_id} ({kind}) is not emulated: "
            f"{expression} stands in as {value!r}"
        )
        if not any(part in at for part in _NOTED_ELSEWHERE):
            self.notes.append(note)  # once per use: each bundle keeps the notes of what it uses
        return value

    def sam_implicit_type(self, name: str) -> str | None:
        """The type of a resource the SAM transform would add, that the template may refer to."""
        if not self.is_sam:
            return None
        if name == "ServerlessRestApi":
            return "AWS::ApiGateway::RestApi"
        if name == "ServerlessHttpApi":
            return "AWS::ApiGatewayV2::Api"
        for suffix, kind in (("Url", "AWS::Lambda::Url"), ("Role", "AWS::IAM::Role")):
            base = name.removesuffix(suffix)
            if base != name and self.resource_type(base) == "AWS::Serverless::Function":
                return kind
        return None

    def sam_implicit(self, name: str, attribute: str | None, node: Any, at: str) -> Any:
        kind = self.sam_implicit_type(name) or ""
        known = _placeholders(self, name, kind, attribute)
        return known if known is not None else self.placeholder(name, attribute, at)

    @property
    def is_sam(self) -> bool:
        transform = self.template.get("Transform")
        names = transform if isinstance(transform, list) else [transform]
        return _SAM_TRANSFORM in names

    # -- nested stacks ---------------------------------------------------------------------------

    def child(self, logical_id: str) -> Stack:
        """The nested stack a ``AWS::CloudFormation::Stack`` (or SAM application) creates, read
        from its local template with the parameters the parent passes."""
        if logical_id in self.children:
            return self.children[logical_id]
        kind = self.resource_type(logical_id)
        member = "Location" if kind == "AWS::Serverless::Application" else "TemplateURL"
        at = f"Resources.{logical_id}.Properties.{member}"
        url = self.prop(logical_id, member)
        if not isinstance(url, str):
            raise self.fail(at, None, "must be the nested stack template's location")
        path = self.nested_template(url, at)
        values = self.prop(logical_id, "Parameters") or {}
        if not isinstance(values, dict):
            raise self.fail(
                f"Resources.{logical_id}.Properties.Parameters", None, "must be a mapping"
            )
        parameters = {
            str(name): ",".join(map(_text, value)) if isinstance(value, list) else _text(value)
            for name, value in values.items()
        }
        nested = open_stack(
            path,
            parameters=parameters,
            assets=self.assets,
            stack_name=f"{self.name}-{logical_id}-{self.physical_id(logical_id, 12).upper()}",
            nested=True,
            construct_paths=self.construct_paths or None,
        )
        self.children[logical_id] = nested
        return nested

    def nested_template(self, url: str, at: str) -> Path:
        """The local file of a nested stack's template: a path relative to this template (as
        ``aws cloudformation package`` takes it), or an S3 URL the asset resolver knows."""
        match = re.fullmatch(
            r"(?:s3://|https://s3[.-][^/]*amazonaws\.com[^/]*/|https://)"
            r"([^/]+?)(?:\.s3[.-][^/]*amazonaws\.com[^/]*)?/(.+)",
            url,
        )
        if match is None:
            path = self.path.parent / url
        else:
            found = self.assets(*match.groups()) if self.assets is not None else None
            if found is None:
                raise self.fail(
                    at,
                    None,
                    f"{url}: the nested stack's template is not a local file (give the path "
                    "to the template, as before `aws cloudformation package`)",
                )
            path = found
        if not path.is_file():
            raise self.fail(at, None, f"the nested stack's template {path} is missing")
        return path

    def output(self, name: str, node: Any, at: str) -> Any:
        outputs = self.template.get("Outputs") or {}
        output = outputs.get(name) if isinstance(outputs, dict) else None
        if not isinstance(output, dict) or "Value" not in output:
            raise InputError(f"{self.label}: Outputs.{name}: no such output (referred to by {at})")
        return self.value(output["Value"], f"Outputs.{name}.Value")

    # -- conditions ------------------------------------------------------------------------------

    def condition(self, name: str, at: str) -> bool:
        if name in self._conditions:
            return self._conditions[name]
        conditions = self.template.get("Conditions") or {}
        if not isinstance(conditions, dict) or name not in conditions:
            raise self.fail(at, None, f"no condition named {name}")
        marker = f"Conditions.{name}"
        if marker in self._in_progress:
            raise self.fail(marker, None, "circular condition")
        self._in_progress.append(marker)
        try:
            result = self.truth(conditions[name], marker)
        finally:
            self._in_progress.pop()
        self._conditions[name] = result
        return result

    def truth(self, node: Any, at: str) -> bool:
        if isinstance(node, dict) and len(node) == 1:
            ((key, argument),) = node.items()
            if key == "Condition":
                return self.condition(str(argument), at)
            if key in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"):
                return bool(self.intrinsic(key, argument, node, at))
        got = self.arg(node, at)
        if isinstance(got, bool):
            return got
        if isinstance(got, str) and got.lower() in ("true", "false"):
            return got.lower() == "true"
        raise self.fail(
            at, node, "a condition must be Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition"
        )


# -- the intrinsic functions ---------------------------------------------------------------------


def _fn_ref(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    return stack.ref(argument, node, at)


def _fn_get_att(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    if isinstance(argument, str) and "." in argument:
        argument = argument.split(".", 1)
    if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)):
        raise stack.fail(at, node, "Fn::GetAtt takes [LogicalId, Attribute]")
    logical_id = argument[0]
    attribute = stack.arg(argument[1], at)
    if not isinstance(attribute, str):
        raise stack.fail(at, node, "the attribute name must be a string")
    found = stack.resource_id(logical_id, node, at)
    if found is None:
        return stack.sam_implicit(logical_id, attribute, node, at)
    return stack.get_att(found, attribute, node, at)


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def _fn_sub(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    variables: dict[str, Any] = {}
    if isinstance(argument, list):
        if len(argument) != 2 or not isinstance(argument[1], dict):
            raise stack.fail(at, node, "Fn::Sub takes a string or [String, {Name: Value}]")
        text = stack.arg(argument[0], at)
        variables = {str(key): stack.arg(item, at) for key, item in argument[1].items()}
    else:
        text = stack.arg(argument, at)
    if not isinstance(text, str):
        raise stack.fail(at, node, "Fn::Sub needs a string")

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        name = name.strip()
        if name in variables:
            got = variables[name]
        elif "." in name and not name.startswith("AWS::"):
            got = _fn_get_att(stack, name.split(".", 1), node, at)
        else:
            got = stack.ref(name, node, at)
        if isinstance(got, list) or got is _NO_VALUE or isinstance(got, dict):
            raise stack.fail(at, node, f"${{{name}}} is not a string")
        return _text(got)

    return _SUB_VARIABLE.sub(replace, text)


def _fn_join(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    if not (isinstance(argument, list) and len(argument) == 2):
        raise stack.fail(at, node, "Fn::Join takes [Delimiter, [Values]]")
    delimiter = stack.arg(argument[0], at)
    items = stack.arg(argument[1], at)
    if not isinstance(delimiter, str) or not isinstance(items, list):
        raise stack.fail(at, node, "Fn::Join takes [Delimiter, [Values]]")
    if any(isinstance(item, list | dict) for item in items):
        raise stack.fail(at, node, "Fn::Join joins strings, not lists or mappings")
    return delimiter.join(_text(item) for item in items)


def _fn_select(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    if not (isinstance(argument, list) and len(argument) == 2):
        raise stack.fail(at, node, "Fn::Select takes [Index, [Values]]")
    index = stack.arg(argument[0], at)
    items = stack.arg(argument[1], at)
    try:
        position = int(index)
    except (TypeError, ValueError):
        raise stack.fail(at, node, f"the index {index!r} is not a number") from None
    if not isinstance(items, list):
        raise stack.fail(at, node, "Fn::Select needs a list")
    if not 0 <= position < len(items):
        raise stack.fail(at, node, f"index {position} is out of range (the list has {len(items)})")
    return items[position]


def _fn_split(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    if not (isinstance(argument, list) and len(argument) == 2):
        raise stack.fail(at, node, "Fn::Split takes [Delimiter, String]")
    delimiter = stack.arg(argument[0], at)
    text = stack.arg(argument[1], at)
    if not isinstance(delimiter, str) or not delimiter or not isinstance(text, str):
        raise stack.fail(at, node, "Fn::Split takes [Delimiter, String]")
    return text.split(delimiter)


def _fn_if(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    if not (isinstance(argument, list) and len(argument) == 3 and isinstance(argument[0], str)):
        raise stack.fail(at, node, "Fn::If takes [Condition, ValueIfTrue, ValueIfFalse]")
    chosen = argument[1] if stack.condition(argument[0], at) else argument[2]
    return stack.value(chosen, at)  # the branch stands where the Fn::If is


def _fn_equals(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    if not (isinstance(argument, list) and len(argument) == 2):
        raise stack.fail(at, node, "Fn::Equals takes [Value1, Value2]")
    first, second = (stack.arg(item, at) for item in argument)
    if isinstance(first, list) or isinstance(second, list):
        return first == second
    return _text(first) == _text(second)


def _fn_not(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    if not (isinstance(argument, list) and len(argument) == 1):
        raise stack.fail(at, node, "Fn::Not takes [Condition]")
    return not stack.truth(argument[0], at)


def _fn_and(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    if not (isinstance(argument, list) and 2 <= len(argument) <= 10):
        raise stack.fail(at, node, "Fn::And takes 2 to 10 conditions")
    return all(stack.truth(item, at) for item in argument)


def _fn_or(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    if not (isinstance(argument, list) and 2 <= len(argument) <= 10):
        raise stack.fail(at, node, "Fn::Or takes 2 to 10 conditions")
    return any(stack.truth(item, at) for item in argument)


def _fn_find_in_map(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    if not (isinstance(argument, list) and len(argument) in (3, 4)):
        raise stack.fail(at, node, "Fn::FindInMap takes [MapName, TopLevelKey, SecondLevelKey]")
    default = _NO_VALUE
    if len(argument) == 4:
        option = argument[3]
        if not (isinstance(option, dict) and set(option) == {"DefaultValue"}):
            raise stack.fail(at, node, "the fourth member of Fn::FindInMap is {DefaultValue: …}")
        default = option["DefaultValue"]
    names = [stack.arg(item, at) for item in argument[:3]]
    mappings = stack.template.get("Mappings") or {}
    current: Any = mappings
    for level, name in zip(("mapping", "key", "key"), names, strict=True):
        if not isinstance(current, dict) or _text(name) not in current:
            if default is not _NO_VALUE:
                return stack.arg(default, at)
            raise stack.fail(at, node, f"no {level} {_text(name)!r} in Mappings")
        current = current[_text(name)]
    return stack.arg(current, at)


def _fn_base64(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    text = stack.arg(argument, at)
    if not isinstance(text, str):
        raise stack.fail(at, node, "Fn::Base64 needs a string")
    return base64.b64encode(text.encode()).decode()


def _fn_get_azs(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    region = stack.arg(argument, at) or REGION
    return [f"{region}{zone}" for zone in "abcdef"]


def _fn_length(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    items = stack.arg(argument, at)
    if not isinstance(items, list):
        raise stack.fail(at, node, "Fn::Length needs a list")
    return len(items)


def _fn_to_json_string(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    return json.dumps(stack.arg(argument, at), separators=(",", ":"))


_INTRINSICS: dict[str, Callable[[Stack, Any, Any, str], Any]] = {
    "Ref": _fn_ref,
    "Fn::GetAtt": _fn_get_att,
    "Fn::Sub": _fn_sub,
    "Fn::Join": _fn_join,
    "Fn::Select": _fn_select,
    "Fn::Split": _fn_split,
    "Fn::If": _fn_if,
    "Fn::Equals": _fn_equals,
    "Fn::Not": _fn_not,
    "Fn::And": _fn_and,
    "Fn::Or": _fn_or,
    "Fn::FindInMap": _fn_find_in_map,
    "Fn::Base64": _fn_base64,
    "Fn::GetAZs": _fn_get_azs,
    "Fn::Length": _fn_length,
    "Fn::ToJsonString": _fn_to_json_string,
}

_UNRESOLVABLE = {
    "Fn::ImportValue": "the value is exported by another stack, which edgesim does not read; "
    "write the value (or a parameter) in its place",
    "Fn::Transform": "macros run in CloudFormation only; expand the template first "
    "(e.g. from the deployed stack's processed template)",
    "Fn::Cidr": "Fn::Cidr is not evaluated by edgesim",
    "Fn::ForEach": "Fn::ForEach is not expanded by edgesim",
}


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
    if kind in ("AWS::Lambda::Function", "AWS::Serverless::Function"):
        name = f"{stack.name}-{logical_id}-{token}"
        if attribute is None:
            return name
        if attribute == "Arn":
            return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    if kind == "AWS::Lambda::Version":
        if attribute is None:
            function = stack.string_property(logical_id, "FunctionName") or logical_id
            if not function.startswith("arn:"):
                function = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}"
            return f"{function}:1"
        if attribute == "Version":
            return "1"
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


# -- rendering expressions in messages -----------------------------------------------------------


def _short(node: Any) -> str:
    """An expression as a YAML template writes it in short form."""
    if isinstance(node, dict) and len(node) == 1:
        ((key, argument),) = node.items()
        if key == "Ref":
            return f"!Ref {_short(argument)}"
        if (
            key == "Fn::GetAtt"
            and isinstance(argument, list)
            and len(argument) == 2
            and all(isinstance(part, str) for part in argument)
        ):
            return f"!GetAtt {argument[0]}.{argument[1]}"
        if key == "Condition":
            return f"!Condition {_short(argument)}"
        if isinstance(key, str) and key.startswith("Fn::"):
            return f"!{key[4:]} {_short(argument)}"
    if isinstance(node, dict):
        return "{" + ", ".join(f"{_short(k)}: {_short(v)}" for k, v in node.items()) + "}"
    if isinstance(node, list):
        return "[" + ", ".join(_short(item) for item in node) + "]"
    if isinstance(node, str):
        plain = re.fullmatch(r"[A-Za-z0-9_.:/${}*@-][A-Za-z0-9_.:/${} *@-]*", node)
        return node if plain and not node.endswith(" ") else json.dumps(node)
    return json.dumps(node)


def _json(node: Any) -> str:
    return json.dumps(node, separators=(", ", ": "), default=str)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _kvs_id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"edgesim:kvs:{name}"))


# -- reading a template --------------------------------------------------------------------------


def read_template(path: Path, label: str | None = None) -> tuple[dict[str, Any], bool]:
    """The template's mapping and whether it is YAML; an ``InputError`` naming the file else."""
    label = label or str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM is common from Windows editors
    except OSError as error:
        raise InputError(f"{label}: cannot read the template: {error.strerror or error}") from None
    stripped = text.lstrip()
    is_json = stripped.startswith("{")
    try:
        data = json.loads(text) if is_json else load_yaml(text)
    except json.JSONDecodeError as error:
        raise InputError(
            f"{label}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}"
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{label}:{mark.line + 1}:{mark.column + 1}" if mark is not None else label
        problem = getattr(error, "problem", None) or str(error)
        raise InputError(f"{where}: not valid YAML: {problem}") from None
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise InputError(f"{label}: not a CloudFormation template (it has no Resources mapping)")
    return data, not is_json


def _parameter_values(stack: Stack, overrides: Mapping[str, str]) -> None:
    declared = stack.template.get("Parameters") or {}
    if not isinstance(declared, dict):
        raise stack.fail("Parameters", None, "must be a mapping")
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        names = ", ".join(sorted(declared)) or "none"
        raise InputError(
            f"{stack.label}: --parameter {unknown[0]}: the template has no such parameter "
            f"(its parameters: {names})"
        )
    for name, spec in declared.items():
        spec = spec if isinstance(spec, dict) else {}
        kind = str(spec.get("Type", "String"))
        if name in overrides:
            raw: Any = overrides[name]
        elif "Default" in spec:
            raw = spec["Default"]
            if kind.startswith("AWS::SSM::Parameter::Value<"):
                stack.missing_parameters[name] = (
                    f"parameter {name} is read from the SSM parameter {raw!r} when deployed: "
                    f"pass --parameter {name}=VALUE"
                )
                continue
        else:
            stack.missing_parameters[name] = (
                f"parameter {name} has no Default: pass --parameter {name}=VALUE"
            )
            continue
        allowed = spec.get("AllowedValues")
        if isinstance(allowed, list) and _text(raw) not in [_text(item) for item in allowed]:
            raise stack.fail(
                f"Parameters.{name}",
                None,
                f"{_text(raw)!r} is not one of its AllowedValues "
                f"({', '.join(_text(item) for item in allowed)})",
            )
        if kind == "CommaDelimitedList" or kind.startswith("List<"):
            items = raw if isinstance(raw, list) else _text(raw).split(",")
            stack.parameters[name] = [_text(item).strip() for item in items]
        else:
            stack.parameters[name] = _text(raw)


def open_stack(
    path: Path,
    *,
    parameters: Mapping[str, str] = {},
    assets: AssetResolver | None = None,
    stack_name: str | None = None,
    label: str | None = None,
    construct_paths: Mapping[str, str] | None = None,
    nested: bool = False,
) -> Stack:
    """Read a template and its parameter values (the first step of ``load_template``).

    ``nested``: the parameters come from a parent stack, which may pass more than the nested
    template declares."""
    template, is_yaml = read_template(path, label)
    stack = Stack(
        path=path,
        label=label or str(path),
        template=template,
        name=stack_name or path.stem,
        short_forms=is_yaml,
        assets=assets,
        construct_paths=dict(construct_paths or {}),
    )
    transform = template.get("Transform")
    for name in transform if isinstance(transform, list) else [transform]:
        if isinstance(name, str) and name not in _KNOWN_TRANSFORMS:
            stack.notes.append(
                f"{stack.label}: Transform {name} is not applied by edgesim (only "
                f"{' and '.join(_KNOWN_TRANSFORMS)} need none for distributions)"
            )
    if nested:
        declared = template.get("Parameters")
        names = declared if isinstance(declared, dict) else {}
        parameters = {name: value for name, value in parameters.items() if name in names}
    _parameter_values(stack, parameters)
    return stack


def load_template(
    path: Path,
    *,
    parameters: Mapping[str, str] = {},
    assets: AssetResolver | None = None,
    stack_name: str | None = None,
) -> list[ImportBundle]:
    """Every distribution in a CloudFormation/SAM template, in template order; each bundle's
    ``name`` is its logical id (``Nested/LogicalId`` for one in a nested stack).

    ``parameters`` override the template's parameter defaults (``--parameter K=V``); an unknown
    name is an error. ``assets`` finds the local files of S3 objects the template imports.
    ``stack_name`` is ``AWS::StackName`` (default: the file name without its extension).
    """
    stack = open_stack(path, parameters=parameters, assets=assets, stack_name=stack_name)
    return list(bundles(stack).values())


def bundles(stack: Stack) -> dict[str, ImportBundle]:
    """Every distribution the stack creates, by name (``load_template``'s second step)."""
    found: dict[str, ImportBundle] = {}
    preamble = list(stack.notes)  # about the whole template
    for logical_id, resource in stack.resources.items():
        if not isinstance(resource, dict):
            raise stack.fail(f"Resources.{logical_id}", None, "must be a mapping")
        if resource.get("Type") in _NESTED_TYPES and stack.exists(logical_id):
            for key, bundle in bundles(stack.child(logical_id)).items():
                bundle.sources.append(stack.path)
                bundle.notes[:0] = [note for note in preamble if note not in bundle.notes]
                bundle.name = f"{logical_id}/{key}"
                found[bundle.name] = bundle
            continue
        if resource.get("Type") != "AWS::CloudFront::Distribution" or not stack.exists(logical_id):
            continue
        bundle = _bundle(stack, logical_id)
        bundle.notes[:0] = [note for note in preamble if note not in bundle.notes]
        bundle.name = logical_id
        found[logical_id] = bundle
    return found


# -- one distribution ----------------------------------------------------------------------------


def _items(value: Any) -> list[Any]:
    """A list member in either shape: a plain list or ``{"Quantity", "Items"}``."""
    if isinstance(value, dict):
        value = value.get("Items")
    return value if isinstance(value, list) else []


def _behaviours(config: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(where key, template path suffix, behaviour) for the default and the ordered behaviours."""
    default = config.get("DefaultCacheBehavior")
    if isinstance(default, dict):
        yield "DefaultCacheBehavior", "DefaultCacheBehavior", default
    for index, behaviour in enumerate(_items(config.get("CacheBehaviors"))):
        if isinstance(behaviour, dict):
            yield f"CacheBehaviors.Items.{index}", f"CacheBehaviors[{index}]", behaviour


def _bundle(stack: Stack, logical_id: str) -> ImportBundle:
    base = f"Resources.{logical_id}.Properties.DistributionConfig"
    properties = stack.resources[logical_id].get("Properties")
    if not isinstance(properties, dict) or "DistributionConfig" not in properties:
        raise stack.fail(
            f"Resources.{logical_id}.Properties", None, "DistributionConfig is required"
        )
    first_note = len(stack.notes)
    config = stack.prop(logical_id, "DistributionConfig")
    if not isinstance(config, dict):
        raise stack.fail(base, None, "must be a mapping")
    _api_names(config)
    bundle = ImportBundle(distribution_config=config, sources=[stack.path])
    bundle.where[""] = stack.where(base)
    for member, suffix in (("Origins", "Origins"), ("OriginGroups", "OriginGroups")):
        for index, _ in enumerate(_items(config.get(member))):
            bundle.where[f"{member}.Items.{index}"] = stack.where(f"{base}.{suffix}[{index}]")
    for index, _ in enumerate(_items(config.get("CustomErrorResponses"))):
        bundle.where[f"CustomErrorResponses.Items.{index}"] = stack.where(
            f"{base}.CustomErrorResponses[{index}]"
        )
    if "Restrictions" in config:
        bundle.where["Restrictions"] = stack.where(f"{base}.Restrictions")

    for key, suffix, behaviour in _behaviours(config):
        bundle.where[key] = stack.where(f"{base}.{suffix}")
        for index, association in enumerate(_items(behaviour.get("FunctionAssociations"))):
            at = f"{base}.{suffix}.FunctionAssociations[{index}].FunctionARN"
            arn = association.get("FunctionARN") if isinstance(association, dict) else None
            _add_function(stack, bundle, arn, at)
        for member, kind in _POLICY_MEMBERS.items():
            policy_id = behaviour.get(member)
            if isinstance(policy_id, str) and stack.resource_type(policy_id) == kind:
                _add_policy(stack, bundle, policy_id)
    bundle.notes.extend(note for note in stack.notes[first_note:] if note not in bundle.notes)
    return bundle


# CloudFormation member names that differ from the API's (the bundle carries the API's).
_RENAMED = {"IPV6Enabled": "IsIPV6Enabled", "CNAMEs": "Aliases"}
_RENAMED_ORIGIN = {"OriginSSLProtocols": "OriginSslProtocols"}
_RENAMED_CERTIFICATE = {
    "AcmCertificateArn": "ACMCertificateArn",
    "SslSupportMethod": "SSLSupportMethod",
}


def _rename(node: Any, names: Mapping[str, str]) -> None:
    if isinstance(node, dict):
        for old, new in names.items():
            if old in node and new not in node:
                node[new] = node.pop(old)


def _api_names(config: dict[str, Any]) -> None:
    """CloudFormation's spellings and defaults → the API's, in place: ``IPV6Enabled``,
    ``CNAMEs`` (legacy), ``OriginSSLProtocols``, ``AcmCertificateArn``, ``SslSupportMethod``;
    a ``ForwardedValues`` without ``Cookies`` forwards none (optional in CloudFormation, required
    in the API)."""
    _rename(config, _RENAMED)
    _rename(config.get("ViewerCertificate"), _RENAMED_CERTIFICATE)
    for origin in _items(config.get("Origins")):
        if isinstance(origin, dict):
            _rename(origin.get("CustomOriginConfig"), _RENAMED_ORIGIN)
    for _, _, behaviour in _behaviours(config):
        forwarded = behaviour.get("ForwardedValues")
        if isinstance(forwarded, dict) and "Cookies" not in forwarded:
            forwarded["Cookies"] = {"Forward": "none"}


def _add_function(stack: Stack, bundle: ImportBundle, arn: Any, at: str) -> None:
    if not isinstance(arn, str):
        raise stack.fail(at, None, "must be a function ARN")
    logical_id = stack.function_arns.get(arn)
    if logical_id is None:
        name = arn.rsplit("/", 1)[-1]
        bundle.notes.append(
            f"{stack.where(at)}: function {name} is not defined in this template: "
            f"give its code with --function {name}=PATH"
        )
        return
    name = stack.named(logical_id)
    if name in bundle.functions:
        return
    base = f"Resources.{logical_id}.Properties"
    code = stack.prop(logical_id, "FunctionCode")
    if not isinstance(code, str):
        raise stack.fail(f"{base}.FunctionCode", None, "must be the function's code (a string)")
    config = stack.prop(logical_id, "FunctionConfig")
    if not isinstance(config, dict):
        raise stack.fail(f"{base}.FunctionConfig", None, "is required (Comment and Runtime)")
    runtime = config.get("Runtime")
    if runtime not in ("cloudfront-js-1.0", "cloudfront-js-2.0"):
        raise stack.fail(
            f"{base}.FunctionConfig.Runtime",
            None,
            f"{runtime!r} is not a CloudFront Functions runtime "
            "(cloudfront-js-1.0, cloudfront-js-2.0)",
        )
    auto_publish = stack.prop(logical_id, "AutoPublish")
    source = FunctionSource(
        name=name,
        runtime=runtime,
        code=code,
        auto_publish=auto_publish in (True, "true", "True"),
        where=stack.where(f"Resources.{logical_id}"),
    )
    for index, association in enumerate(_items(config.get("KeyValueStoreAssociations"))):
        store_arn = association.get("KeyValueStoreARN") if isinstance(association, dict) else None
        at_store = f"{base}.FunctionConfig.KeyValueStoreAssociations[{index}].KeyValueStoreARN"
        source.kvs.append(_add_store(stack, bundle, store_arn, at_store))
    bundle.functions[name] = source
    bundle.where[f"functions.{name}"] = source.where


def _add_store(stack: Stack, bundle: ImportBundle, arn: Any, at: str) -> str:
    if not isinstance(arn, str) or ":key-value-store/" not in arn:
        raise stack.fail(at, None, f"{arn!r} is not a KeyValueStore ARN")
    logical_id = stack.kvs_arns.get(arn)
    if logical_id is None:
        name = arn.rsplit("/", 1)[-1]
        if name not in bundle.kvs:
            bundle.kvs[name] = KvsSource(name=name, where=stack.where(at))
            bundle.notes.append(
                f"{stack.where(at)}: KeyValueStore {name} is not defined in this template: "
                f"seed it with --kvs {name}=FILE"
            )
        return name
    name = stack.named(logical_id)
    if name in bundle.kvs:
        return name
    store = KvsSource(name=name, where=stack.where(f"Resources.{logical_id}"))
    source = stack.prop(logical_id, "ImportSource")
    if source is not None:
        store.data = _import_source(stack, bundle, logical_id, source)
        if store.data is not None:
            bundle.sources.append(store.data)
    else:
        bundle.notes.append(
            f"{stack.where(f'Resources.{logical_id}')}: KeyValueStore {name} has no ImportSource "
            f"and starts empty: seed it with --kvs {name}=FILE"
        )
    bundle.kvs[name] = store
    bundle.where[f"kvs.{name}"] = store.where
    return name


def _import_source(stack: Stack, bundle: ImportBundle, logical_id: str, source: Any) -> Path | None:
    at = f"Resources.{logical_id}.Properties.ImportSource.SourceArn"
    arn = source.get("SourceArn") if isinstance(source, dict) else None
    match = re.fullmatch(r"arn:[^:]+:s3:::([^/]+)/(.+)", arn) if isinstance(arn, str) else None
    if match is None:
        raise stack.fail(at, None, f"{arn!r} is not an S3 object ARN")
    bucket, key = match.groups()
    if stack.assets is not None:
        found = stack.assets(bucket, key)
    else:
        found = stack.path.parent / key
        if not found.is_file():
            found = None
        else:
            bundle.notes.append(
                f"{stack.where(at)}: KeyValueStore data read from {found} (the S3 key beside "
                f"the template)"
            )
    if found is None:
        name = stack.named(logical_id)
        bundle.notes.append(
            f"{stack.where(at)}: KeyValueStore {name} imports s3://{bucket}/{key}, which is not "
            f"a local file: seed it with --kvs {name}=FILE"
        )
        return None
    if not found.is_file():
        raise stack.fail(at, None, f"s3://{bucket}/{key}: the asset file {found} is missing")
    return found


def _add_policy(stack: Stack, bundle: ImportBundle, logical_id: str) -> None:
    member, attribute = _POLICY_TYPES[stack.resource_type(logical_id)]
    policies: dict[str, dict[str, Any]] = getattr(bundle, attribute)
    if logical_id in policies:
        return
    config = stack.prop(logical_id, member)
    if not isinstance(config, dict):
        raise stack.fail(f"Resources.{logical_id}.Properties.{member}", None, "is required")
    policies[logical_id] = config
    bundle.where[f"{attribute}.{logical_id}"] = stack.where(
        f"Resources.{logical_id}.Properties.{member}"
    )
