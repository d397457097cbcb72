"""Origin stage: which origin a request goes to (the behaviour's, a group, or what a function's
origin helpers chose), the request CloudFront sends it, and failover within a group.

Facts (reference notes B.6, B.8): the origin gets ``X-Forwarded-For`` with the viewer's address
appended, ``X-Amz-Cf-Id``, ``Via``, ``User-Agent: Amazon CloudFront`` unless the viewer's is
forwarded, ``Host`` = the origin's domain unless the viewer's Host is forwarded, and the origin's
custom headers. A group fails over to its secondary for GET, HEAD and OPTIONS only, when the
primary cannot be reached or answers one of the group's failover status codes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import replace
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from edgesim.distribution.model import Behavior, CustomHeader, Distribution, Origin, OriginGroup
from edgesim.edge.compiled import VIA, X_FORWARDED_FOR, compiled
from edgesim.edge.event_codec import cookie_header, wire_name
from edgesim.edge.flow import SentToOrigin
from edgesim.edge.message import EdgeRequest, Headers
from edgesim.edge.origin import (
    OriginClient,
    OriginFailure,
    OriginRequest,
    OriginResponse,
    origin_host,
)
from edgesim.edge.regions import nearest_region
from edgesim.errors import InputError

FAILOVER_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


_BODY_FRAMING = frozenset({"content-length", "transfer-encoding"})


def build_request(
    req: EdgeRequest,
    behavior: Behavior,
    origin: Origin,
    *,
    request_id: str,
    via_id: str,
    body: AsyncIterator[bytes] | bytes | None = None,
) -> OriginRequest:
    """The request CloudFront sends ``origin`` for ``req`` under ``behavior``'s policies, in
    one pass over the viewer's headers with the behaviour's compiled rules (the reference rules
    are :func:`edgesim.edge.policy_rules.origin_forward` and ``host_forwarded``).

    Header order: the forwarded viewer headers (in viewer order), the normalised
    Accept-Encoding, Cookie (selected and sorted), Host, X-Forwarded-For, X-Amz-Cf-Id, Via,
    User-Agent when none was forwarded, then the origin's custom headers (each replacing any
    header of its name)."""
    rules = compiled(behavior)
    headers: list[tuple[str, str]] = []
    xff: list[str] = []
    via: list[str] = []
    user_agent = False
    # No body goes to the origin (GET, HEAD): its framing headers must not either, or the
    # origin would wait for bytes that never come (a HEAD with a body, found by the fuzzer).
    framing = _BODY_FRAMING if body is None else frozenset()
    for name, value in req.headers:
        if name in framing:
            continue
        wire = rules.origin_name(name)
        if not wire:
            continue
        if wire is X_FORWARDED_FOR:
            xff.append(value)
        elif wire is VIA:
            via.append(value)
        else:
            headers.append((wire, value))
            user_agent = user_agent or name == "user-agent"
    accept_encoding = rules.origin_accept_encoding(req)
    if accept_encoding is not None:
        headers.append(("Accept-Encoding", accept_encoding))
    cookies = rules.origin_cookie_pairs(req)
    if cookies:
        headers.append(("Cookie", cookie_header(cookies)))
    if origin.host_header is not None:
        headers.append(("Host", origin.host_header))
    elif rules.host_forwarded:
        headers.append(("Host", req.header("host") or origin_host(origin)))
    else:
        headers.append(("Host", origin_host(origin)))
    # X-Forwarded-For and Via: the viewer's values (all of them) with CloudFront's appended.
    xff.append(req.client_ip)
    via.append(f"{req.http_version} {via_id}.cloudfront.net (CloudFront)")
    headers.append(("X-Forwarded-For", ", ".join(xff)))
    headers.append(("X-Amz-Cf-Id", request_id))
    headers.append(("Via", ", ".join(via)))
    if not user_agent:
        headers.append(("User-Agent", "Amazon CloudFront"))
    for custom in origin.custom_headers:
        wire = wire_name(custom.name.lower())
        headers = [(n, v) for n, v in headers if n != wire]
        headers.append((wire, custom.value))
    return OriginRequest(req.method, req.path, rules.origin_query_string(req.query), headers, body)


class OriginRoute(NamedTuple):
    """The origins a request is sent to, in order (a group: primary then secondary), and the
    statuses that fail over to the next one. Made from an origin id, a configured group, or what
    a function's origin helpers asked for. A named tuple: one is made for every request."""

    members: tuple[Origin, ...]
    failover_codes: frozenset[int] = frozenset()

    @property
    def is_group(self) -> bool:
        return len(self.members) > 1


