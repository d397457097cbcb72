"""The CloudFront Functions runtime: load a function, build its event, run it in QuickJS."""

from edgesim.runtime.function import (
    BudgetPolicy,
    FailureKind,
    FunctionFailure,
    InvocationResult,
    LoadedFunction,
    OriginModification,
    ResultKind,
)

__all__ = [
    "BudgetPolicy",
    "FailureKind",
    "FunctionFailure",
    "InvocationResult",
    "LoadedFunction",
    "OriginModification",
    "ResultKind",
]
