"""[cache]: the edge cache's memory and disk budgets (issue 17 part 4), and ``shared`` for
``serve --workers N`` (issue 12)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgesim.distribution.model import CacheSettings
from tests.unit.distribution.helpers import BASE, assert_problem, named_cases, parse


def cache(body: str) -> str:
    return BASE + "[cache]\n" + body + "\n"


def test_defaults_are_the_documented_ones(project: Path) -> None:
    dist = parse(project, BASE)
    assert dist.cache == CacheSettings(memory_limit_mb=256, disk_limit_mb=8_192)
    assert dist.cache.memory_limit_bytes == 256 * 1_048_576
    assert dist.cache.disk_limit_bytes == 8 * 1_073_741_824


def test_values_are_read_in_mib(project: Path) -> None:
    dist = parse(project, cache("memory_limit_mb = 16\ndisk_limit_mb = 0"))
    assert dist.cache.memory_limit_bytes == 16 * 1_048_576
    assert dist.cache.disk_limit_bytes == 0


def test_shared_is_off_unless_asked_for(project: Path) -> None:
    assert parse(project, BASE).cache.shared is False
    assert parse(project, cache("shared = true")).cache.shared is True


CASES = named_cases(
    [
        (
            "cache-not-table",
            "cache = 5\n" + BASE,
            "edgesim.toml: cache: expected a table ([cache]), got integer",
        ),
        (
            "memory-string",
            cache('memory_limit_mb = "64MB"'),
            "edgesim.toml: cache.memory_limit_mb: expected an integer, got string '64MB'",
        ),
        (
            "memory-float",
            cache("memory_limit_mb = 1.5"),
            "edgesim.toml: cache.memory_limit_mb: expected an integer, got float 1.5",
        ),
        (
            "memory-zero",
            cache("memory_limit_mb = 0"),
            "edgesim.toml: cache.memory_limit_mb: 0 is out of range",
        ),
        (
            "memory-in-bytes-by-mistake",
            cache("memory_limit_mb = 268435456"),
            "edgesim.toml: cache.memory_limit_mb: 268435456 is out of range",
        ),
        (
            "disk-negative",
            cache("disk_limit_mb = -1"),
            "edgesim.toml: cache.disk_limit_mb: -1 is out of range",
        ),
        (
            "disk-bool",
            cache("disk_limit_mb = true"),
            "edgesim.toml: cache.disk_limit_mb: expected an integer, got boolean True",
        ),
        (
            "shared-string",
            cache('shared = "yes"'),
            "edgesim.toml: cache.shared: expected true or false, got string 'yes'",
        ),
        (
            "unknown-key",
            cache("memory_limit = 64"),
            "edgesim.toml: cache.memory_limit: unknown key (did you mean 'memory_limit_mb'?)",
        ),
    ]
)


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_bad_values_name_the_key(project: Path, text: str, expected: str) -> None:
    assert_problem(project, text, expected)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=50)
@given(memory=st.integers(1, 1_048_576), disk=st.integers(0, 1_073_741_824))
def test_every_value_in_range_is_kept(project: Path, memory: int, disk: int) -> None:
    dist = parse(project, cache(f"memory_limit_mb = {memory}\ndisk_limit_mb = {disk}"))
    assert (dist.cache.memory_limit_mb, dist.cache.disk_limit_mb) == (memory, disk)
