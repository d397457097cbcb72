from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from edgesim.kvs import KvsService, VirtualClock

START = datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


@pytest.fixture
def kvs(clock: VirtualClock) -> Iterator[KvsService]:
    service = KvsService(clock=clock)
    yield service
    service.close()
