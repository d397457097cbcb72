"""aws_cloudfront_distribution's blocks mapped to the API's ``DistributionConfig``.

Origins, origin groups, the default and ordered cache behaviours, custom error responses,
restrictions, viewer certificate, logging and the distribution's settings.
"""

from __future__ import annotations

from typing import Any

from edgesim.errors import InputError
from edgesim.importers.terraform.mapper import Mapper, Spec, convert_spec, q, set_if
from edgesim.importers.terraform.nodes import Node

_ORIGIN_HINT = "pass -var or map the origin with --origin"


def distribution_config(m: Mapper, node: Node) -> tuple[dict[str, Any], dict[str, str]]:
    cfg: dict[str, Any] = {"CallerReference": node.path}
    where: dict[str, str] = {"": f"{node.where()}: {node.path}"}
    cfg["Comment"] = m.text(node, "comment", tolerant=True) or ""
    cfg["Enabled"] = m.flag(node, "enabled", True)
    cfg["Aliases"] = q(m.strings(node, "aliases", tolerant=True))
    set_if(cfg, "DefaultRootObject", m.text(node, "default_root_object"))
    origins = []
    for i, origin in enumerate(node.blocks("origin")):
        origins.append(_origin(m, origin))
        where[f"Origins.Items.{i}"] = f"{origin.where()}: {origin.path}"
    cfg["Origins"] = q(origins)
    groups = []
    for i, group in enumerate(node.blocks("origin_group")):
        groups.append(_origin_group(m, group))
        where[f"OriginGroups.Items.{i}"] = f"{group.where()}: {group.path}"
    cfg["OriginGroups"] = q(groups)
    default = m.one(node, "default_cache_behavior")
    if default is None:
        raise InputError(f"{node.where()}: {node.path}: no default_cache_behavior block")
    cfg["DefaultCacheBehavior"] = _behavior(m, default, ordered=False)
    where["DefaultCacheBehavior"] = f"{default.where()}: {default.path}"
    behaviors = []
    for i, behavior in enumerate(node.blocks("ordered_cache_behavior")):
        behaviors.append(_behavior(m, behavior, ordered=True))
        where[f"CacheBehaviors.Items.{i}"] = f"{behavior.where()}: {behavior.path}"
    cfg["CacheBehaviors"] = q(behaviors)
    errors = []
    for i, response in enumerate(node.blocks("custom_error_response")):
        item: dict[str, Any] = {"ErrorCode": m.number(response, "error_code", required=True)}
        set_if(item, "ResponsePagePath", m.text(response, "response_page_path"))
        code = m.number(response, "response_code")
        set_if(item, "ResponseCode", str(code) if code else None)
        set_if(item, "ErrorCachingMinTTL", m.number(response, "error_caching_min_ttl"))
        errors.append(item)
        where[f"CustomErrorResponses.Items.{i}"] = f"{response.where()}: {response.path}"
    cfg["CustomErrorResponses"] = q(errors)
    restrictions = m.one(node, "restrictions")
    geo = m.one(restrictions, "geo_restriction") if restrictions is not None else None
    if geo is not None:
        locations = m.strings(geo, "locations")
        cfg["Restrictions"] = {
            "GeoRestriction": {
                "RestrictionType": m.text(geo, "restriction_type") or "none",
                **q(locations),
            }
        }
        where["Restrictions"] = f"{geo.where()}: {geo.path}"
    certificate = m.one(node, "viewer_certificate")
    if certificate is not None:
        cfg["ViewerCertificate"] = convert_spec(m, certificate, _VIEWER_CERTIFICATE, tolerant=True)
    logging = m.one(node, "logging_config")
    if logging is not None:
        cfg["Logging"] = {
            "Enabled": True,
            "IncludeCookies": bool(m.flag(logging, "include_cookies", False)),
            "Bucket": m.text(logging, "bucket", tolerant=True) or "",
            "Prefix": m.text(logging, "prefix", tolerant=True) or "",
        }
    for tf_name, api_name in (
        ("price_class", "PriceClass"),
        ("web_acl_id", "WebACLId"),
        ("http_version", "HttpVersion"),
        ("continuous_deployment_policy_id", "ContinuousDeploymentPolicyId"),
        ("anycast_ip_list_id", "AnycastIpListId"),
    ):
        set_if(cfg, api_name, m.text(node, tf_name, tolerant=True))
    set_if(cfg, "IsIPV6Enabled", m.flag(node, "is_ipv6_enabled"))
    set_if(cfg, "Staging", m.flag(node, "staging"))
    return cfg, where


