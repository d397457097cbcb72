"""``[edges]``: the POPs, KVS propagation delays, CIDR maps to POPs and countries, the default
country and the GeoIP database."""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from edgesim.distribution.model import CidrRule, Edges
from edgesim.distribution.tables import Context, Problems, Table, num, suggest, toml_type

EDGES_KEYS = (
    "pops",
    "propagation",
    "propagation_per_pop",
    "pop_cidrs",
    "country_cidrs",
    "default_country",
    "geoip_database",
)
PROPAGATION_KEYS = {
    "fixed": ("model", "lag_ms", "per_pop_ms"),
    "uniform": ("model", "min_ms", "max_ms", "seed", "per_pop_ms"),
}

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
    propagation = _propagation(t) or dict(defaults.propagation)
    per_pop = _per_pop_lags(t, pops)
    if per_pop:
        # edgesim.kvs.propagation reads pinned POPs from the spec itself ("per_pop_ms"); keeping
        # them there too means the spec alone describes the whole lag model.
        propagation["per_pop_ms"] = dict(per_pop)
    return Edges(
        pops=pops,
        propagation=propagation,
        propagation_per_pop=per_pop,
        pop_cidrs=_cidr_rules(t, "pop_cidrs", lambda v: _pop_ref(v, pops)),
        country_cidrs=_cidr_rules(t, "country_cidrs", _country_problem),
        default_country=_country(t, defaults.default_country),
        geoip_database=geoip,
    )


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


def _propagation(t: Table) -> dict[str, object] | None:
    data = t.table("propagation")
    if data is None:
        return None
    model = data.get("model")
    if not isinstance(model, str) or model not in PROPAGATION_KEYS:
        models = ", ".join(PROPAGATION_KEYS)
        t.error("propagation", f"model must be one of {models}, got {model!r}")
        return None
    sub = Table(t.problems, t.at("propagation"), data, PROPAGATION_KEYS[model])
    if model == "fixed":
        return {"model": "fixed", "lag_ms": _ms(sub, "lag_ms", 0)}
    return _uniform(sub)


def _ms(sub: Table, key: str, default: float) -> float:
    """A duration in ms ≥ 0, kept as written (int or float) for edgesim.kvs.propagation."""
    value = sub.number(key, default, lo=0)
    raw = sub.raw(key)
    return raw if isinstance(raw, int | float) and raw == value else default


def _uniform(sub: Table) -> dict[str, object]:
    for key in ("min_ms", "max_ms"):
        if not sub.has(key):
            sub.error(key, "is required for the uniform model")
    low = _ms(sub, "min_ms", 0)
    high = _ms(sub, "max_ms", low)
    if low > high:
        sub.error("max_ms", f"{num(high)} is below min_ms ({num(low)})")
    spec: dict[str, object] = {"model": "uniform", "min_ms": low, "max_ms": high}
    if sub.has("seed"):
        spec["seed"] = sub.integer("seed", 0)
    return spec


def _per_pop_lags(t: Table, pops: Sequence[str]) -> dict[str, float]:
    """Pinned per-POP delays from ``[edges.propagation_per_pop]`` and ``propagation.per_pop_ms``."""
    lags: dict[str, float] = {}
    propagation = t.raw("propagation")
    sources = [(t.at("propagation_per_pop"), t.table("propagation_per_pop"))]
    if isinstance(propagation, dict):
        found = propagation.get("per_pop_ms")
        if found is not None and not isinstance(found, dict):
            t.error("propagation.per_pop_ms", f"expected a table, got {toml_type(found)}")
        sources.append((t.at("propagation.per_pop_ms"), found if isinstance(found, dict) else None))
    for where, data in sources:
        if data is not None:
            _read_lags(Table(t.problems, where, data, list(data)), pops, lags)
    return lags


def _read_lags(table: Table, pops: Sequence[str], lags: dict[str, float]) -> None:
    for pop in table.data:
        if pop not in pops:
            table.error(pop, f"POP {pop!r} is not in edges.pops{suggest(pop, pops)}")
        elif pop in lags:
            table.error(pop, f"POP {pop!r} already has a delay (set it in one place)")
        else:
            lags[pop] = table.number(pop, 0.0, lo=0)


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
