"""Structured mutations of parsed documents (TOML, JSON, YAML) for the fuzzers: a value replaced by
one of another type, an out-of-range or non-finite number, an odd string, a key deleted, an
unknown key added, a value wrapped in a list, a reference renamed to nothing."""

from __future__ import annotations

import copy
import datetime
import math
from typing import Any

from hypothesis import strategies as st

odd_numbers = st.sampled_from(
    [0, -1, 1, 65535, 65536, 2**31, 2**63 - 1, -(2**63), 0.5, -0.0, 1e308, -1e308, 1e-320]
) | st.sampled_from([math.nan, math.inf, -math.inf])
odd_strings = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\t\n",
        "é",
        "😀",
        "../../../etc/passwd",
        "/",
        "*",
        "http://",
        "http://[::1",
        "127.0.0.1:99999",
        "x" * 5000,
        "CachingOptimised",
        "managed-cachingoptimized",
        "viewer-request",
        "NaN",
    ]
) | st.text(max_size=12)
odd_scalars = (
    odd_numbers
    | odd_strings
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.just(datetime.datetime(2026, 1, 1, 0, 0))
    | st.just(datetime.date(2026, 1, 1))
)
odd_values = st.recursive(
    odd_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)

Path_ = tuple[str | int, ...]


def paths(doc: Any, here: Path_ = ()) -> list[Path_]:
    """Every place in a document (tables, arrays and leaves), the root excepted."""
    found: list[Path_] = [here] if here else []
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += paths(value, (*here, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found += paths(value, (*here, index))
    return found


def parent_of(doc: Any, path: Path_) -> Any:
    for step in path[:-1]:
        doc = doc[step]
    return doc


@st.composite
def mutated(draw: st.DrawFn, original: Any, *, max_mutations: int = 3) -> tuple[Any, list[str]]:
    """A copy of ``original`` with 1–``max_mutations`` mutations; returns it and what was done."""
    doc = copy.deepcopy(original)
    done = []
    for _ in range(draw(st.integers(1, max_mutations))):
        places = paths(doc)
        if not places:
            break
        path = places[draw(st.integers(0, len(places) - 1))]
        parent, last = parent_of(doc, path), path[-1]
        action = draw(
            st.sampled_from(["replace", "replace", "odd", "delete", "unknown", "wrap", "rename"])
        )
        if action == "replace":
            parent[last] = draw(odd_values)
        elif action == "odd":
            parent[last] = draw(
                odd_numbers if isinstance(parent[last], int | float) else odd_strings
            )
        elif action == "delete":
            del parent[last]
        elif action == "unknown":
            target = parent[last] if isinstance(parent[last], dict) else parent
            if isinstance(target, dict):
                target[draw(st.sampled_from(["unknown", "Id", "origin_id", "ttl"]))] = draw(
                    odd_scalars
                )
            else:
                target.append(draw(odd_values))
        elif action == "wrap":
            parent[last] = [parent[last]]
        elif isinstance(parent[last], str):  # rename: a reference to nothing, a near miss
            parent[last] = parent[last] + draw(st.sampled_from(["x", "-2", " ", "."]))
        done.append(f"{action} {'/'.join(map(str, path))}")
    return doc, done
