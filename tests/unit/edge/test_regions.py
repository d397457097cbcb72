"""Which region serves a POP: [edges] pop_regions over the defaults, and the nearest bucket of an
MRAP-style origin."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim.distribution.config import load_config
from edgesim.edge.places import AIRPORTS, REGION_POSITIONS
from edgesim.edge.regions import nearest_region, region_of
from edgesim.edge.viewer import POP_REGIONS
from edgesim.errors import InputError


def test_a_pop_belongs_to_its_default_region_unless_configured() -> None:
    assert region_of("FRA50-C1") == "eu-central-1"
    assert region_of("FRA50-C1", {"FRA": "eu-west-1"}) == "eu-west-1"
    assert region_of("FRA50-C1", {"FRA50-C1": "eu-south-1", "FRA": "eu-west-1"}) == "eu-south-1"
    assert region_of("XYZ") == "us-east-1"


def test_the_pops_own_region_wins_else_the_nearest() -> None:
    buckets = ["us-east-1", "eu-west-1", "ap-northeast-1"]
    assert nearest_region("DUB", buckets) == "eu-west-1"  # its own region
    assert nearest_region("FRA", buckets) == "eu-west-1"  # eu-central-1 has no bucket
    assert nearest_region("ORD", buckets) == "us-east-1"
    assert nearest_region("SIN", buckets) == "ap-northeast-1"
    assert nearest_region("FRA", buckets, {"FRA": "ap-northeast-1"}) == "ap-northeast-1"


def test_every_default_region_and_airport_has_a_place() -> None:
    assert set(POP_REGIONS) <= set(AIRPORTS)
    assert set(POP_REGIONS.values()) <= set(REGION_POSITIONS)


@given(
    st.sampled_from(sorted(AIRPORTS)),
    st.lists(st.sampled_from(sorted(REGION_POSITIONS)), min_size=1, unique=True),
)
def test_the_chosen_region_is_always_one_with_a_bucket(pop: str, buckets: list[str]) -> None:
    assert nearest_region(pop, buckets) in buckets


def test_pop_regions_are_read_and_checked(tmp_path: Path) -> None:
    config = tmp_path / "edgesim.toml"
    base = '[[origins]]\nid = "a"\nurl = "http://127.0.0.1:9"\n[default_behavior]\norigin = "a"\n'
    config.write_text(
        base + '[edges]\npops = ["FRA", "IAD"]\npop_regions = { FRA = "eu-west-1" }\n'
    )
    assert load_config(config).edges.pop_regions == (("FRA", "eu-west-1"),)
    config.write_text(base + '[edges]\npop_regions = { FRA = "Frankfurt" }\n')
    with pytest.raises(InputError, match="'Frankfurt' is not an AWS region name"):
        load_config(config)
