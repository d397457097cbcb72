"""Conditions: ``Stack.condition`` evaluates one of the template's ``Conditions`` (once, a cycle
reported) and ``Stack.truth`` any condition expression; the functions ``Fn::If``, ``Fn::Equals``,
``Fn::Not``, ``Fn::And`` and ``Fn::Or``.

``condition`` and ``truth`` are ``Stack`` methods (bound in ``stack``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edgesim.importers.cloudformation.values import as_text

if TYPE_CHECKING:
    from edgesim.importers.cloudformation.stack import Stack


def condition(self: Stack, name: str, at: str) -> bool:
    if name in self._conditions:
        return self._conditions[name]
    conditions = self.template.get("Conditions") or {}
    if not isinstance(conditions, dict) or name not in conditions:
        raise self.fail(at, None, f"no condition named {name}")
    marker = f"Conditions.{name}"
    if marker in self._in_progress:
        raise self.fail(marker, None, "circular condition")
    self._in_progress.append(marker)
    try:
        result = self.truth(conditions[name], marker)
    finally:
        self._in_progress.pop()
    self._conditions[name] = result
    return result


def truth(self: Stack, node: Any, at: str) -> bool:
    if isinstance(node, dict) and len(node) == 1:
        ((key, argument),) = node.items()
        if key == "Condition":
            return self.condition(str(argument), at)
        if key in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"):
            return bool(self.intrinsic(key, argument, node, at))
    got = self.arg(node, at)
    if isinstance(got, bool):
        return got
    if isinstance(got, str) and got.lower() in ("true", "false"):
        return got.lower() == "true"
    raise self.fail(
        at, node, "a condition must be Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition"
    )


# -- the condition functions -----------------------------------------------------------------------


def fn_if(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    if not (isinstance(argument, list) and len(argument) == 3 and isinstance(argument[0], str)):
        raise stack.fail(at, node, "Fn::If takes [Condition, ValueIfTrue, ValueIfFalse]")
    chosen = argument[1] if stack.condition(argument[0], at) else argument[2]
    return stack.value(chosen, at)  # the branch stands where the Fn::If is


def fn_equals(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    if not (isinstance(argument, list) and len(argument) == 2):
        raise stack.fail(at, node, "Fn::Equals takes [Value1, Value2]")
    first, second = (stack.arg(item, at) for item in argument)
    if isinstance(first, list) or isinstance(second, list):
        return first == second
    return as_text(first) == as_text(second)


def fn_not(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    if not (isinstance(argument, list) and len(argument) == 1):
        raise stack.fail(at, node, "Fn::Not takes [Condition]")
    return not stack.truth(argument[0], at)


def fn_and(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    if not (isinstance(argument, list) and 2 <= len(argument) <= 10):
        raise stack.fail(at, node, "Fn::And takes 2 to 10 conditions")
    return all(stack.truth(item, at) for item in argument)


def fn_or(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    if not (isinstance(argument, list) and 2 <= len(argument) <= 10):
        raise stack.fail(at, node, "Fn::Or takes 2 to 10 conditions")
    return any(stack.truth(item, at) for item in argument)
