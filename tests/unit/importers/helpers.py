"""Small DistributionConfig builders for the importer tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from edgesim.errors import InputError
from edgesim.importers.apishape import Imported, to_distribution
from edgesim.importers.bundle import ImportBundle

ROOT = Path(__file__).resolve().parents[3]
DISTCONFIG = ROOT / "fixtures" / "import" / "distconfig"

CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"
SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"

APP_ORIGIN: dict[str, Any] = {
    "Id": "app",
    "DomainName": "app.example.com",
    "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"},
}
DEFAULT: dict[str, Any] = {
    "TargetOriginId": "app",
    "ViewerProtocolPolicy": "allow-all",
    "CachePolicyId": CACHING_OPTIMIZED,
}


def config(**members: Any) -> dict[str, Any]:
    """A valid DistributionConfig with one origin ``app``; ``members`` replace or add."""
    base: dict[str, Any] = {
        "CallerReference": "test",
        "Comment": "",
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [copy.deepcopy(APP_ORIGIN)]},
        "DefaultCacheBehavior": copy.deepcopy(DEFAULT),
    }
    base.update(copy.deepcopy(members))
    return base


def behavior(path: str, **members: Any) -> dict[str, Any]:
    return {"PathPattern": path, **copy.deepcopy(DEFAULT), **members}


def listing(*items: Any) -> dict[str, Any]:
    return {"Quantity": len(items), "Items": list(items)}


def convert(workdir: Path, cfg: dict[str, Any], **bundle: Any) -> Imported:
    where = bundle.pop("where", {"": "dist.json: DistributionConfig"})
    return to_distribution(
        ImportBundle(distribution_config=cfg, where=where, **bundle), workdir=workdir
    )


def problems_of(workdir: Path, cfg: dict[str, Any], **bundle: Any) -> str:
    with pytest.raises(InputError) as info:
        convert(workdir, cfg, **bundle)
    return str(info.value)
