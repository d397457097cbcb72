"""``[edges]``: the POPs, KVS propagation delays, CIDR maps to POPs and countries, the default
country and the GeoIP database."""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from edgesim.distribution.model import CidrRule, Edges
from edgesim.distribution.tables import Context, Problems, Table, suggest, toml_type
from edgesim.kvs.propagation import (
    PropagationSpec,
    PropagationSpecError,
    as_model,
    model_problem,
)

EDGES_KEYS = (
    "pops",
    "propagation",
    "propagation_per_pop",
    "pop_cidrs",
    "country_cidrs",
    "default_country",
    "geoip_database",
    "pop_regions",
)
# The keys of the ``propagation`` table for each model (edgesim.kvs.propagation.MODELS).
PROPAGATION_KEYS = {
    "fixed": ("model", "lag_ms", "per_pop_ms"),
    "uniform": ("model", "min_ms", "max_ms", "seed", "per_pop_ms"),
}

# The propagation of an [edges] table that sets none (neither `propagation` nor
# `propagation_per_pop`): each write reaches each POP after its own delay, drawn uniformly from
# 2–10 s, seeded so that a run replays. AWS documents propagation only as "a few seconds" (no SLA);
# one field run measured 21–26 s at one POP (reference: cloudfront-functions-runtime.md §4.1).
# 2–10 s is "a few seconds" with a spread wide enough that POPs disagree for a while, so code that
# assumes read-after-write fails locally as it would in production, while the dev loop stays
# usable. `propagation = { model = "fixed", lag_ms = 0 }` makes writes instant again.
DEFAULT_PROPAGATION = PropagationSpec("uniform", min_ms=2_000.0, max_ms=10_000.0, seed=0)

_POP_CODE = re.compile(r"[A-Z]{3}[A-Z0-9-]{0,12}")
_COUNTRY_CODE = re.compile(r"[A-Z]{2}")


def read_edges(ctx: Context, data: Mapping[str, Any]) -> Edges:
    t = ctx.table("edges", data, EDGES_KEYS)
    defaults = Edges()
    pops = _pops(t) or defaults.pops
    geoip = (
        ctx.existing_file(t, "geoip_database", "GeoIP database")
        if t.has("geoip_database")
        else None
    )
    propagation = _propagation(t, pops)
    return Edges(
        pops=pops,
        propagation=propagation,
        pop_cidrs=_cidr_rules(t, "pop_cidrs", lambda v: _pop_ref(v, pops)),
        country_cidrs=_cidr_rules(t, "country_cidrs", _country_problem),
        default_country=_country(t, defaults.default_country),
        geoip_database=geoip,
        pop_regions=_pop_regions(t),
    )


# An AWS region name (us-east-1, eu-west-2, ap-southeast-4, us-gov-west-1, ...).
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")


def _pop_regions(t: Table) -> tuple[tuple[str, str], ...]:
    """``pop_regions = { FRA = "eu-west-1", "NRT12-C1" = "ap-northeast-3" }``: which region's
    regional edge cache a POP (a full name or its three-letter code) belongs to, over edgesim's
    defaults (edgesim.edge.viewer.POP_REGIONS). Used for Lambda@Edge's AWS_REGION and to route
    MRAP-style local origins."""
    table = t.table("pop_regions")
    if table is None:
        return ()
    pairs = []
    for pop, region in table.items():
        where = f"pop_regions.{pop}"
        if not _POP_CODE.fullmatch(pop):
            t.error("pop_regions", f"{pop!r} is not a POP code like 'IAD' or 'FRA50'")
        elif not isinstance(region, str) or not _REGION.fullmatch(region):
            t.error(where, f"{region!r} is not an AWS region name such as 'eu-west-1'")
        else:
            pairs.append((pop, region))
    return tuple(pairs)


def _pops(t: Table) -> tuple[str, ...] | None:
    pops = t.texts("pops")
    if pops is None:
        return None
    if not pops:
        t.error("pops", "must list at least one POP")
        return None
    for pop in pops:
        if not _POP_CODE.fullmatch(pop):
            upper = f" (did you mean {pop.upper()!r}?)" if _POP_CODE.fullmatch(pop.upper()) else ""
            t.error("pops", f"{pop!r} is not a POP code like 'IAD' or 'FRA50'{upper}")
    for pop in sorted({p for p in pops if pops.count(p) > 1}):
        t.error("pops", f"{pop!r} is listed twice")
    return tuple(dict.fromkeys(pops))


