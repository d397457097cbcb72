"""KeyValueStore: store model and limits, persistence, per-POP replicas, and the read interface.

Knows nothing of HTTP (``edgesim.controlplane``) or QuickJS (``edgesim.runtime``).
"""

from edgesim.kvs.clock import Clock, RealClock, VirtualClock
from edgesim.kvs.propagation import (
    FixedLag,
    LagModel,
    PerPopLag,
    PropagationSpec,
    PropagationSpecError,
    UniformLag,
)
from edgesim.kvs.reader import KvsReader, StaticKvs, store_arn
from edgesim.kvs.replicas import Replica, ReplicaSnapshot
from edgesim.kvs.service import KvsService, PopStatus, StoreInfo, WriteResult

__all__ = [
    "Clock",
    "FixedLag",
    "KvsReader",
    "KvsService",
    "LagModel",
    "PerPopLag",
    "PopStatus",
    "PropagationSpec",
    "PropagationSpecError",
    "RealClock",
    "Replica",
    "ReplicaSnapshot",
    "StaticKvs",
    "StoreInfo",
    "UniformLag",
    "VirtualClock",
    "WriteResult",
    "store_arn",
]
