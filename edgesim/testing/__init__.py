"""Testing CloudFront Functions with edgesim: load a function, build events, inject KVS faults,
check properties. The pytest plugin (:mod:`edgesim.testing.plugin`) provides fixtures.

Names are imported lazily (PEP 562), so that loading the pytest plugin in any project that has
edgesim installed does not start the JavaScript engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "BudgetPolicy": "edgesim.runtime.function",
    "FunctionFailure": "edgesim.runtime.function",
    "InvocationResult": "edgesim.runtime.function",
    "viewer_request": "edgesim.testing.events",
    "viewer_response": "edgesim.testing.events",
    "EdgeFunction": "edgesim.testing.loading",
    "load_function": "edgesim.testing.loading",
    "FAULTS": "edgesim.testing.stores",
    "FaultyKvs": "edgesim.testing.stores",
    "ReplicatedKvs": "edgesim.testing.stores",
    "assert_sticky": "edgesim.testing.properties",
    "assert_split": "edgesim.testing.properties",
    "assert_fail_open": "edgesim.testing.properties",
    "assert_fail_secure": "edgesim.testing.properties",
    "propagation_window": "edgesim.testing.properties",
    "rehearse": "edgesim.rehearse",
    "rehearse_swap": "edgesim.rehearse.swap",
    "EdgeLambda": "edgesim.testing.lambdas",
    "lambda_event": "edgesim.testing.lambdas",
    "load_lambda": "edgesim.testing.lambdas",
}

__all__ = [
    "FAULTS",
    "BudgetPolicy",
    "EdgeFunction",
    "EdgeLambda",
    "FaultyKvs",
    "FunctionFailure",
    "InvocationResult",
    "ReplicatedKvs",
    "assert_fail_open",
    "assert_fail_secure",
    "assert_split",
    "assert_sticky",
    "lambda_event",
    "load_function",
    "load_lambda",
    "propagation_window",
    "viewer_request",
    "viewer_response",
]

if TYPE_CHECKING:
    from edgesim.runtime.function import BudgetPolicy, FunctionFailure, InvocationResult
    from edgesim.testing.events import viewer_request, viewer_response
    from edgesim.testing.lambdas import EdgeLambda, lambda_event, load_lambda
    from edgesim.testing.loading import EdgeFunction, load_function
    from edgesim.testing.properties import (
        assert_fail_open,
        assert_fail_secure,
        assert_split,
        assert_sticky,
        propagation_window,
    )
    from edgesim.testing.stores import FAULTS, FaultyKvs, ReplicatedKvs


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'edgesim.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
