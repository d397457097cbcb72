"""[distribution]: default root object, aliases, geographic restriction."""

from __future__ import annotations

from pathlib import Path

from edgesim.distribution.model import GeoRestriction
from tests.unit.distribution.helpers import BASE, parse, problems_of


def test_defaults_without_the_table(tmp_path: Path) -> None:
    dist = parse(tmp_path, BASE)
    assert dist.default_root_object is None
    assert dist.aliases == ()
    assert dist.geo_restriction == GeoRestriction()


def test_accepted_values(tmp_path: Path) -> None:
    dist = parse(
        tmp_path,
        BASE
        + """
[distribution]
default_root_object = "index.html"
aliases = ["WWW.Example.com", "example.com"]
geo_restriction = { type = "whitelist", countries = ["de", "FR"] }
""",
    )
    assert dist.default_root_object == "index.html"
    assert dist.aliases == ("www.example.com", "example.com")
    assert dist.geo_restriction == GeoRestriction("whitelist", frozenset({"DE", "FR"}))


def test_problems_name_the_key(tmp_path: Path) -> None:
    text = problems_of(
        tmp_path,
        BASE
        + """
[distribution]
default_root_object = "/index.html"
geo_restriction = { type = "allowlist", countries = ["XX"] }
""",
    )
    assert "distribution.default_root_object: must not start with '/'" in text
    assert (
        "distribution.geo_restriction.type: must be one of none, whitelist, blacklist, got 'allowlist'"
        in text
    )
    assert "distribution.geo_restriction.countries[0]: 'XX' is not an ISO 3166-1 alpha-2" in text
