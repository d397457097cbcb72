"""POP replicas under random lag models, writes and clock advances.

Each POP only moves forward, always shows exactly some version the primary had (never a mix),
and once the clock has passed the largest possible lag every POP equals the primary.
"""

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from edgesim.kvs import (
    FixedLag,
    KvsService,
    LagModel,
    PerPopLag,
    UniformLag,
    VirtualClock,
)
from edgesim.kvs.reader import iso_millis

KEYS = ["a", "b", "c", "d"]
POPS = ["IAD", "NRT", "FRA", "GRU"]


@st.composite
def lag_models(draw: st.DrawFn) -> tuple[LagModel, float]:
    """A lag model and the largest delay it can produce."""
    seconds = st.floats(0, 5, allow_nan=False)
    kind = draw(st.sampled_from(["fixed", "uniform", "per_pop"]))
    if kind == "fixed":
        lag = draw(seconds)
        return FixedLag(lag), lag
    low, high = sorted([draw(seconds), draw(seconds)])
    uniform = UniformLag(low, high, seed=draw(st.none() | st.integers(0, 9)))
    if kind == "uniform":
        return uniform, high
    pinned = draw(st.dictionaries(st.sampled_from(POPS), seconds, max_size=2))
    return PerPopLag(pinned, uniform), max([high, *pinned.values()])


class Propagation(RuleBasedStateMachine):
    @initialize(
        model=lag_models(),
        pop_count=st.integers(1, len(POPS)),
        seed=st.integers(0, 2**32),
        items=st.dictionaries(st.sampled_from(KEYS), st.text(max_size=3), max_size=3),
    )
    def start(
        self, model: tuple[LagModel, float], pop_count: int, seed: int, items: dict[str, str]
    ) -> None:
        self.lag, self.max_lag = model
        self.clock = VirtualClock()
        self.kvs = KvsService(clock=self.clock, pops=POPS[:pop_count], lag=self.lag, seed=seed)
        info = self.kvs.create_store("s", items=items)
        self.etag = info.etag
        self.history = {1: (dict(items), iso_millis(info.last_modified))}  # version -> state
        self.latest = 1
        self.seen = dict.fromkeys(self.kvs.pops, 1)
        self.replicas = {pop: self.kvs.replica_of("s", pop) for pop in self.kvs.pops}

    def teardown(self) -> None:
        if hasattr(self, "kvs"):
            self.kvs.close()

    @rule(
        puts=st.dictionaries(st.sampled_from(KEYS), st.text(max_size=3), max_size=3),
        deletes=st.sets(st.sampled_from(KEYS), max_size=2),
    )
    def write(self, puts: dict[str, str], deletes: set[str]) -> None:
        deletes -= set(puts)
        if not puts and not deletes:
            return
        result = self.kvs.update_keys(
            "s", puts=list(puts.items()), deletes=sorted(deletes), if_match=self.etag
        )
        self.etag = result.etag
        items = {k: v for k, v in self.history[self.latest][0].items() if k not in deletes}
        items.update(puts)
        self.latest += 1
        self.history[self.latest] = (items, iso_millis(self.kvs.describe("s").last_modified))

    @rule(seconds=st.floats(0, 3, allow_nan=False))
    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @rule()
    def settle(self) -> None:
        self.clock.advance(self.max_lag + 0.001)
        primary = self.kvs.export("s")
        for pop, replica in self.replicas.items():
            assert replica.version == self.latest, pop
            assert {k: v for k in KEYS if (v := replica.get(k)) is not None} == primary
        assert all(s.pending == () for s in self.kvs.propagation_status("s"))

    @invariant()
    def pops_show_whole_versions_and_only_move_forward(self) -> None:
        if not hasattr(self, "kvs"):
            return
        for status in self.kvs.propagation_status("s"):
            assert all(
                v > status.version and 0 < left <= self.max_lag + 1e-9 for v, left in status.pending
            )
        for pop, replica in self.replicas.items():
            snap = replica.snapshot()
            assert snap.version >= self.seen[pop], f"{pop} went back"
            self.seen[pop] = snap.version
            items, stamp = self.history[snap.version]
            assert {k: v for k in KEYS if (v := snap.get(k)) is not None} == items
            assert snap.meta()["keyCount"] == len(items)
            assert snap.meta()["lastUpdatedDateTime"] == stamp


TestPropagation = Propagation.TestCase
