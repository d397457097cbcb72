"""edgesim.stores: the KVS service a distribution declares, and its seed files.

Behaviour relied on (module docstring; docs/configuration.md ``[server]``, ``[[kvs]]`` and
``[edges]``): KVS data persists in ``state_dir`` between runs unless ``ephemeral = true`` (then
nothing is written); every store has a replica per POP in ``[edges] pops`` and writes reach them
after the ``propagation`` delay, on the edge's clock; a declared store is created, from its seed
file (CloudFront's import format) when it has one; a changed seed file is applied as one ordinary
write of what changed (API writes to other keys survive), an unchanged one writes nothing.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edgesim.distribution.model import Distribution
from edgesim.errors import KvsImportError
from edgesim.kvs.clock import VirtualClock
from edgesim.kvs.service import KvsService
from edgesim.stores import kvs_service_for, sync_kvs_seeds
from tests.unit.edge.stages.conftest import BASE, make_dist

START = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


def seed(*items: tuple[str, str]) -> str:
    rows = ", ".join(f'{{"key": "{k}", "value": "{v}"}}' for k, v in items)
    return f'{{"data": [{rows}]}}'


def dist_for(tmp_path: Path, server: str = "ephemeral = true", extra: str = "") -> Distribution:
    text = f"[server]\n{server}\n" + textwrap.dedent(BASE) + textwrap.dedent(extra)
    return make_dist(tmp_path, text)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


# --- kvs_service_for -------------------------------------------------------------------------


def test_ephemeral_writes_nothing_to_state_dir(tmp_path: Path, clock: VirtualClock) -> None:
    dist = dist_for(tmp_path, 'ephemeral = true\nstate_dir = "state"')
    with kvs_service_for(dist, clock=clock) as service:
        service.create_store("site", items={"a": "1"})
        assert service.get_key("site", "a") == "1"
    assert not (tmp_path / "state").exists()


def test_persisted_state_lives_in_state_dir_and_survives_a_restart(
    tmp_path: Path, clock: VirtualClock
) -> None:
    dist = dist_for(tmp_path, 'state_dir = "state/nested"')
    with kvs_service_for(dist, clock=clock) as service:
        service.create_store("site", items={"a": "1"})
    assert (tmp_path / "state" / "nested" / "kvs.sqlite3").is_file()
    with kvs_service_for(dist, clock=clock) as again:
        assert again.export("site") == {"a": "1"}


def test_pops_and_the_clock_come_from_the_distribution(tmp_path: Path, clock: VirtualClock) -> None:
    dist = dist_for(tmp_path, extra='[edges]\npops = ["IAD", "FRA50"]\n')
    with kvs_service_for(dist, clock=clock) as service:
        assert service.pops == ("IAD", "FRA50")
        assert service.clock is clock
        assert service.create_store("site").created == START


def test_writes_reach_each_pop_after_the_configured_propagation_delay(
    tmp_path: Path, clock: VirtualClock
) -> None:
    extra = """
    [edges]
    pops = ["IAD", "NRT"]
    propagation = { model = "fixed", lag_ms = 2000, per_pop_ms = { NRT = 8000 } }
    """
    dist = dist_for(tmp_path, extra=extra)
    with kvs_service_for(dist, clock=clock) as service:
        etag = service.create_store("site", items={"k": "old"}).etag
        service.put_key("site", "k", "new", if_match=etag)
        iad, nrt = service.replica("site", "IAD"), service.replica("site", "NRT")
        assert (iad.get("k"), nrt.get("k")) == ("old", "old")
        clock.advance(2.0)
        assert (iad.get("k"), nrt.get("k")) == ("new", "old")
        clock.advance(6.0)
        assert nrt.get("k") == "new"


def test_a_seeded_uniform_model_replays_the_same_delays(tmp_path: Path) -> None:
    extra = """
    [edges]
    pops = ["IAD", "FRA", "NRT"]
    propagation = { model = "uniform", min_ms = 1000, max_ms = 9000, seed = 7 }
    """
    dist = dist_for(tmp_path, extra=extra)

    def arrivals() -> list[tuple[str, float]]:
        clock = VirtualClock(START)
        with kvs_service_for(dist, clock=clock) as service:
            etag = service.create_store("site").etag
            service.put_key("site", "k", "v", if_match=etag)
            return sorted(
                (status.pop, lands_in)
                for status in service.propagation_status("site")
                for _, lands_in in status.pending
            )

    first = arrivals()
    assert len(first) == 3
    assert all(1.0 <= s <= 9.0 for _, s in first)
    assert arrivals() == first


# --- sync_kvs_seeds --------------------------------------------------------------------------

STORES = """
[[kvs]]
name = "empty"

