"""One ``AWS::CloudFront::Distribution`` → an ``ImportBundle`` in the CloudFront API's shape: its
``DistributionConfig`` with CloudFormation's spellings made the API's, where each part is in the
template, and the functions (``functions``), Lambda@Edge functions (``lambdas``) and policies its
behaviours use."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from edgesim.importers.bundle import ImportBundle
from edgesim.importers.cloudformation.functions import add_function
from edgesim.importers.cloudformation.lambdas import add_lambda
from edgesim.importers.cloudformation.values import list_items

if TYPE_CHECKING:
    from edgesim.importers.cloudformation.stack import Stack


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


def _behaviours(config: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(where key, template path suffix, behaviour) for the default and the ordered behaviours."""
    default = config.get("DefaultCacheBehavior")
    if isinstance(default, dict):
        yield "DefaultCacheBehavior", "DefaultCacheBehavior", default
    for index, behaviour in enumerate(list_items(config.get("CacheBehaviors"))):
        if isinstance(behaviour, dict):
            yield f"CacheBehaviors.Items.{index}", f"CacheBehaviors[{index}]", behaviour


def distribution_bundle(stack: Stack, logical_id: str) -> ImportBundle:
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
        for index, _ in enumerate(list_items(config.get(member))):
            bundle.where[f"{member}.Items.{index}"] = stack.where(f"{base}.{suffix}[{index}]")
    for index, _ in enumerate(list_items(config.get("CustomErrorResponses"))):
        bundle.where[f"CustomErrorResponses.Items.{index}"] = stack.where(
            f"{base}.CustomErrorResponses[{index}]"
        )
    if "Restrictions" in config:
        bundle.where["Restrictions"] = stack.where(f"{base}.Restrictions")

    for key, suffix, behaviour in _behaviours(config):
        bundle.where[key] = stack.where(f"{base}.{suffix}")
        for index, association in enumerate(list_items(behaviour.get("FunctionAssociations"))):
            at = f"{base}.{suffix}.FunctionAssociations[{index}].FunctionARN"
            arn = association.get("FunctionARN") if isinstance(association, dict) else None
            add_function(stack, bundle, arn, at)
        for index, association in enumerate(
            list_items(behaviour.get("LambdaFunctionAssociations"))
        ):
            at = f"{base}.{suffix}.LambdaFunctionAssociations[{index}].LambdaFunctionARN"
            arn = association.get("LambdaFunctionARN") if isinstance(association, dict) else None
            add_lambda(stack, bundle, arn, at)
        for member, kind in _POLICY_MEMBERS.items():
            policy_id = behaviour.get(member)
            if isinstance(policy_id, str) and stack.resource_type(policy_id) == kind:
                _add_policy(stack, bundle, policy_id)
        for group_id in list_items(behaviour.get("TrustedKeyGroups")):
            if isinstance(group_id, str) and stack.resource_type(group_id) == _KEY_GROUP:
                _add_key_group(stack, bundle, group_id)
    bundle.notes.extend(note for note in stack.notes[first_note:] if note not in bundle.notes)
    return bundle


# CloudFormation member names that differ from the API's (the bundle carries the API's).
_RENAMED = {"IPV6Enabled": "IsIPV6Enabled", "CNAMEs": "Aliases"}
_RENAMED_ORIGIN = {"OriginSSLProtocols": "OriginSslProtocols"}
# AWS::CloudFront::Distribution Origin: OriginCustomHeaders (a list of {HeaderName, HeaderValue})
# is the API's CustomHeaders.
_RENAMED_ORIGIN_MEMBERS = {"OriginCustomHeaders": "CustomHeaders"}
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
    ``CNAMEs`` (legacy), ``OriginCustomHeaders``, ``OriginSSLProtocols``,
    ``AcmCertificateArn``, ``SslSupportMethod``; a ``ForwardedValues`` without ``Cookies``
    forwards none (optional in CloudFormation, required in the API)."""
    _rename(config, _RENAMED)
    _rename(config.get("ViewerCertificate"), _RENAMED_CERTIFICATE)
    for origin in list_items(config.get("Origins")):
        if isinstance(origin, dict):
            _rename(origin, _RENAMED_ORIGIN_MEMBERS)
            _rename(origin.get("CustomOriginConfig"), _RENAMED_ORIGIN)
    for _, _, behaviour in _behaviours(config):
        forwarded = behaviour.get("ForwardedValues")
        if isinstance(forwarded, dict) and "Cookies" not in forwarded:
            forwarded["Cookies"] = {"Forward": "none"}


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


_KEY_GROUP = "AWS::CloudFront::KeyGroup"
_PUBLIC_KEY = "AWS::CloudFront::PublicKey"


def _add_key_group(stack: Stack, bundle: ImportBundle, logical_id: str) -> None:
    """An ``AWS::CloudFront::KeyGroup`` a behaviour trusts, and the ``AWS::CloudFront::PublicKey``
    resources in it (``Ref`` of each is its logical id, the local key id)."""
    if logical_id in bundle.key_groups:
        return
    config = stack.prop(logical_id, "KeyGroupConfig")
    if not isinstance(config, dict):
        raise stack.fail(f"Resources.{logical_id}.Properties.KeyGroupConfig", None, "is required")
    bundle.key_groups[logical_id] = config
    bundle.where[f"key_groups.{logical_id}"] = stack.where(
        f"Resources.{logical_id}.Properties.KeyGroupConfig"
    )
    for key_id in list_items(config.get("Items")):
        if not isinstance(key_id, str) or key_id in bundle.public_keys:
            continue
        if stack.resource_type(key_id) != _PUBLIC_KEY:
            continue  # the converter reports a key that is not part of the import
        key = stack.prop(key_id, "PublicKeyConfig")
        if not isinstance(key, dict):
            raise stack.fail(f"Resources.{key_id}.Properties.PublicKeyConfig", None, "is required")
        bundle.public_keys[key_id] = key
        bundle.where[f"public_keys.{key_id}"] = stack.where(
            f"Resources.{key_id}.Properties.PublicKeyConfig"
        )
