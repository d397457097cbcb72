"""``--generate N``: viewer requests drawn from edgesim's hypothesis strategies
(:mod:`edgesim.strategies`) for the distribution's behaviours — a path matching each
behaviour's pattern, a method it allows, generated headers, cookies and query strings, an
address, a country and a POP — with a fixed seed, so a run repeats exactly (with the same
hypothesis version).

Every behaviour is drawn from (the default one too), whatever its share of real traffic: the
point is to exercise every piece of code the swap touches.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as fixed_seed
from hypothesis import strategies as st

from edgesim import strategies as es
from edgesim.distribution.model import Behavior, Distribution
from edgesim.errors import InputError
from edgesim.rehearse.traffic import TrafficRecord

# The generated requests' arrival times: one a second from 2026-01-01T00:00:00Z (a fixed clock,
# so that code reading Date.now() behaves the same on every run).
START_MS = 1_767_225_600_000.0
# Characters a '*' or '?' of a path pattern stands for (path-safe; '*' may span '/').
_PATH_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-_."


def pattern_paths(pattern: str) -> st.SearchStrategy[str]:
    """Paths that a CloudFront path pattern (``*`` any run of characters, ``?`` one) matches."""
    if pattern in ("*", "/*"):
        return es.uris(max_length=120)
    # CloudFront matches a pattern from the path's root whether or not it starts with '/'
    # ("images/*.jpg" is "/images/*.jpg"): generate the part after the first slash.
    body = pattern[1:] if pattern.startswith("/") else pattern
    parts: list[st.SearchStrategy[str]] = []
    literal = ""
    for char in body:
        if char in "*?":
            if literal:
                parts.append(st.just(literal))
                literal = ""
            if char == "*":
                segment = st.text(_PATH_CHARS, max_size=8)
                parts.append(st.lists(segment, max_size=3).map("/".join))
            else:
                parts.append(st.sampled_from(_PATH_CHARS))
        else:
            literal += char
    if literal:
        parts.append(st.just(literal))
    return st.tuples(*parts).map(lambda pieces: "/" + "".join(pieces))


def _requests_for(behavior: Behavior, dist: Distribution) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "uri": pattern_paths(behavior.path),
            "method": st.sampled_from(sorted(behavior.allowed_methods)),
            "query": st.none() | es.query_strings(max_params=4),
            "headers": es.headers(max_headers=4),
            "cookies": es.cookies(max_cookies=3),
            "host": st.just(dist.server.domain_name) | es.hosts(),
            "user_agent": st.none() | es.user_agents(),
            "ip": st.one_of(es.ipv4_addresses(), es.ipv6_addresses()),
            "country": st.none() | es.countries(),
            "pop": st.sampled_from(dist.edges.pops),
        }
    )


def _record(drawn: dict[str, Any], index: int) -> TrafficRecord:
    headers: list[tuple[str, str]] = [("host", drawn["host"])]
    for name, value in drawn["headers"].items():
        if name in ("host", "cookie", "user-agent"):
            continue
        for one in value if isinstance(value, list) else [value]:
            headers.append((name.lower(), one))
    if drawn["user_agent"] is not None:
        headers.append(("user-agent", drawn["user_agent"]))
    cookies = [
        f"{name}={one}"
        for name, value in drawn["cookies"].items()
        for one in (value if isinstance(value, list) else [value])
    ]
    if cookies:
        headers.append(("cookie", "; ".join(cookies)))
    return TrafficRecord(
        method=drawn["method"],
        uri=drawn["uri"],
        query=drawn["query"],
        headers=headers,
        ip=drawn["ip"],
        port=40_000 + index % 20_000,
        country=drawn["country"],
        pop=drawn["pop"],
        time_ms=START_MS + 1000 * index,
    )


def generate_records(dist: Distribution, count: int, *, seed: int = 0) -> list[TrafficRecord]:
    """``count`` requests (fewer only if the strategies cannot make that many distinct ones)."""
    behaviors = (*dist.behaviors, dist.default_behavior)
    strategy = st.one_of([_requests_for(b, dist) for b in behaviors])
    drawn: list[dict[str, Any]] = []

    @fixed_seed(seed)
    @settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(strategy)
    def collect(request: dict[str, Any]) -> None:
        drawn.append(request)

    try:
        collect()
    except Exception as exc:  # hypothesis refuses a strategy: a bad pattern in the config
        raise InputError(f"--generate: cannot generate requests: {exc}") from None
    return [_record(d, i) for i, d in enumerate(drawn[:count])]
