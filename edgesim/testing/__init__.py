"""Testing CloudFront Functions with edgesim: load a function, build events, inject KVS faults,
check properties. The pytest plugin (:mod:`edgesim.testing.plugin`) provides fixtures."""

from edgesim.runtime.function import FunctionFailure, InvocationResult
from edgesim.testing.events import viewer_request, viewer_response
from edgesim.testing.loading import EdgeFunction, load_function
from edgesim.testing.stores import FAULTS, FaultyKvs, ReplicatedKvs

__all__ = [
    "FAULTS",
    "EdgeFunction",
    "FaultyKvs",
    "FunctionFailure",
    "InvocationResult",
    "ReplicatedKvs",
    "load_function",
    "viewer_request",
    "viewer_response",
]
