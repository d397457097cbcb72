"""The CloudFront Functions runtime: load a function, build its event, run it in QuickJS."""

from edgesim.runtime.engine import FunctionSyntaxError
from edgesim.runtime.function import (
    BudgetPolicy,
    CompatibilityError,
    FailureKind,
    FunctionFailure,
    InvocationResult,
    LoadedFunction,
    OriginModification,
    ResultKind,
)

__all__ = [
    "BudgetPolicy",
    "CompatibilityError",
    "FailureKind",
    "FunctionFailure",
    "FunctionSyntaxError",
    "InvocationResult",
    "LoadedFunction",
    "OriginModification",
    "ResultKind",
]
