"""Per-POP replicas: landing times, forward-only views, metadata, snapshots."""

import random
import threading

import pytest

from edgesim.errors import KvsNotFound
from edgesim.kvs import FixedLag, KvsService, PerPopLag, UniformLag, VirtualClock
from edgesim.kvs.replicas import SETTLE_AFTER
from tests.unit.kvs.conftest import START


class ScriptedLag:
    """Lags taken in order from a list, whatever the POP."""

    def __init__(self, lags: list[float]) -> None:
        self._lags = iter(lags)

    def lag_seconds(self, pop: str, rng: random.Random) -> float:
        return next(self._lags)


def test_zero_lag_is_read_your_writes(kvs: KvsService) -> None:
    etag = kvs.create_store("s").etag
    replica = kvs.replica("s", "LOCAL")
    kvs.put_key("s", "k", "v", if_match=etag)
    assert replica.get("k") == "v"


def test_write_lands_per_pop_after_its_lag(clock: VirtualClock) -> None:
    lag = PerPopLag({"NRT": 10.0}, FixedLag(2.0))
    with KvsService(clock=clock, pops=("IAD", "NRT"), lag=lag) as kvs:
        etag = kvs.create_store("s", items={"k": "old"}).etag
        iad, nrt = kvs.replica("s", "IAD"), kvs.replica("s", "NRT")
        kvs.put_key("s", "k", "new", if_match=etag)
        assert kvs.get_key("s", "k") == "new"  # the API reads the primary
        assert (iad.get("k"), nrt.get("k")) == ("old", "old")
        clock.advance(1.999)
        assert iad.get("k") == "old"
        clock.advance(0.001)
        assert (iad.get("k"), nrt.get("k")) == ("new", "old")
        clock.advance(8)
        assert nrt.get("k") == "new"


def test_later_version_landing_first_makes_the_pop_jump(clock: VirtualClock) -> None:
    with KvsService(clock=clock, lag=ScriptedLag([5.0, 1.0])) as kvs:
        etag = kvs.create_store("s").etag
        replica = kvs.replica_of("s", "LOCAL")
        etag = kvs.put_key("s", "a", "1", if_match=etag).etag  # v2 lands at 5
        kvs.put_key("s", "b", "2", if_match=etag)  # v3 lands at 1
        clock.advance(1)
        assert (replica.version, replica.get("a"), replica.get("b")) == (3, "1", "2")
        [status] = kvs.propagation_status("s")
        assert (status.version, status.pending) == (3, ())  # v2 was overtaken, never comes back
        clock.advance(10)
        assert replica.version == 3


def test_propagation_status_gives_each_pops_version_and_pending_landings(
    clock: VirtualClock,
) -> None:
    with KvsService(clock=clock, pops=("IAD", "NRT"), lag=ScriptedLag([1, 4, 3, 2])) as kvs:
        created = kvs.create_store("s")
        second = kvs.put_key("s", "a", "1", if_match=created.etag)  # IAD at 1, NRT at 4
        third = kvs.put_key("s", "b", "2", if_match=second.etag)  # IAD at 3, NRT at 2
        iad, nrt = kvs.propagation_status(created.name)
        assert (iad.pop, iad.version, iad.etag, iad.pending) == (
            "IAD",
            1,
            created.etag,
            ((2, 1), (3, 3)),
        )
        assert (nrt.version, nrt.pending) == (1, ((2, 4), (3, 2)))
        clock.advance(2)
        iad, nrt = kvs.propagation_status(created.name)
        assert (iad.version, iad.etag, iad.pending) == (2, second.etag, ((3, 1),))
        assert (nrt.version, nrt.etag, nrt.pending) == (3, third.etag, ())


def test_meta_reports_the_version_the_pop_holds(clock: VirtualClock) -> None:
    with KvsService(clock=clock, lag=FixedLag(3)) as kvs:
        etag = kvs.create_store("s", items={"a": "1"}).etag
        replica = kvs.replica("s", "LOCAL")
        clock.advance(60.1234)
        kvs.put_key("s", "b", "2", if_match=etag)
        stamp = "2025-01-02T03:04:05.678Z"
        assert replica.meta() == {
            "creationDateTime": stamp,
            "lastUpdatedDateTime": stamp,
            "keyCount": 1,
        }
        clock.advance(3)
        assert replica.meta() == {
            "creationDateTime": stamp,
            "lastUpdatedDateTime": "2025-01-02T03:05:05.801Z",  # when the write was made
            "keyCount": 2,
        }


