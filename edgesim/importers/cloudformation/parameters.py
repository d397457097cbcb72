"""What a stack is given: the pseudo parameters (``AWS::Region``, ``AWS::AccountId``,
``AWS::StackName``, …) and the values of the template's ``Parameters`` (their defaults, the
``--parameter`` overrides, ``AllowedValues``, list types), which ``Ref`` reads.

``pseudo`` is a ``Stack`` method (bound in ``stack``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from edgesim.errors import InputError
from edgesim.importers.bundle import ACCOUNT
from edgesim.importers.cloudformation.values import NO_VALUE, as_text

if TYPE_CHECKING:
    from edgesim.importers.cloudformation.stack import Stack


REGION = "us-east-1"
PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"


def pseudo(self: Stack, name: str, node: Any, at: str) -> Any:
    values: dict[str, Any] = {
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "AWS::StackName": self.name,
        "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{self.name}/"
        + str(uuid.uuid5(uuid.NAMESPACE_URL, f"edgesim:{self.name}")),
        "AWS::Partition": PARTITION,
        "AWS::URLSuffix": URL_SUFFIX,
        "AWS::NotificationARNs": [],
        "AWS::NoValue": NO_VALUE,
    }
    if name not in values:
        raise self.fail(at, node, f"unknown pseudo parameter {name}")
    return values[name]


def parameter_values(stack: Stack, overrides: Mapping[str, str]) -> None:
    declared = stack.template.get("Parameters") or {}
    if not isinstance(declared, dict):
        raise stack.fail("Parameters", None, "must be a mapping")
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        names = ", ".join(sorted(declared)) or "none"
        raise InputError(
            f"{stack.label}: --parameter {unknown[0]}: the template has no such parameter "
            f"(its parameters: {names})"
        )
    for name, spec in declared.items():
        spec = spec if isinstance(spec, dict) else {}
        kind = str(spec.get("Type", "String"))
        if name in overrides:
            raw: Any = overrides[name]
        elif "Default" in spec:
            raw = spec["Default"]
            if kind.startswith("AWS::SSM::Parameter::Value<"):
                stack.missing_parameters[name] = (
                    f"parameter {name} is read from the SSM parameter {raw!r} when deployed: "
                    f"pass --parameter {name}=VALUE"
                )
                continue
        else:
            stack.missing_parameters[name] = (
                f"parameter {name} has no Default: pass --parameter {name}=VALUE"
            )
            continue
        allowed = spec.get("AllowedValues")
        if isinstance(allowed, list) and as_text(raw) not in [as_text(item) for item in allowed]:
            raise stack.fail(
                f"Parameters.{name}",
                None,
                f"{as_text(raw)!r} is not one of its AllowedValues "
                f"({', '.join(as_text(item) for item in allowed)})",
            )
        if kind == "CommaDelimitedList" or kind.startswith("List<"):
            items = raw if isinstance(raw, list) else as_text(raw).split(",")
            stack.parameters[name] = [as_text(item).strip() for item in items]
        else:
            stack.parameters[name] = as_text(raw)