[[kvs]]
name = "site"
data = "seed.json"

[edges]
propagation = { model = "fixed", lag_ms = 2000 }
"""


@pytest.fixture
def seeded(tmp_path: Path) -> Distribution:
    (tmp_path / "seed.json").write_text(seed(("a", "1"), ("b", "2")))
    return dist_for(tmp_path, extra=STORES)


@pytest.fixture
def service(seeded: Distribution, clock: VirtualClock) -> Iterator[KvsService]:
    with kvs_service_for(seeded, clock=clock) as svc:
        yield svc


def test_declared_stores_are_created_and_seeded(
    seeded: Distribution, service: KvsService, tmp_path: Path
) -> None:
    notes = sync_kvs_seeds(service, seeded)
    assert notes == [
        "kvs empty: created (empty)",
        f"kvs site: seeded from {tmp_path / 'seed.json'} (2 keys)",
    ]
    assert service.export("empty") == {}
    assert service.export("site") == {"a": "1", "b": "2"}
    # A new store's seed is at every POP at once.
    assert service.replica("site", "IAD").get("a") == "1"


def test_an_unchanged_seed_file_reports_and_writes_nothing(
    seeded: Distribution, service: KvsService
) -> None:
    sync_kvs_seeds(service, seeded)
    etag = service.describe("site").etag
    assert sync_kvs_seeds(service, seeded) == []
    assert service.describe("site").etag == etag


def test_an_unchanged_seed_is_not_reapplied_after_a_restart(
    tmp_path: Path, clock: VirtualClock
) -> None:
    (tmp_path / "seed.json").write_text(seed(("a", "1")))
    dist = dist_for(tmp_path, 'state_dir = "state"', STORES)
    with kvs_service_for(dist, clock=clock) as service:
        assert len(sync_kvs_seeds(service, dist)) == 2
        etag = service.describe("site").etag
        service.put_key("site", "a", "from the API", if_match=etag)
    with kvs_service_for(dist, clock=clock) as service:
        assert sync_kvs_seeds(service, dist) == []
        assert service.export("site") == {"a": "from the API"}


def test_a_changed_seed_applies_only_the_difference_and_reports_it(
    seeded: Distribution, service: KvsService, clock: VirtualClock, tmp_path: Path
) -> None:
    sync_kvs_seeds(service, seeded)
    etag = service.describe("site").etag
    # API writes: one to a seed key the next seed leaves alone, one to a key of its own.
    etag = service.put_key("site", "b", "api", if_match=etag).etag
    service.put_key("site", "c", "api", if_match=etag)
    clock.advance(2.0)
    (tmp_path / "seed.json").write_text(seed(("a", "10"), ("b", "2"), ("d", "4")))
    notes = sync_kvs_seeds(service, seeded)
    assert notes == [f"kvs site: seeded from {tmp_path / 'seed.json'} (4 keys)"]
    assert service.export("site") == {"a": "10", "b": "api", "c": "api", "d": "4"}
    # The change is an ordinary write: it reaches the POP after the propagation delay.
    iad = service.replica("site", "IAD")
    assert (iad.get("a"), iad.get("d")) == ("1", None)
    clock.advance(2.0)
    assert (iad.get("a"), iad.get("d")) == ("10", "4")
    # A key dropped from the seed file is deleted; the API's keys stay.
    (tmp_path / "seed.json").write_text(seed(("a", "10"), ("b", "2")))
    assert len(sync_kvs_seeds(service, seeded)) == 1
    assert service.export("site") == {"a": "10", "b": "api", "c": "api"}


def test_an_invalid_seed_file_raises_an_error_naming_the_file(
    seeded: Distribution, service: KvsService, tmp_path: Path
) -> None:
    sync_kvs_seeds(service, seeded)
    path = tmp_path / "seed.json"
    path.write_text('{"data": [{"key": "a"}]}')
    with pytest.raises(KvsImportError) as caught:
        sync_kvs_seeds(service, seeded)
    assert str(path) in str(caught.value)
    assert "data[0]" in str(caught.value)
    assert service.export("site") == {"a": "1", "b": "2"}  # the store keeps its data


def test_a_seed_that_is_not_json_raises_an_error_naming_the_file(
    seeded: Distribution, service: KvsService, tmp_path: Path
) -> None:
    (tmp_path / "seed.json").write_text("{not json")
    with pytest.raises(KvsImportError, match="not valid JSON") as caught:
        sync_kvs_seeds(service, seeded)
    assert str(tmp_path / "seed.json") in str(caught.value)
