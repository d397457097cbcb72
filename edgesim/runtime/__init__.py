"""The CloudFront Functions runtime: load a function, build its event, run it in QuickJS."""

from edgesim.runtime.function import BudgetPolicy, FunctionFailure, InvocationResult, LoadedFunction

__all__ = ["BudgetPolicy", "FunctionFailure", "InvocationResult", "LoadedFunction"]
