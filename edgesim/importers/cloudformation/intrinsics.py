"""The intrinsic functions: ``Stack.intrinsic`` runs ``Ref`` or an ``Fn::*`` with its function
here (the condition functions are in ``conditions``), or reports one edgesim cannot resolve;
``Stack.ref`` resolves a pseudo parameter, a parameter or a resource.

``intrinsic`` and ``ref`` are ``Stack`` methods (bound in ``stack``)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from edgesim.importers.cloudformation.conditions import fn_and, fn_equals, fn_if, fn_not, fn_or
from edgesim.importers.cloudformation.parameters import REGION
from edgesim.importers.cloudformation.values import NO_VALUE, as_text

if TYPE_CHECKING:
    from edgesim.importers.cloudformation.stack import Stack


def intrinsic(self: Stack, name: str, argument: Any, node: Any, at: str) -> Any:
    handler = _INTRINSICS.get(name)
    if handler is None:
        if name in _UNRESOLVABLE:
            raise self.fail(at, node, f"cannot resolve: {_UNRESOLVABLE[name]}")
        raise self.fail(at, node, f"unknown intrinsic function {name}")
    return handler(self, argument, node, at)


def ref(self: Stack, name: Any, node: Any, at: str) -> Any:
    if not isinstance(name, str):
        raise self.fail(at, node, "Ref takes the name of a parameter or resource")
    if name.startswith("AWS::"):
        return self.pseudo(name, node, at)
    if name in self.parameters:
        return self.parameters[name]
    if name in self.missing_parameters:
        raise self.fail(at, node, self.missing_parameters[name])
    logical_id = self.resource_id(name, node, at)
    if logical_id is None:
        return self.sam_implicit(name, None, node, at)
    return self.resource_ref(logical_id, node, at)


# -- the intrinsic functions -----------------------------------------------------------------------


def _fn_ref(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    return stack.ref(argument, node, at)


def _fn_get_att(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    if isinstance(argument, str) and "." in argument:
        argument = argument.split(".", 1)
    if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)):
        raise stack.fail(at, node, "Fn::GetAtt takes [LogicalId, Attribute]")
    logical_id = argument[0]
    attribute = stack.arg(argument[1], at)
    if not isinstance(attribute, str):
        raise stack.fail(at, node, "the attribute name must be a string")
    found = stack.resource_id(logical_id, node, at)
    if found is None:
        return stack.sam_implicit(logical_id, attribute, node, at)
    return stack.get_att(found, attribute, node, at)


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def _fn_sub(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    variables: dict[str, Any] = {}
    if isinstance(argument, list):
        if len(argument) != 2 or not isinstance(argument[1], dict):
            raise stack.fail(at, node, "Fn::Sub takes a string or [String, {Name: Value}]")
        text = stack.arg(argument[0], at)
        variables = {str(key): stack.arg(item, at) for key, item in argument[1].items()}
    else:
        text = stack.arg(argument, at)
    if not isinstance(text, str):
        raise stack.fail(at, node, "Fn::Sub needs a string")

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        name = name.strip()
        if name in variables:
            got = variables[name]
        elif "." in name and not name.startswith("AWS::"):
            got = _fn_get_att(stack, name.split(".", 1), node, at)
        else:
            got = stack.ref(name, node, at)
        if isinstance(got, list) or got is NO_VALUE or isinstance(got, dict):
            raise stack.fail(at, node, f"${{{name}}} is not a string")
        return as_text(got)

    return _SUB_VARIABLE.sub(replace, text)


def _fn_join(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    if not (isinstance(argument, list) and len(argument) == 2):
        raise stack.fail(at, node, "Fn::Join takes [Delimiter, [Values]]")
    delimiter = stack.arg(argument[0], at)
    items = stack.arg(argument[1], at)
    if not isinstance(delimiter, str) or not isinstance(items, list):
        raise stack.fail(at, node, "Fn::Join takes [Delimiter, [Values]]")
    if any(isinstance(item, list | dict) for item in items):
        raise stack.fail(at, node, "Fn::Join joins strings, not lists or mappings")
    return delimiter.join(as_text(item) for item in items)


def _fn_select(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    if not (isinstance(argument, list) and len(argument) == 2):
        raise stack.fail(at, node, "Fn::Select takes [Index, [Values]]")
    index = stack.arg(argument[0], at)
    items = stack.arg(argument[1], at)
    try:
        position = int(index)
    except (TypeError, ValueError):
        raise stack.fail(at, node, f"the index {index!r} is not a number") from None
    if not isinstance(items, list):
        raise stack.fail(at, node, "Fn::Select needs a list")
    if not 0 <= position < len(items):
        raise stack.fail(at, node, f"index {position} is out of range (the list has {len(items)})")
    return items[position]


def _fn_split(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    if not (isinstance(argument, list) and len(argument) == 2):
        raise stack.fail(at, node, "Fn::Split takes [Delimiter, String]")
    delimiter = stack.arg(argument[0], at)
    text = stack.arg(argument[1], at)
    if not isinstance(delimiter, str) or not delimiter or not isinstance(text, str):
        raise stack.fail(at, node, "Fn::Split takes [Delimiter, String]")
    return text.split(delimiter)


def _fn_find_in_map(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    if not (isinstance(argument, list) and len(argument) in (3, 4)):
        raise stack.fail(at, node, "Fn::FindInMap takes [MapName, TopLevelKey, SecondLevelKey]")
    default = NO_VALUE
    if len(argument) == 4:
        option = argument[3]
        if not (isinstance(option, dict) and set(option) == {"DefaultValue"}):
            raise stack.fail(at, node, "the fourth member of Fn::FindInMap is {DefaultValue: …}")
        default = option["DefaultValue"]
    names = [stack.arg(item, at) for item in argument[:3]]
    mappings = stack.template.get("Mappings") or {}
    current: Any = mappings
    for level, name in zip(("mapping", "key", "key"), names, strict=True):
        if not isinstance(current, dict) or as_text(name) not in current:
            if default is not NO_VALUE:
                return stack.arg(default, at)
            raise stack.fail(at, node, f"no {level} {as_text(name)!r} in Mappings")
        current = current[as_text(name)]
    return stack.arg(current, at)


def _fn_base64(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    text = stack.arg(argument, at)
    if not isinstance(text, str):
        raise stack.fail(at, node, "Fn::Base64 needs a string")
    return base64.b64encode(text.encode()).decode()


def _fn_get_azs(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    region = stack.arg(argument, at) or REGION
    return [f"{region}{zone}" for zone in "abcdef"]


def _fn_length(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    items = stack.arg(argument, at)
    if not isinstance(items, list):
        raise stack.fail(at, node, "Fn::Length needs a list")
    return len(items)


def _fn_to_json_string(stack: Stack, argument: Any, node: Any, at: str) -> Any:
    return json.dumps(stack.arg(argument, at), separators=(",", ":"))


_INTRINSICS: dict[str, Callable[[Stack, Any, Any, str], Any]] = {
    "Ref": _fn_ref,
    "Fn::GetAtt": _fn_get_att,
    "Fn::Sub": _fn_sub,
    "Fn::Join": _fn_join,
    "Fn::Select": _fn_select,
    "Fn::Split": _fn_split,
    "Fn::If": fn_if,
    "Fn::Equals": fn_equals,
    "Fn::Not": fn_not,
    "Fn::And": fn_and,
    "Fn::Or": fn_or,
    "Fn::FindInMap": _fn_find_in_map,
    "Fn::Base64": _fn_base64,
    "Fn::GetAZs": _fn_get_azs,
    "Fn::Length": _fn_length,
    "Fn::ToJsonString": _fn_to_json_string,
}


_UNRESOLVABLE = {
    "Fn::ImportValue": "the value is exported by another stack, which edgesim does not read; "
    "write the value (or a parameter) in its place",
    "Fn::Transform": "macros run in CloudFormation only; expand the template first "
    "(e.g. from the deployed stack's processed template)",
    "Fn::Cidr": "Fn::Cidr is not evaluated by edgesim",
    "Fn::ForEach": "Fn::ForEach is not expanded by edgesim",
}
