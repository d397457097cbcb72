"""Origin stage: which origin a request goes to (the behaviour's, a group, or what a function's
origin helpers chose), the request CloudFront sends it, and failover within a group.

Facts (reference notes B.6, B.8): the origin gets ``X-Forwarded-For`` with the viewer's address
appended, ``X-Amz-Cf-Id``, ``Via``, ``User-Agent: Amazon CloudFront`` unless the viewer's is
forwarded, ``Host`` = the origin's domain unless the viewer's Host is forwarded, and the origin's
custom headers. A group fails over to its secondary for GET, HEAD and OPTIONS only, when the
primary cannot be reached or answers one of the group's failover status codes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import aiohttp

from edgesim.distribution.model import Behavior, Distribution, Origin, OriginGroup
from edgesim.edge.event_codec import cookie_header, wire_name
from edgesim.edge.message import HOP_BY_HOP, EdgeRequest, Headers
from edgesim.edge.origin import OriginClient, OriginFailure, OriginRequest, origin_host
from edgesim.edge.policy_rules import host_forwarded, origin_forward
from edgesim.errors import InputError

FAILOVER_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def build_request(
    req: EdgeRequest,
    behavior: Behavior,
    origin: Origin,
    *,
    request_id: str,
    via_id: str,
    body: AsyncIterator[bytes] | None = None,
) -> OriginRequest:
    """The request CloudFront sends ``origin`` for ``req`` under ``behavior``'s policies."""
    forward = origin_forward(req, behavior.cache_policy, behavior.origin_request_policy)
    headers = [(n, v) for n, v in forward.headers if n not in HOP_BY_HOP and n != "host"]
    if forward.cookies:
        headers = [(n, v) for n, v in headers if n != "cookie"]
        headers.append(("cookie", cookie_header(forward.cookies)))
    if host_forwarded(behavior.cache_policy, behavior.origin_request_policy):
        headers.append(("host", req.header("host") or origin_host(origin)))
    else:
        headers.append(("host", origin_host(origin)))
    # X-Forwarded-For and Via: the viewer's values (all of them) with CloudFront's appended.
    xff = [*req.header_values("x-forwarded-for"), req.client_ip]
    via = [*req.header_values("via"), f"{req.http_version} {via_id}.cloudfront.net (CloudFront)"]
    headers = [(n, v) for n, v in headers if n not in ("x-forwarded-for", "via")]
    headers.append(("x-forwarded-for", ", ".join(xff)))
    headers.append(("x-amz-cf-id", request_id))
    headers.append(("via", ", ".join(via)))
    if not any(n == "user-agent" for n, _ in headers):
        headers.append(("user-agent", "Amazon CloudFront"))
    for custom in origin.custom_headers:
        headers = [(n, v) for n, v in headers if n != custom.name.lower()]
        headers.append((custom.name.lower(), custom.value))
    return OriginRequest(
        req.method, req.path, forward.query, [(wire_name(n), v) for n, v in headers], body
    )


def members(dist: Distribution, target: str | OriginGroup) -> tuple[list[str], OriginGroup | None]:
    """The origins to try in order, and the group they belong to (None for a single origin)."""
    if isinstance(target, OriginGroup):
        return [target.primary, target.secondary], target
    group = dist.origin_groups.get(target)
    return ([group.primary, group.secondary], group) if group else ([target], None)


async def send(
    client: OriginClient,
    dist: Distribution,
    req: EdgeRequest,
    behavior: Behavior,
    target: str | OriginGroup,
    *,
    request_id: str,
    via_id: str,
    body: AsyncIterator[bytes] | None = None,
    conditional: Headers | None = None,
) -> aiohttp.ClientResponse:
    """The origin's response (headers read, body not yet), failing over within a group;
    raises :class:`OriginFailure` when no member answered."""
    ids, group = members(dist, target)
    failover = group is not None and req.method in FAILOVER_METHODS
    last_failure: OriginFailure | None = None
    for index, member in enumerate(ids):
        origin = dist.origins[member]
        outgoing = build_request(
            req, behavior, origin, request_id=request_id, via_id=via_id, body=body
        )
        if conditional:
            outgoing.headers += [(wire_name(n), v) for n, v in conditional]
        try:
            response = await client.send(origin, outgoing)
        except OriginFailure as failure:
            last_failure = failure
            if failover and index == 0:
                continue
            raise
        if failover and index == 0 and group and response.status in group.failover_status_codes:
            response.release()
            continue
        return response
    assert last_failure is not None
    raise last_failure


def apply_origin_helpers(
    dist: Distribution, target: str | OriginGroup, calls: Iterable[tuple[str, Any]]
) -> str | OriginGroup:
    """Apply selectRequestOriginById / updateRequestOrigin / createRequestOriginGroup calls (in
    call order, arguments already validated) to the configured origins.

    Locally an origin is reached by its configured URL, so a helper call must name a configured
    origin: by id, or by a domain name equal to an origin's id or URL host.
    """
    for helper, argument in calls:
        if helper == "selectRequestOriginById":
            wanted = argument[0] if isinstance(argument, list) else argument
            if wanted not in dist.origins:
                raise InputError(
                    f"selectRequestOriginById({wanted!r}): no origin with that id is configured "
                    f"(configured: {', '.join(sorted(dist.origins))})"
                )
            target = str(wanted)
        elif helper == "updateRequestOrigin":
            domain = argument.get("domainName") if isinstance(argument, dict) else None
            if domain:
                target = _origin_by_domain(dist, str(domain))
        elif helper == "createRequestOriginGroup":
            target = _group_from_helper(dist, argument)
    return target


def _group_from_helper(dist: Distribution, argument: dict[str, Any]) -> OriginGroup:
    """An origin group made by createRequestOriginGroup out of configured origins."""
    ids = []
    for item in argument["originIds"]:
        origin = item if isinstance(item, str) else item["originId"]
        if origin not in dist.origins:
            raise InputError(
                f"createRequestOriginGroup: no origin {origin!r} is configured "
                f"(configured: {', '.join(sorted(dist.origins))})"
            )
        ids.append(origin)
    codes = frozenset(int(c) for c in argument["failoverCriteria"]["statusCodes"])
    return OriginGroup("function-group", ids[0], ids[1], codes)


def _origin_by_domain(dist: Distribution, domain: str) -> str:
    for origin in dist.origins.values():
        host = origin_host(origin).split(":")[0]
        if domain in (origin.id, host):
            return origin.id
    raise InputError(
        f"updateRequestOrigin({{domainName: {domain!r}}}): no configured origin has that id or "
        "host; add an [[origins]] entry with id = the domain name to route it locally"
    )