def _origin(m: Mapper, node: Node) -> dict[str, Any]:
    origin_id = m.text(node, "origin_id", required=True)
    mapped = origin_id in m.mapped_origins
    origin: dict[str, Any] = {
        "Id": origin_id,
        "DomainName": m.text(
            node, "domain_name", required=True, hint=_ORIGIN_HINT, tolerant=mapped
        ),
        "OriginPath": m.text(node, "origin_path") or "",
    }
    headers = [
        {
            "HeaderName": m.text(h, "name", required=True),
            "HeaderValue": m.text(h, "value", required=True) or "",
        }
        for h in node.blocks("custom_header")
    ]
    origin["CustomHeaders"] = q(headers)
    set_if(origin, "ConnectionAttempts", m.number(node, "connection_attempts"))
    set_if(origin, "ConnectionTimeout", m.number(node, "connection_timeout"))
    # show -json writes 0 for an unset timeout
    set_if(
        origin, "ResponseCompletionTimeout", m.number(node, "response_completion_timeout") or None
    )
    set_if(origin, "OriginAccessControlId", m.text(node, "origin_access_control_id", tolerant=True))
    custom = m.one(node, "custom_origin_config")
    s3 = m.one(node, "s3_origin_config")
    vpc = m.one(node, "vpc_origin_config")
    if custom is not None:
        config: dict[str, Any] = {
            "HTTPPort": m.number(custom, "http_port", required=True),
            "HTTPSPort": m.number(custom, "https_port", required=True),
            "OriginProtocolPolicy": m.text(custom, "origin_protocol_policy", required=True),
        }
        protocols = m.strings(custom, "origin_ssl_protocols")
        if protocols:
            config["OriginSslProtocols"] = q(protocols)
        set_if(config, "OriginReadTimeout", m.number(custom, "origin_read_timeout"))
        set_if(config, "OriginKeepaliveTimeout", m.number(custom, "origin_keepalive_timeout"))
        set_if(config, "IpAddressType", m.text(custom, "ip_address_type"))
        origin["CustomOriginConfig"] = config
    elif vpc is not None:
        origin["VpcOriginConfig"] = convert_spec(m, vpc, _VPC_ORIGIN, tolerant=True)
    else:
        # The provider sends an empty S3OriginConfig when neither block is given (OAC origins).
        identity = m.text(s3, "origin_access_identity", tolerant=True) if s3 is not None else None
        origin["S3OriginConfig"] = {"OriginAccessIdentity": identity or ""}
    shield = m.one(node, "origin_shield")
    if shield is not None:
        origin["OriginShield"] = convert_spec(m, shield, _ORIGIN_SHIELD, tolerant=True)
    return origin


def _origin_group(m: Mapper, node: Node) -> dict[str, Any]:
    criteria = m.one(node, "failover_criteria")
    codes = [int(c) for c in m.strings(criteria, "status_codes")] if criteria else []
    members = [{"OriginId": m.text(b, "origin_id", required=True)} for b in node.blocks("member")]
    group: dict[str, Any] = {
        "Id": m.text(node, "origin_id", required=True),
        "FailoverCriteria": {"StatusCodes": q(codes)},
        "Members": q(members),
    }
    set_if(group, "SelectionCriteria", m.text(node, "selection_criteria"))
    return group