Target = str | OriginGroup | OriginRoute  # what a behaviour or a helper assigns
# An origin-request Lambda@Edge function: the request about to go to an origin → what to send
# where (it may raise to answer instead: edgesim.edge.stages.lambdas.LambdaAnswered).
OriginRequestHook = Callable[[OriginRequest, Origin], Awaitable[tuple[OriginRequest, Origin]]]


def route_for(dist: Distribution, target: Target) -> OriginRoute:
    if isinstance(target, OriginRoute):
        return target
    if isinstance(target, OriginGroup):
        group: OriginGroup | None = target
    else:
        group = dist.origin_groups.get(target)
    if group is not None:
        members = (dist.origins[group.primary], dist.origins[group.secondary])
        return OriginRoute(members, group.failover_status_codes)
    assert isinstance(target, str)
    return OriginRoute((dist.origins[target],))


class UnmappedOrigin(OriginFailure):
    """An origin helper named a domain with no local mapping (and network origins are off)."""


def local_base(dist: Distribution, origin: Origin, pop: str = "") -> str:
    """Where ``origin`` is reached from here.

    By domain: an ``[origins_local]`` / ``--origin`` entry, or a configured origin whose id is
    that domain name; for a configured origin left as configured, also its entry by id, else its
    own URL. An entry with a bucket per region answers from the one that serves ``pop``. A
    domain an origin helper chose that nothing maps is refused (502) with the entry
    to add: edgesim goes out to the network only when the user opts in (network_origins)."""
    if not dist.origins_local and dist.origins.get(origin.id) is origin:
        return origin.url  # the common case, on every request: a configured origin as it is
    host = urlsplit(origin.url).hostname or ""
    configured = dist.origins.get(origin.id)
    unchanged = configured is not None and configured.url == origin.url
    local = dist.origins_local.get(host)
    if local is None and unchanged:
        local = dist.origins_local.get(origin.id)
    if local is not None:
        if local.url is None:
            raise OriginFailure(
                502,
                f"origin {host}: mapped to the directory {local.directory}, and serving a "
                "directory as an S3 origin is not emulated yet; map it to a URL instead",
            )
        if local.region_urls:
            # MRAP-style: the bucket of the POP's region, else the nearest (edgesim.edge.regions).
            urls = dict(local.region_urls)
            return urls[nearest_region(pop, list(urls), dict(dist.edges.pop_regions))]
        return local.url
    if unchanged or dist.server.network_origins:
        return origin.url
    named = dist.origins.get(host)
    if named is not None:
        return named.url
    raise UnmappedOrigin(
        502,
        f"origin {host} (set by an origin helper or a Lambda@Edge function) is not mapped to a "
        "local URL: add "
        f'[origins_local] "{host}" = "http://127.0.0.1:PORT" to the config, or run serve with '
        f"--origin {host}=http://127.0.0.1:PORT (or set [server] network_origins = true to "
        "reach it over the network)",
    )


async def send(
    client: OriginClient,
    dist: Distribution,
    req: EdgeRequest,
    behavior: Behavior,
    target: Target,
    *,
    request_id: str,
    via_id: str,
    body: AsyncIterator[bytes] | bytes | None = None,
    conditional: Headers | None = None,
    sent: list[SentToOrigin] | None = None,
    hook: OriginRequestHook | None = None,
) -> OriginResponse:
    """The origin's response (headers read, body not yet), failing over within a group;
    raises :class:`OriginFailure` when no member answered. Each request made is appended to
    ``sent`` (the flow's record, for the inspector)."""
    route = route_for(dist, target)
    failover = route.is_group and req.method in FAILOVER_METHODS
    last_failure: OriginFailure | None = None
    for index, origin in enumerate(route.members):
        outgoing = build_request(
            req, behavior, origin, request_id=request_id, via_id=via_id, body=body
        )
        if conditional:
            outgoing.headers += [(wire_name(n), v) for n, v in conditional]
        if hook is not None:
            # Once per origin tried: a group's secondary runs the lambda again ("Use origin
            # failover with Lambda@Edge functions").
            outgoing, origin = await hook(outgoing, origin)
        if sent is not None:
            sent.append(
                SentToOrigin(
                    origin.url, outgoing.method, outgoing.path, outgoing.query, outgoing.headers
                )
            )
        try:
            base = local_base(dist, origin, req.pop)
            response = await client.send(origin, outgoing, base_url=base)
        except OriginFailure as failure:
            last_failure = failure
            if failover and index == 0:
                continue
            raise
        if failover and index == 0 and response.status in route.failover_codes:
            response.release()
            continue
        return response
    assert last_failure is not None
    raise last_failure