def test_snapshot_is_frozen_for_an_invocation(clock: VirtualClock) -> None:
    with KvsService(clock=clock) as kvs:
        etag = kvs.create_store("s", items={"a": "1", "b": "1"}).etag
        replica = kvs.replica_of("s", "LOCAL")
        snap = replica.snapshot()
        kvs.update_keys("s", puts=[("a", "2"), ("b", "2")], if_match=etag)
        assert (snap.get("a"), snap.get("b"), snap.version) == ("1", "1", 1)
        assert replica.get("a") == "2"
        assert snap.meta()["keyCount"] == 2
        assert (snap.arn, snap.store_id) == (replica.arn, replica.store_id)


def test_one_replica_per_store_and_pop_and_an_unknown_pop_is_named(kvs: KvsService) -> None:
    info = kvs.create_store("s")
    replica = kvs.replica(info.arn, "LOCAL")
    assert replica is kvs.replica("s", "LOCAL")
    assert (replica.store_id, replica.arn) == (info.id, info.arn)
    with pytest.raises(KvsNotFound, match=r"unknown POP 'XYZ'; configured POPs: LOCAL"):
        kvs.replica("s", "XYZ")
    with pytest.raises(KvsNotFound):
        kvs.replica("nope", "LOCAL")


def test_deleted_store_replica_stays_frozen(clock: VirtualClock) -> None:
    with KvsService(clock=clock, lag=FixedLag(5)) as kvs:
        etag = kvs.create_store("s", items={"a": "1"}).etag
        replica = kvs.replica("s", "LOCAL")
        kvs.put_key("s", "a", "2", if_match=etag)
        kvs.delete_store("s")
        clock.advance(10)
        assert replica.get("a") == "1"
        with pytest.raises(KvsNotFound):
            kvs.replica("s", "LOCAL")


def test_unread_pops_do_not_grow_the_log(clock: VirtualClock) -> None:
    with KvsService(clock=clock, pops=("IAD", "NRT"), lag=FixedLag(1)) as kvs:
        etag = kvs.create_store("s").etag
        for i in range(5 * SETTLE_AFTER):
            etag = kvs.put_key("s", f"k{i % 7}", str(i), if_match=etag).etag
            clock.advance(0.5)
        replicas = kvs._replicas[kvs.describe("s").id]
        assert len(replicas._log) <= SETTLE_AFTER + 1
        clock.advance(1)
        assert kvs.replica("s", "NRT").get("k0") == kvs.get_key("s", "k0")


def test_lag_draws_are_reproducible_with_the_seed() -> None:
    def landing_times(seed: int) -> list[tuple[tuple[int, float], ...]]:
        clock = VirtualClock(START)
        with KvsService(clock=clock, pops=("A", "B"), lag=UniformLag(0, 10), seed=seed) as kvs:
            etag = kvs.create_store("s").etag
            for i in range(3):
                etag = kvs.put_key("s", "k", str(i), if_match=etag).etag
            return [s.pending for s in kvs.propagation_status("s")]

    assert landing_times(1) == landing_times(1)
    assert landing_times(1) != landing_times(2)


def test_concurrent_readers_see_whole_versions() -> None:
    """Readers on other threads never see half of a batch, and never go backwards."""
    with KvsService(pops=("IAD", "NRT")) as kvs:
        etag = kvs.create_store("s", items={"a": "0", "b": "0"}).etag
        stop = threading.Event()
        problems: list[str] = []

        def read(pop: str) -> None:
            replica = kvs.replica_of("s", pop)
            last = -1
            while not stop.is_set():
                snap = replica.snapshot()
                a, b = snap.get("a"), snap.get("b")
                if a != b:
                    problems.append(f"{pop}: torn read a={a} b={b}")
                if int(a or 0) < last:
                    problems.append(f"{pop}: went back from {last} to {a}")
                last = int(a or 0)

        threads = [threading.Thread(target=read, args=(p,)) for p in ("IAD", "NRT", "IAD")]
        for thread in threads:
            thread.start()
        for i in range(1, 300):
            etag = kvs.update_keys("s", puts=[("a", str(i)), ("b", str(i))], if_match=etag).etag
        stop.set()
        for thread in threads:
            thread.join()
        assert problems == []
        assert kvs.replica("s", "NRT").get("a") == "299"
