"""A worker's follower KVS holds, at every POP and every clock reading, exactly what the control
process's KVS holds: the same versions and items, landing at the same moments, whether the
follower started before the writes, in the middle of them (pending landings included) or after;
store creations and deletions included."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgesim.errors import KvsNotFound
from edgesim.kvs import UniformLag, VirtualClock
from edgesim.workers.follower import FollowerKvs
from edgesim.workers.supervisor import LeaderKvs

POPS = ("IAD", "FRA", "NRT")
KEYS = st.sampled_from(["a", "b", "c"])

# One step: a put, a delete, a clock move (ms), or the follower starting now.
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("put"), KEYS, st.text(min_size=1, max_size=3)),
        st.tuples(st.just("delete"), KEYS, st.just("")),
        st.tuples(st.just("tick"), st.integers(0, 3000).map(str), st.just("")),
        st.tuples(st.just("follow"), st.just(""), st.just("")),
    ),
    max_size=40,
)


def _same(leader: LeaderKvs, follower: FollowerKvs) -> None:
    for pop in POPS:
        ours = leader.replica_of("flags", pop).snapshot()
        theirs = follower.replica_of("flags", pop).snapshot()
        assert theirs.version == ours.version, pop
        assert {k: theirs.get(k) for k in "abc"} == {k: ours.get(k) for k in "abc"}, pop
        assert theirs.meta() == ours.meta()


@settings(max_examples=60, deadline=None)
@given(steps=STEPS, seed=st.integers(0, 2**16))
def test_a_follower_sees_what_the_leader_sees_at_every_pop_and_moment(
    steps: list[tuple[str, str, str]], seed: int
) -> None:
    clock = VirtualClock()
    with LeaderKvs(clock=clock, pops=POPS, lag=UniformLag(0.0, 2.0), seed=seed) as leader:
        leader.create_store("flags", items={"a": "1"})
        follower: FollowerKvs | None = None
        for op, key, value in [*steps, ("follow", "", "")]:
            if op == "put":
                leader.put_key("flags", key, value, if_match=leader.describe("flags").etag)
            elif op == "delete":
                leader.delete_key("flags", key, if_match=leader.describe("flags").etag)
            elif op == "tick":
                clock.advance(int(key) / 1000)
            elif follower is None:  # a worker starts: the leader's state, as sent (pickled)
                follower = FollowerKvs(
                    POPS, clock.monotonic, pickle.loads(pickle.dumps(leader.snapshot()))
                )
            if follower is not None:
                follower.apply(pickle.loads(pickle.dumps(leader.take_events())))
                _same(leader, follower)
        assert follower is not None
        clock.advance(3.0)  # everything landed everywhere
        _same(leader, follower)


def test_stores_created_and_deleted_after_the_start_follow_too() -> None:
    clock = VirtualClock()
    with LeaderKvs(clock=clock, pops=POPS) as leader:
        follower = FollowerKvs(POPS, clock.monotonic, leader.snapshot())
        info = leader.create_store("late", items={"k": "v"})
        follower.apply(leader.take_events())
        assert follower.replica_of("late", "NRT").get("k") == "v"
        assert follower.replica_of(info.arn, "IAD").get("k") == "v"  # by ARN, as functions do
        assert follower.replica_of(info.id, "IAD").get("k") == "v"
        leader.delete_store("late")
        follower.apply(leader.take_events())
        with pytest.raises(KvsNotFound, match="no key value store 'late'"):
            follower.replica_of("late", "IAD")
        leader.create_store("other")
        follower.apply(leader.take_events())
        with pytest.raises(KvsNotFound, match="unknown POP 'XXX'"):
            follower.replica_of("other", "XXX")


def test_a_refused_write_sends_nothing() -> None:
    with LeaderKvs(clock=VirtualClock(), pops=POPS) as leader:
        leader.create_store("flags")
        leader.take_events()
        with pytest.raises(Exception, match="ETag"):
            leader.put_key("flags", "a", "1", if_match="wrong")
        assert leader.take_events() == ()