def apply_origin_helpers(
    dist: Distribution, target: Target, calls: Iterable[tuple[str, Any]]
) -> tuple[Target, list[str]]:
    """Apply selectRequestOriginById / updateRequestOrigin / createRequestOriginGroup calls (in
    call order, arguments already validated) to the behaviour's origin (Developer Guide, "Helper
    methods for origin modification"); returns the new target and notes on what was recorded
    but not emulated (Origin Shield, origin access control).

    ``updateRequestOrigin`` may point anywhere: the properties it passes are merged over the
    origin the behaviour assigned (for a group, its primary), the rest inherited. Selecting an
    origin id the distribution does not have is what CloudFront refuses (InputError → 502).
    """
    notes: list[str] = []
    for helper, argument in calls:
        if helper == "selectRequestOriginById":
            wanted, overrides = (
                (argument[0], argument[1] if len(argument) > 1 else None)
                if isinstance(argument, list)
                else (argument, None)
            )
            target = OriginRoute((_configured(dist, str(wanted), helper),))
            if isinstance(overrides, dict) and overrides:
                target = _updated(dist, target, overrides, notes)
        elif helper == "updateRequestOrigin":
            target = _updated(dist, target, argument if isinstance(argument, dict) else {}, notes)
        elif helper == "createRequestOriginGroup":
            target = _group_from_helper(dist, argument)
    return target, notes


def _configured(dist: Distribution, origin_id: str, helper: str) -> Origin:
    origin = dist.origins.get(origin_id)
    if origin is None:
        raise InputError(
            f"{helper}({origin_id!r}): no origin with that id is configured "
            f"(configured: {', '.join(sorted(dist.origins))})"
        )
    return origin


def _updated(
    dist: Distribution, target: Target, props: dict[str, Any], notes: list[str]
) -> OriginRoute:
    """``target`` with its primary origin changed by updateRequestOrigin ``props``."""
    route = route_for(dist, target)
    base = route.members[0]
    changes: dict[str, Any] = {}
    domain = props.get("domainName")
    custom = _table(props, "customOriginConfig")
    if domain or custom:
        old = urlsplit(base.url)
        scheme = custom.get("protocol") or old.scheme
        host = str(domain or old.hostname or "")
        port = custom.get("port") or (None if domain else old.port)
        default_port = {"http": 80, "https": 443}.get(scheme)
        netloc = host if port in (None, default_port) else f"{host}:{port}"
        changes["url"] = f"{scheme}://{netloc}"
        if domain and "hostHeader" not in props:
            changes["host_header"] = None  # Host follows the new domain (hostHeader's default)
    if "hostHeader" in props:
        changes["host_header"] = str(props["hostHeader"])
    if "originPath" in props:
        changes["origin_path"] = str(props["originPath"])
    if isinstance(props.get("customHeaders"), dict):
        # A flat {name: value}; {} clears the origin's configured custom headers.
        headers = props["customHeaders"].items()
        changes["custom_headers"] = tuple(CustomHeader(str(n), str(v)) for n, v in headers)
    if "connectionAttempts" in props:
        changes["connection_attempts"] = int(props["connectionAttempts"])
    timeouts = _table(props, "timeouts")
    if "readTimeout" in timeouts:
        changes["response_timeout_s"] = float(timeouts["readTimeout"])
    if "connectionTimeout" in timeouts:
        changes["connect_timeout_s"] = float(timeouts["connectionTimeout"])
    for key, what in (("originShield", "Origin Shield"), ("originAccessControlConfig", "OAC")):
        if key in props:
            notes.append(f"{what} settings recorded, not emulated: {props[key]!r}")
    return OriginRoute((replace(base, **changes), *route.members[1:]), route.failover_codes)


def _table(props: dict[str, Any], key: str) -> dict[str, Any]:
    value = props.get(key)
    return value if isinstance(value, dict) else {}


def _group_from_helper(dist: Distribution, argument: dict[str, Any]) -> OriginRoute:
    """An origin group made by createRequestOriginGroup out of configured origins (strings or
    ``{originId, originOverrides}`` objects, both documented)."""
    members = []
    for item in argument["originIds"]:
        origin_id = item if isinstance(item, str) else item["originId"]
        origin = _configured(dist, origin_id, "createRequestOriginGroup")
        overrides = {} if isinstance(item, str) else item.get("originOverrides") or {}
        if overrides.get("hostHeader"):
            origin = replace(origin, host_header=str(overrides["hostHeader"]))
        members.append(origin)
    codes = frozenset(int(c) for c in argument["failoverCriteria"]["statusCodes"])
    return OriginRoute(tuple(members), codes)
