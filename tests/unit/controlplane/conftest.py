"""One KVS service (two POPs, 2 s lag, on a virtual clock) and the admin app over it, in-process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from edgesim.controlplane.app import make_admin_app
from edgesim.kvs.clock import VirtualClock
from edgesim.kvs.propagation import FixedLag
from edgesim.kvs.service import KvsService


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def service(clock: VirtualClock) -> Iterator[KvsService]:
    with KvsService(clock=clock, pops=("IAD", "FRA"), lag=FixedLag(2.0)) as svc:
        yield svc


@pytest.fixture
async def client(aiohttp_client: Any, service: KvsService) -> TestClient[Any, Any]:
    return await aiohttp_client(make_admin_app(service))
