"""Ordered and default cache behaviours: path pattern, target origin or group, viewer protocol
policy, allowed and cached methods, policies, function associations (ARN → a function of the
bundle), Lambda@Edge associations (``lambdas``), and notes for the behaviour settings not
emulated.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from edgesim.distribution import managed
from edgesim.distribution.behaviors import (
    CACHED_METHOD_SETS,
    MAX_BEHAVIORS,
    METHOD_SETS,
    VIEWER_PROTOCOL_POLICIES,
)
from edgesim.distribution.model import GET_HEAD, Behavior, ViewerProtocolPolicy
from edgesim.distribution.patterns import validate_pattern
from edgesim.errors import InputError
from edgesim.importers.apishape.functions import RESOURCE_NAME
from edgesim.importers.apishape.lambdas import LambdasMixin
from edgesim.importers.apishape.legacy import LegacyCacheSettingsMixin
from edgesim.importers.apishape.notes import ACCEPTED, DIFFERS
from edgesim.importers.apishape.shape import Node, known_names
from edgesim.importers.apishape.trusted_keys import TrustedKeysMixin

_FUNCTION_ARN = re.compile(r"^arn:aws[a-z-]*:cloudfront::[0-9]*:function/(?P<name>[^/]+)$")


class BehaviorsMixin(LegacyCacheSettingsMixin, TrustedKeysMixin, LambdasMixin):
    """Cache behaviours and their function associations."""

    def _behaviors(self, config: Node, targets: Sequence[str]) -> tuple[Behavior, ...]:
        nodes = config.nodes("CacheBehaviors")
        if len(nodes) > MAX_BEHAVIORS:
            config.error(
                "CacheBehaviors",
                f"{len(nodes)} cache behaviours; CloudFront allows {MAX_BEHAVIORS}",
            )
        seen: dict[str, str] = {}
        behaviors = []
        for node in nodes:
            path = node.text("PathPattern")
            if path is None:
                node.error("PathPattern", "is required")
                continue
            try:
                validate_pattern(path)
            except InputError as exc:
                node.error("PathPattern", str(exc))
                continue
            key = path[1:] if path.startswith("/") else path
            if key in seen:
                node.error("PathPattern", f"pattern {path!r} repeats {seen[key]}")
                continue
            seen[key] = self.problems.place(node.path)
            behaviors.append(self._behavior(node, path, targets))
            self.where[f"behaviors.{path}"] = self.problems.place(node.path)
        return tuple(behaviors)

    def _default_behavior(self, config: Node, targets: Sequence[str]) -> Behavior:
        node = config.sub("DefaultCacheBehavior") or Node(self.problems, "DefaultCacheBehavior", {})
        if node.has("PathPattern"):
            node.error("PathPattern", "the default cache behaviour has no path pattern")
        self.where["default_behavior"] = self.problems.place(node.path)
        return self._behavior(node, "*", targets)

    def _behavior(self, node: Node, path: str, targets: Sequence[str]) -> Behavior:
        label = "default behaviour" if path == "*" else f"behaviour {path}"
        target = node.text("TargetOriginId")
        if target is None:
            node.error("TargetOriginId", "is required")
            target = ""
        elif target not in targets:
            node.error(
                "TargetOriginId", f"unknown origin or origin group {target!r}{known_names(targets)}"
            )
        viewer_request, viewer_response = self._function_associations(node, label)
        lambdas = self._lambda_associations(
            node, label, viewer_request is not None or viewer_response is not None
        )
        self._behavior_notes(node, label)
        allowed, cached = self._methods(node)
        cache_policy, origin_request_policy = self._cache_settings(node, path, label)
        return Behavior(
            path=path,
            origin=target,
            cache_policy=cache_policy,
            origin_request_policy=origin_request_policy,
            response_headers_policy=self._policy_ref(
                node,
                "ResponseHeadersPolicyId",
                self.policies.response_headers,
                managed.find_response_headers_policy,
                "response headers",
            ),
            viewer_request=viewer_request,
            viewer_response=viewer_response,
            allowed_methods=allowed,
            cached_methods=cached,
            viewer_protocol_policy=self._viewer_protocol_policy(node),
            # The API's default is false (the console's is true).
            compress=node.flag("Compress", False),
            trusted_key_groups=self._trusted_key_groups(node, label),
            lambdas=lambdas,
        )

    def _viewer_protocol_policy(self, node: Node) -> ViewerProtocolPolicy:
        value = node.text("ViewerProtocolPolicy")
        if value is None:
            node.error("ViewerProtocolPolicy", "is required")
            return "allow-all"
        for policy in VIEWER_PROTOCOL_POLICIES:
            if policy == value:
                return policy
        node.error(
            "ViewerProtocolPolicy",
            f"{value!r} is not one of allow-all, redirect-to-https, https-only",
        )
        return "allow-all"

    def _methods(self, node: Node) -> tuple[frozenset[str], frozenset[str]]:
        """The API nests CachedMethods in AllowedMethods; CloudFormation has two plain lists."""
        allowed, cached_at = GET_HEAD, "CachedMethods"
        cached_names = node.texts("CachedMethods")
        if node.has("AllowedMethods"):
            allowed = frozenset(m.upper() for m in node.texts("AllowedMethods"))
            nested = node.sub("AllowedMethods") if node.is_object("AllowedMethods") else None
            if nested is not None and nested.has("CachedMethods"):
                cached_names = nested.texts("CachedMethods")
                cached_at = "AllowedMethods.CachedMethods"
        if allowed not in METHOD_SETS:
            node.error(
                "AllowedMethods",
                "CloudFront allows only [GET, HEAD], [GET, HEAD, OPTIONS] or all seven methods",
            )
            allowed = GET_HEAD
        cached = frozenset(m.upper() for m in cached_names) if cached_names else GET_HEAD
        if cached not in CACHED_METHOD_SETS or not cached <= allowed:
            node.error(
                cached_at, "must be [GET, HEAD] or [GET, HEAD, OPTIONS] (OPTIONS if allowed)"
            )
            cached = GET_HEAD
        return allowed, cached

    def _function_associations(self, node: Node, label: str) -> tuple[str | None, str | None]:
        chosen: dict[str, str] = {}
        for item in node.nodes("FunctionAssociations"):
            event = item.text("EventType")
            arn = item.text("FunctionARN")
            if event is None or arn is None:
                item.error(None, "needs EventType and FunctionARN")
                continue
            if event not in ("viewer-request", "viewer-response"):
                item.error(
                    "EventType",
                    f"{event!r}: CloudFront Functions run on viewer-request or viewer-response "
                    "only (origin events are Lambda@Edge)",
                )
                continue
            if event in chosen:
                item.error("EventType", f"a second {event} function; a behaviour has one")
                continue
            name = self._function_name(item, arn)
            if name is not None:
                chosen[event] = name
                self.used_functions.setdefault(name, item.path)
        return chosen.get("viewer-request"), chosen.get("viewer-response")

    def _function_name(self, item: Node, arn: str) -> str | None:
        match = _FUNCTION_ARN.match(arn)
        name = match.group("name") if match else arn
        if name in self.bundle.functions:
            return name
        if match is None and not RESOURCE_NAME.fullmatch(arn):
            item.error("FunctionARN", f"{arn!r} is not a CloudFront function ARN")
            return None
        known = sorted(self.bundle.functions)
        listing = f" (functions in the import: {', '.join(known)})" if known else ""
        item.error(
            "FunctionARN",
            f"function {name!r} is not part of the import{listing}; give its code with "
            f"--function {name}=PATH.js",
        )
        return None

    def _behavior_notes(self, node: Node, label: str) -> None:
        if node.flag("SmoothStreaming", False):
            self.notes.add(ACCEPTED + "SmoothStreaming", label)
        if node.text("FieldLevelEncryptionId"):
            self.notes.add(
                DIFFERS + "field-level encryption is not applied (origins get the fields in clear)",
                label,
            )
        if node.text("RealtimeLogConfigArn"):
            self.notes.add(ACCEPTED + "real-time logs (RealtimeLogConfigArn)", label)
        grpc = node.sub("GrpcConfig")
        if grpc is not None and grpc.flag("Enabled", False):
            self.notes.add(DIFFERS + "gRPC (GrpcConfig) is not proxied", label)