def _behavior(m: Mapper, node: Node, *, ordered: bool) -> dict[str, Any]:
    behavior: dict[str, Any] = {}
    if ordered:
        behavior["PathPattern"] = m.text(node, "path_pattern", required=True)
    behavior["TargetOriginId"] = m.text(node, "target_origin_id", required=True)
    behavior["ViewerProtocolPolicy"] = m.text(node, "viewer_protocol_policy", required=True)
    allowed = m.strings(node, "allowed_methods") or ["GET", "HEAD"]
    cached = m.strings(node, "cached_methods") or ["GET", "HEAD"]
    behavior["AllowedMethods"] = {**q(allowed), "CachedMethods": q(cached)}
    behavior["Compress"] = bool(m.flag(node, "compress", False))
    set_if(behavior, "SmoothStreaming", m.flag(node, "smooth_streaming"))
    cache_policy = m.text(node, "cache_policy_id")
    set_if(behavior, "CachePolicyId", cache_policy)
    set_if(behavior, "OriginRequestPolicyId", m.text(node, "origin_request_policy_id"))
    set_if(behavior, "ResponseHeadersPolicyId", m.text(node, "response_headers_policy_id"))
    set_if(
        behavior, "FieldLevelEncryptionId", m.text(node, "field_level_encryption_id", tolerant=True)
    )
    set_if(behavior, "RealtimeLogConfigArn", m.text(node, "realtime_log_config_arn", tolerant=True))
    for tf_name, api_name in (
        ("trusted_key_groups", "TrustedKeyGroups"),
        ("trusted_signers", "TrustedSigners"),
    ):
        names = m.strings(node, tf_name, tolerant=True)
        if names:
            behavior[api_name] = {"Enabled": True, **q(names)}
    functions = [
        {
            "EventType": m.text(f, "event_type", required=True),
            "FunctionARN": m.text(f, "function_arn", required=True),
        }
        for f in node.blocks("function_association")
    ]
    behavior["FunctionAssociations"] = q(functions)
    lambdas = []
    for association in node.blocks("lambda_function_association"):
        item = {
            "EventType": m.text(association, "event_type", required=True),
            "LambdaFunctionARN": m.text(association, "lambda_arn", required=True, tolerant=True),
        }
        set_if(item, "IncludeBody", m.flag(association, "include_body"))
        lambdas.append(item)
    behavior["LambdaFunctionAssociations"] = q(lambdas)
    grpc = m.one(node, "grpc_config")
    if grpc is not None:
        behavior["GrpcConfig"] = {"Enabled": bool(m.flag(grpc, "enabled", False))}
    if cache_policy is None:  # the legacy cache settings apply only without a cache policy
        forwarded = m.one(node, "forwarded_values")
        if forwarded is not None:
            behavior["ForwardedValues"] = _forwarded_values(m, forwarded)
        set_if(behavior, "MinTTL", m.number(node, "min_ttl"))
        set_if(behavior, "DefaultTTL", m.number(node, "default_ttl"))
        set_if(behavior, "MaxTTL", m.number(node, "max_ttl"))
    return behavior


def _forwarded_values(m: Mapper, node: Node) -> dict[str, Any]:
    result: dict[str, Any] = {"QueryString": bool(m.flag(node, "query_string", False))}
    cookies = m.one(node, "cookies")
    cookie_config: dict[str, Any] = {
        "Forward": (m.text(cookies, "forward") if cookies else None) or "none"
    }
    names = m.strings(cookies, "whitelisted_names") if cookies else []
    if names:
        cookie_config["WhitelistedNames"] = q(names)
    result["Cookies"] = cookie_config
    result["Headers"] = q(m.strings(node, "headers"))
    result["QueryStringCacheKeys"] = q(m.strings(node, "query_string_cache_keys"))
    return result


_VIEWER_CERTIFICATE: Spec = {
    "acm_certificate_arn": ("ACMCertificateArn", "v", None),
    "cloudfront_default_certificate": ("CloudFrontDefaultCertificate", "v", None),
    "iam_certificate_id": ("IAMCertificateId", "v", None),
    "minimum_protocol_version": ("MinimumProtocolVersion", "v", None),
    "ssl_support_method": ("SSLSupportMethod", "v", None),
}


_ORIGIN_SHIELD: Spec = {
    "enabled": ("Enabled", "v", None),
    "origin_shield_region": ("OriginShieldRegion", "v", None),
}


_VPC_ORIGIN: Spec = {
    "vpc_origin_id": ("VpcOriginId", "v", None),
    "origin_read_timeout": ("OriginReadTimeout", "v", None),
    "origin_keepalive_timeout": ("OriginKeepaliveTimeout", "v", None),
    "owner_account_id": ("OwnerAccountId", "v", None),
}