def _propagation(t: Table, pops: Sequence[str]) -> PropagationSpec:
    """``propagation`` and the per-POP delays of either spelling, as one spec;
    ``DEFAULT_PROPAGATION`` when neither is written.

    Keys and value types are read here; the spec checks the values themselves (ranges, min ≤
    max), and each problem it finds is reported where that value was written."""
    if not t.has("propagation") and not t.has("propagation_per_pop"):
        return DEFAULT_PROPAGATION
    fields = _propagation_fields(t)
    per_pop, written_at = _per_pop_lags(t, pops)
    try:
        return PropagationSpec(**fields, per_pop_ms=per_pop)
    except PropagationSpecError as exc:
        for key, message in exc.problems:
            name, _, pop = key.partition(".")
            where = written_at[pop] if name == "per_pop_ms" else t.at(f"propagation.{key}")
            t.problems.add(where, message)
        return PropagationSpec()


def _propagation_fields(t: Table) -> dict[str, Any]:
    """The ``PropagationSpec`` fields written in the ``propagation`` table."""
    data = t.table("propagation")
    if data is None:
        return {}
    model = as_model(data.get("model"))
    if model is None:
        t.error("propagation", model_problem(data.get("model")))
        return {}
    sub = Table(t.problems, t.at("propagation"), data, PROPAGATION_KEYS[model])
    if model == "fixed":
        return {"model": model, "lag_ms": sub.number("lag_ms", 0.0)}
    for key in ("min_ms", "max_ms"):
        if not sub.has(key):
            sub.error(key, "is required for the uniform model")
    low = sub.number("min_ms", 0.0)
    # A missing max_ms (reported just above) takes a value the spec accepts.
    high = sub.number("max_ms", max(low, 0.0))
    seed = sub.integer("seed", 0) if sub.has("seed") else None
    return {"model": model, "min_ms": low, "max_ms": high, "seed": seed}


def _per_pop_lags(t: Table, pops: Sequence[str]) -> tuple[dict[str, float], dict[str, str]]:
    """Pinned per-POP delays from ``[edges.propagation_per_pop]`` and ``propagation.per_pop_ms``,
    and where each was written."""
    lags: dict[str, float] = {}
    written_at: dict[str, str] = {}
    propagation = t.raw("propagation")
    sources = [(t.at("propagation_per_pop"), t.table("propagation_per_pop"))]
    if isinstance(propagation, dict):
        found = propagation.get("per_pop_ms")
        if found is not None and not isinstance(found, dict):
            t.error("propagation.per_pop_ms", f"expected a table, got {toml_type(found)}")
        sources.append((t.at("propagation.per_pop_ms"), found if isinstance(found, dict) else None))
    for where, data in sources:
        if data is not None:
            table = Table(t.problems, where, data, list(data))
            for pop in table.data:
                if pop not in pops:
                    table.error(pop, f"POP {pop!r} is not in edges.pops{suggest(pop, pops)}")
                elif pop in lags:
                    table.error(pop, f"POP {pop!r} already has a delay (set it in one place)")
                else:
                    lags[pop] = table.number(pop, 0.0)
                    written_at[pop] = table.at(pop)
    return lags, written_at


def _pop_ref(value: str, pops: Sequence[str]) -> str | None:
    if value in pops:
        return None
    return f"POP {value!r} is not in edges.pops{suggest(value, pops)}"


def _country_problem(value: str) -> str | None:
    if _COUNTRY_CODE.fullmatch(value):
        return None
    return f"{value!r} is not an ISO 3166-1 alpha-2 country code like 'DE'"


def _country(t: Table, default: str) -> str:
    value = t.text("default_country", default) or default
    problem = _country_problem(value)
    if problem:
        t.error("default_country", problem)
        return default
    return value


def _cidr_rules(
    t: Table, key: str, check_value: Callable[[str], str | None]
) -> tuple[CidrRule, ...]:
    data = t.table(key)
    if data is None:
        return ()
    rules = []
    for network, value in data.items():
        where = t.at(f'{key}."{network}"')
        normalised = _network(t.problems, where, network)
        if not isinstance(value, str):
            t.problems.add(where, f"expected a string, got {toml_type(value)} {value!r}")
            continue
        problem = check_value(value)
        if problem:
            t.problems.add(where, problem)
        elif normalised is not None:
            rules.append(CidrRule(network=normalised, value=value))
    return tuple(rules)


def _network(problems: Problems, where: str, text: str) -> str | None:
    try:
        return str(ipaddress.ip_network(text, strict=True))
    except ValueError as exc:
        hint = ""
        with contextlib.suppress(ValueError):
            hint = f" (did you mean {str(ipaddress.ip_network(text, strict=False))!r}?)"
        problems.add(where, f"{text!r} is not a network in CIDR notation: {exc}{hint}")
        return None
