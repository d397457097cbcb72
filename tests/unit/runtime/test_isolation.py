"""Isolation between invocations: nothing user code does to shared objects reaches the next run.

Each loaded function keeps one QuickJS context (a new one per request would cost milliseconds), so
these tests run a function twice on the same ``LoadedFunction`` and check that the second run sees
pristine built-ins, and that code which leaves nothing behind keeps its context
(``sessions_built == 1``).
"""

from __future__ import annotations

import pytest

from edgesim.runtime.source import written_properties


@pytest.mark.parametrize(
    ("code", "names"),
    [
        ("e.request.uri = '/x'; e.request.headers['x-a'] = {value: 'b'};", {"uri", "x-a"}),
        (
            "o.a += 1; o.b++; delete o.c; [o.d, ...o.e] = z; ({k: o.f, m: {n: o['g']}} = z);",
            set("abcdefg"),
        ),
        ("for (o.h in z); for (o.i of z); o[0] = 1; o.#p = 2; x = o[y];", {"h", "i"}),
        ("var n = 1; n = 2; n++; delete n;", set()),
    ],
)
def test_written_property_names_are_found(code: str, names: set[str]) -> None:
    assert written_properties(code) == frozenset(names)


@pytest.mark.parametrize(
    "code",
    [
        "o[k] = 1;",
        "delete o[k];",
        "o[k]++;",
        "[o[k]] = z;",
        "o[`x`] = 1;",
        "o['\\x61'] = 1;",
        "o[Symbol.iterator] = f;",
        "function (",
    ],
)
def test_computed_or_unparsable_writes_could_be_any_name(code: str) -> None:
    assert written_properties(code) is None
