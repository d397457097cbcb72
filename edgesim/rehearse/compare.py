"""What changed between two outcomes of one request, named by kind.

A request *changed* when its outcomes differ at all (status, headers, body, what goes to the
origin); the kinds describe how, and one request may show several:

``now_error``               the proposed version fails (503/502) where the current one did not
``no_longer_error``         … the reverse
``status_changed``          the viewer's status differs
``redirect_target_changed`` the ``Location`` differs (or a redirect appears / disappears)
``uri_rewritten``           the request goes to the origin with another URI or query
``origin_changed``          … to another origin
``cohort_changed``          the viewer is assigned differently: a cookie set differently
                            (``Set-Cookie``, or the cookies sent to the origin), or a header
                            the function sets on the origin request has another value
                            (``x-cohort: a`` → ``b``)
``header_added`` / ``header_removed``  a header (to the origin, or to the viewer) is only in the
                            proposed / only in the current version
``header_changed``          a response header has another value
``other``                   anything else (a generated body, a header's order)
"""

from __future__ import annotations

from collections.abc import Iterator

from edgesim.rehearse.outcome import Outcome, Pairs

KINDS = (
    "now_error",
    "no_longer_error",
    "status_changed",
    "redirect_target_changed",
    "uri_rewritten",
    "origin_changed",
    "cohort_changed",
    "header_added",
    "header_removed",
    "header_changed",
    "other",
)
_SPECIAL = frozenset({"set-cookie", "location"})


def classify(before: Outcome, after: Outcome) -> list[tuple[str, str]]:
    """(kind, detail) for each way ``after`` differs from ``before``; [] when equal."""
    if before == after:
        return []
    found = list(_kinds(before, after))
    return found or [("other", "the outcomes differ in another way (e.g. a generated body)")]


def _kinds(b: Outcome, a: Outcome) -> Iterator[tuple[str, str]]:
    if a.error is not None and b.error is None:
        yield "now_error", a.error
    if b.error is not None and a.error is None:
        yield "no_longer_error", b.error
    if a.status != b.status:
        yield "status_changed", f"{b.status} → {a.status}"
    if a.location != b.location:
        yield "redirect_target_changed", f"{b.location or '(none)'} → {a.location or '(none)'}"
    fb, fa = b.forwarded, a.forwarded
    if fb is not None and fa is not None:
        if (fb.uri, fb.query) != (fa.uri, fa.query):
            yield "uri_rewritten", f"{_target(fb.uri, fb.query)} → {_target(fa.uri, fa.query)}"
        if fb.origin != fa.origin:
            yield "origin_changed", f"{fb.origin} → {fa.origin}"
        cookies = _changed_values(fb.cookies, fa.cookies)
        headers = _changed_values(fb.headers, fa.headers)
        if cookies or headers:
            yield (
                "cohort_changed",
                "; ".join([f"cookie {d}" for d in cookies] + [f"header {d}" for d in headers]),
            )
        yield from _presence(fb.headers, fa.headers, "to the origin")
    set_b = sorted(v for n, v in b.headers if n == "set-cookie")
    set_a = sorted(v for n, v in a.headers if n == "set-cookie")
    if set_b != set_a:
        old, new = "; ".join(set_b) or "(none)", "; ".join(set_a) or "(none)"
        yield "cohort_changed", f"set-cookie {old} → {new}"
    if a.error is None and b.error is None:
        yield from _presence(b.headers, a.headers, "to the viewer")
        changed = [d for d in _changed_values(b.headers, a.headers) if d.split(":")[0] not in
                   _SPECIAL]  # fmt: skip
        if changed:
            yield "header_changed", "; ".join(changed)


def _target(uri: str, query: str | None) -> str:
    return uri if query is None else f"{uri}?{query}"


def _grouped(pairs: Pairs) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


def _changed_values(before: Pairs, after: Pairs) -> list[str]:
    """``name: old → new`` for names present in both with other values."""
    b, a = _grouped(before), _grouped(after)
    return [
        f"{name}: {', '.join(b[name])} → {', '.join(a[name])}"
        for name in sorted(b.keys() & a.keys())
        if b[name] != a[name]
    ]


def _presence(before: Pairs, after: Pairs, where: str) -> Iterator[tuple[str, str]]:
    names_b = {n for n, _ in before} - _SPECIAL
    names_a = {n for n, _ in after} - _SPECIAL
    added, removed = sorted(names_a - names_b), sorted(names_b - names_a)
    if added:
        yield "header_added", f"{', '.join(added)} ({where})"
    if removed:
        yield "header_removed", f"{', '.join(removed)} ({where})"
