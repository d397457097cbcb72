"""Viewer traffic for the soak: concurrent aiohttp clients at several POPs, and the tally that
classifies every outcome as healthy, an expected fault or unexpected.

A request is a :class:`Shot` (method, path, POP); :func:`classify` decides from the shot and
what came back. Expected faults are only the ones the scenario provokes on ``/fault/*``; every
other 4xx/5xx, transport error, wrong body or missing function header is unexpected and kept
(the first few in full) for the failure message.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp

from tests.reliability.soak import scenario
from tests.reliability.soak.origin import CUT_ANNOUNCED, static_body

STATIC_OBJECTS = 120
PAGES = 40
BIG_OBJECTS = 2
KEEP_UNEXPECTED = 10


@dataclass(frozen=True)
class Shot:
    method: str
    path: str
    pop: str | None  # None: no x-edgesim-pop header (serve picks the first POP)
    abort: bool = False  # the viewer goes away once the response headers arrived

    @property
    def kind(self) -> str:
        return self.path.split("/")[1]


@dataclass
class Outcome:
    shot: Shot
    status: int | None
    headers: dict[str, str]
    body: bytes
    error: str | None  # a transport error while reading, e.g. the body broke off
    elapsed_s: float


@dataclass
class Versions:
    """What the test has written so far; responses may show any version up to these."""

    function: int = 0
    config: int = 0
    seed: int = 0


@dataclass
class Tally:
    sent: int = 0
    by_class: Counter[str] = field(default_factory=Counter)
    expected_faults: Counter[str] = field(default_factory=Counter)
    x_cache: Counter[str] = field(default_factory=Counter)
    healthy_latency_s: list[float] = field(default_factory=list)
    latency_by_kind: dict[str, list[float]] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)
    unexpected_count: int = 0

    def add(self, outcome: Outcome, problem: str | None, fault: str | None) -> None:
        self.sent += 1
        status = outcome.status
        self.by_class[f"{status // 100}xx" if status else "no response"] += 1
        self.x_cache[outcome.headers.get("x-cache", "-").split(" from ")[0]] += 1
        if problem is not None:
            self.unexpected_count += 1
            if len(self.unexpected) < KEEP_UNEXPECTED:
                self.unexpected.append(describe(outcome, problem))
        elif fault is not None:
            self.expected_faults[fault] += 1
        else:
            self.healthy_latency_s.append(outcome.elapsed_s)
            kind = "big" if "/big-" in outcome.shot.path else outcome.shot.kind
            self.latency_by_kind.setdefault(kind, []).append(outcome.elapsed_s)

    def latency_ms(self, samples: list[float] | None = None) -> dict[str, float]:
        """p50 and p99 of healthy requests (all, or the ``samples`` given), in ms."""
        ordered = sorted(self.healthy_latency_s if samples is None else samples)
        if len(ordered) < 2:
            return {}
        cuts = statistics.quantiles(ordered, n=100, method="inclusive")
        return {"p50": round(cuts[49] * 1000, 1), "p99": round(cuts[98] * 1000, 1)}


def describe(outcome: Outcome, problem: str) -> str:
    shot = outcome.shot
    keep = {
        k: v for k, v in outcome.headers.items() if k.startswith("x-") or k in ("server", "via")
    }
    return (
        f"{shot.method} {shot.path} (POP {shot.pop or 'default'}): {problem}; "
        f"status {outcome.status}, error {outcome.error!r}, {outcome.elapsed_s * 1000:.0f} ms, "
        f"headers {keep}, body {outcome.body[:200]!r}"
    )


def classify(outcome: Outcome, versions: Versions) -> tuple[str | None, str | None]:
    """(problem, expected fault): at most one is set; both None for a healthy response."""
    shot, status = outcome.shot, outcome.status
    if shot.abort:
        if status is not None and 200 <= status < 400:
            return None, "viewer left"
        return f"unexpected status {status} before the viewer left", None
    if shot.path == "/fault/503":
        return (None, "503") if status == 503 and outcome.error is None else ("not a 503", None)
    if shot.path == "/fault/slow":
        return (None, "504") if status == 504 and outcome.error is None else ("not a 504", None)
    if shot.path == "/fault/cut":
        if status == 200 and outcome.error is not None and len(outcome.body) < CUT_ANNOUNCED:
            return None, "cut"
        return "not a 200 whose body breaks off", None
    if outcome.error is not None:
        return "transport error", None
    if status == 304:
        # No viewer here sends a conditional request: a 304 would be serve's own revalidation's
        # answer passed on (test_soak.py::test_a_revalidation_raced_by_an_invalidation_…).
        return "a 304 to a request without conditions", None
    if status is None or not (200 <= status < 400):
        return f"unexpected status {status}", None
    return check_body(outcome, versions), None


def check_body(outcome: Outcome, versions: Versions) -> str | None:
    shot, headers = outcome.shot, outcome.headers
    kind = shot.kind
    if kind in ("static", "page"):
        name = shot.path.rsplit("/", 1)[1]
        expected = b"" if shot.method == "HEAD" else static_body(name)
        if outcome.body != expected:
            return f"body differs from the origin's ({len(outcome.body)} of {len(expected)} bytes)"
    if kind in ("static", "api"):
        version = headers.get("x-fn-version")
        if version is None or not 0 <= int(version) <= versions.function:
            return f"viewer-response function header x-fn-version={version!r}"
    if kind in ("static", "api", "page"):
        config = headers.get("x-soak-config", "")
        if not config.startswith("c") or not 0 <= int(config[1:]) <= versions.config:
            return f"response headers policy header x-soak-config={config!r}"
    if kind == "kvs" and headers.get("x-kvs-found") not in ("0", "1"):
        return "the KVS probe function did not answer"
    return None


def pick_shot(rng: random.Random, kvs_keys: list[str]) -> Shot:
    roll = rng.random()
    pop = None if rng.random() < 0.05 else rng.choice(scenario.POPS)
    if roll < 0.01:
        return Shot(rng.choice(("GET", "HEAD")), f"/static/big-{rng.randrange(BIG_OBJECTS)}", pop)
    if roll < 0.02:
        path = rng.choice((f"/static/big-{rng.randrange(BIG_OBJECTS)}", "/page/p-0", "/api/x"))
        return Shot("GET", path, pop, abort=True)
    if roll < 0.50:
        return Shot("GET", f"/static/obj-{rng.randrange(STATIC_OBJECTS)}", pop)
    if roll < 0.54:
        return Shot("HEAD", f"/static/obj-{rng.randrange(STATIC_OBJECTS)}", pop)
    if roll < 0.68:
        return Shot("GET", f"/page/p-{rng.randrange(PAGES)}", pop)
    if roll < 0.82:
        return Shot("GET", f"/api/item-{rng.randrange(10_000)}?q={rng.randrange(100)}", pop)
    if roll < 0.935:
        return Shot("GET", f"/kvs/{rng.choice(kvs_keys)}", pop)
    if roll < 0.965:
        return Shot("GET", "/fault/503", pop)
    if roll < 0.99:
        return Shot("GET", "/fault/cut", pop)
    return Shot("GET", "/fault/slow", pop)


async def fire(session: aiohttp.ClientSession, base: str, shot: Shot) -> Outcome:
    headers = {"x-edgesim-pop": shot.pop} if shot.pop else {}
    start = time.perf_counter()
    status, got, body, error = None, {}, b"", None
    try:
        async with session.request(shot.method, base + shot.path, headers=headers) as response:
            status = response.status
            got = {k.lower(): v for k, v in response.headers.items()}
            if shot.abort:
                response.close()  # drops the connection with the body unread
                return Outcome(shot, status, got, b"", None, time.perf_counter() - start)
            try:
                async for chunk in response.content.iter_any():
                    body += chunk
            except aiohttp.ClientError as exc:
                error = f"{type(exc).__name__}: {exc}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    return Outcome(shot, status, got, body, error, time.perf_counter() - start)


async def client_loop(
    index: int,
    base: str,
    until: float,
    tally: Tally,
    versions: Versions,
    kvs_keys: list[str],
) -> None:
    """One viewer: a request, a short pause, again, until ``until`` (loop time). Client 0
    opens a new connection for every request; the others keep theirs alive."""
    rng = random.Random(index)
    connector = aiohttp.TCPConnector(limit=1, force_close=index == 0)
    timeout = aiohttp.ClientTimeout(total=30)
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        while loop.time() < until:
            outcome = await fire(session, base, pick_shot(rng, kvs_keys))
            problem, fault = classify(outcome, versions)
            tally.add(outcome, problem, fault)
            await asyncio.sleep(rng.uniform(0.03, 0.09))  # moderate: ~150 requests/s in all


async def prime(base: str, tally: Tally, versions: Versions) -> None:
    """Fetch every cacheable object at every POP once, so that the caches hold their full set
    before RSS is measured."""
    shots = [
        Shot("GET", f"/{kind}/{prefix}-{n}", pop)
        for pop in scenario.POPS
        for kind, prefix, count in (("static", "obj", STATIC_OBJECTS), ("page", "p", PAGES))
        for n in range(count)
    ]
    queue: asyncio.Queue[Shot] = asyncio.Queue()
    for shot in shots:
        queue.put_nowait(shot)

    async def worker() -> None:
        async with aiohttp.ClientSession() as session:
            while not queue.empty():
                outcome = await fire(session, base, queue.get_nowait())
                tally.add(outcome, *classify(outcome, versions))

    await asyncio.gather(*(worker() for _ in range(8)))
