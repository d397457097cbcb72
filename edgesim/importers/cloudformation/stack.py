"""``Stack``: one template being read — its file, name, parameter values and sections, its
properties with every intrinsic function resolved, its errors, and the nested stacks it creates;
``open_stack`` reads a template into one.

The methods that resolve intrinsic functions, conditions and resources' values are defined in
their own modules (``intrinsics``, ``conditions``, ``parameters``, ``attributes``,
``placeholders``) and bound to ``Stack`` here. Nested stacks are read here, with ``open_stack``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgesim.errors import InputError
from edgesim.importers.cloudformation import attributes, conditions, intrinsics, placeholders
from edgesim.importers.cloudformation import parameters as _parameters  # a field is `parameters`
from edgesim.importers.cloudformation.assets import AssetResolver
from edgesim.importers.cloudformation.parameters import parameter_values
from edgesim.importers.cloudformation.template import read_template
from edgesim.importers.cloudformation.values import NO_VALUE, as_text, json_form, short_form

_SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
_KNOWN_TRANSFORMS = (_SAM_TRANSFORM, "AWS::LanguageExtensions")


@dataclass
class Stack:
    """One template being read: its file, name, parameter values, and what resolving it found."""

    path: Path
    label: str  # how messages name the file
    template: dict[str, Any]
    name: str
    short_forms: bool  # render expressions in messages as YAML short forms
    parameters: dict[str, Any] = field(default_factory=dict)
    missing_parameters: dict[str, str] = field(default_factory=dict)  # name → why it has no value
    assets: AssetResolver | None = None
    construct_paths: dict[str, str] = field(default_factory=dict)  # logical id → CDK path
    function_arns: dict[str, str] = field(default_factory=dict)  # ARN → logical id
    kvs_arns: dict[str, str] = field(default_factory=dict)  # ARN → logical id
    # Lambda version ARN → (the stack, the function's logical id); shared with nested stacks
    # and, for CDK, with the us-east-1 stacks of EdgeFunctions (``lambdas``).
    lambda_arns: dict[str, tuple[Stack, str]] = field(default_factory=dict)
    # SSM parameter name → (stack, logical id) of the AWS::SSM::Parameter that writes it (CDK).
    ssm_parameters: dict[str, tuple[Stack, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    children: dict[str, Stack] = field(default_factory=dict)  # nested stacks, by logical id
    _conditions: dict[str, bool] = field(default_factory=dict)
    _in_progress: list[str] = field(default_factory=list)
    _property_cache: dict[tuple[str, str], Any] = field(default_factory=dict)

    # -- the template's sections -------------------------------------------------------------------

    @property
    def resources(self) -> dict[str, Any]:
        resources = self.template.get("Resources")
        return resources if isinstance(resources, dict) else {}

    def resource_type(self, logical_id: str) -> str:
        resource = self.resources.get(logical_id)
        kind = resource.get("Type") if isinstance(resource, dict) else None
        return kind if isinstance(kind, str) else ""

    def exists(self, logical_id: str) -> bool:
        resource = self.resources[logical_id]
        condition = resource.get("Condition") if isinstance(resource, dict) else None
        if condition is None:
            return True
        return self.condition(str(condition), f"Resources.{logical_id}.Condition")

    def where(self, at: str) -> str:
        """``file: path`` (the form of ``ImportBundle.where`` values)."""
        return f"{self.label}: {at}"

    @property
    def is_sam(self) -> bool:
        transform = self.template.get("Transform")
        names = transform if isinstance(transform, list) else [transform]
        return _SAM_TRANSFORM in names

    # -- errors ------------------------------------------------------------------------------------

    def fail(self, at: str, expression: Any, problem: str) -> InputError:
        if expression is None:
            return InputError(f"{self.label}: {at}: {problem}")
        return InputError(f"{self.label}: {at}: {self.render(expression)}: {problem}")

    def render(self, expression: Any) -> str:
        text = short_form(expression) if self.short_forms else json_form(expression)
        return text if len(text) <= 120 else text[:119] + "…"

    # -- values ------------------------------------------------------------------------------------

    def value(self, node: Any, at: str, *, argument: bool = False) -> Any:
        """``node`` with every intrinsic function resolved (``NO_VALUE`` for ``AWS::NoValue``).

        ``at`` is the property path of ``node``; inside an intrinsic function's arguments
        (``argument``) it stays the path of the property that holds the function."""
        if isinstance(node, dict):
            if len(node) == 1:
                ((key, inner),) = node.items()
                if key == "Ref" or (isinstance(key, str) and key.startswith("Fn::")):
                    return self.intrinsic(key, inner, node, at)
            resolved: dict[str, Any] = {}
            for key, item in node.items():
                got = self.value(item, at if argument else f"{at}.{key}", argument=argument)
                if got is not NO_VALUE:
                    resolved[key] = got
            return resolved
        if isinstance(node, list):
            items = []
            for index, item in enumerate(node):
                got = self.value(item, at if argument else f"{at}[{index}]", argument=argument)
                if got is not NO_VALUE:
                    items.append(got)
            return items
        return node

    def arg(self, node: Any, at: str) -> Any:
        """An intrinsic function's argument, resolved."""
        return self.value(node, at, argument=True)

    def prop(self, logical_id: str, name: str) -> Any:
        """One property of a resource, resolved (``None`` when absent), memoised."""
        key = (logical_id, name)
        if key in self._property_cache:
            return self._property_cache[key]
        marker = f"{logical_id}.{name}"
        at = f"Resources.{logical_id}.Properties.{name}"
        if marker in self._in_progress:
            cycle = " → ".join([*self._in_progress[self._in_progress.index(marker) :], marker])
            raise self.fail(at, None, f"circular reference: {cycle}")
        properties = self.resources[logical_id].get("Properties") or {}
        if not isinstance(properties, dict):
            raise self.fail(f"Resources.{logical_id}.Properties", None, "must be a mapping")
        self._in_progress.append(marker)
        try:
            got = self.value(properties[name], at) if name in properties else None
        finally:
            self._in_progress.pop()
        got = None if got is NO_VALUE else got
        self._property_cache[key] = got
        return got

    def string_property(self, logical_id: str, name: str) -> str | None:
        got = self.prop(logical_id, name)
        if got is None or isinstance(got, str):
            return got
        if isinstance(got, bool | int | float):
            return as_text(got)
        raise self.fail(f"Resources.{logical_id}.Properties.{name}", None, "must be a string")

    # -- intrinsic functions and conditions (intrinsics, parameters, conditions) -------------------

    intrinsic = intrinsics.intrinsic
    ref = intrinsics.ref
    pseudo = _parameters.pseudo
    condition = conditions.condition
    truth = conditions.truth

    # -- resources (attributes, placeholders) ------------------------------------------------------

    resource_id = attributes.resource_id
    physical_id = attributes.physical_id
    bucket_name = attributes.bucket_name
    named = attributes.named
    kvs_arn = attributes.kvs_arn
    function_arn = attributes.cloudfront_function_arn
    resource_ref = attributes.resource_ref
    distribution_id = attributes.distribution_id
    get_att = attributes.get_att
    placeholder = placeholders.placeholder
    sam_implicit_type = placeholders.sam_implicit_type
    sam_implicit = placeholders.sam_implicit

    # -- nested stacks -----------------------------------------------------------------------------

    def child(self, logical_id: str) -> Stack:
        """The nested stack a ``AWS::CloudFormation::Stack`` (or SAM application) creates, read
        from its local template with the parameters the parent passes."""
        if logical_id in self.children:
            return self.children[logical_id]
        kind = self.resource_type(logical_id)
        member = "Location" if kind == "AWS::Serverless::Application" else "TemplateURL"
        at = f"Resources.{logical_id}.Properties.{member}"
        url = self.prop(logical_id, member)
        if not isinstance(url, str):
            raise self.fail(at, None, "must be the nested stack template's location")
        path = self.nested_template(url, at)
        values = self.prop(logical_id, "Parameters") or {}
        if not isinstance(values, dict):
            raise self.fail(
                f"Resources.{logical_id}.Properties.Parameters", None, "must be a mapping"
            )
        parameters = {
            str(name): ",".join(map(as_text, value)) if isinstance(value, list) else as_text(value)
            for name, value in values.items()
        }
        nested = open_stack(
            path,
            parameters=parameters,
            assets=self.assets,
            stack_name=f"{self.name}-{logical_id}-{self.physical_id(logical_id, 12).upper()}",
            nested=True,
            construct_paths=self.construct_paths or None,
        )
        nested.lambda_arns = self.lambda_arns
        nested.ssm_parameters = self.ssm_parameters
        self.children[logical_id] = nested
        return nested

    def nested_template(self, url: str, at: str) -> Path:
        """The local file of a nested stack's template: a path relative to this template (as
        ``aws cloudformation package`` takes it), or an S3 URL the asset resolver knows."""
        match = re.fullmatch(
            r"(?:s3://|https://s3[.-][^/]*amazonaws\.com[^/]*/|https://)"
            r"([^/]+?)(?:\.s3[.-][^/]*amazonaws\.com[^/]*)?/(.+)",
            url,
        )
        if match is None:
            path = self.path.parent / url
        else:
            found = self.assets(*match.groups()) if self.assets is not None else None
            if found is None:
                raise self.fail(
                    at,
                    None,
                    f"{url}: the nested stack's template is not a local file (give the path "
                    "to the template, as before `aws cloudformation package`)",
                )
            path = found
        if not path.is_file():
            raise self.fail(at, None, f"the nested stack's template {path} is missing")
        return path

    def output(self, name: str, node: Any, at: str) -> Any:
        outputs = self.template.get("Outputs") or {}
        output = outputs.get(name) if isinstance(outputs, dict) else None
        if not isinstance(output, dict) or "Value" not in output:
            raise InputError(f"{self.label}: Outputs.{name}: no such output (referred to by {at})")
        return self.value(output["Value"], f"Outputs.{name}.Value")


def open_stack(
    path: Path,
    *,
    parameters: Mapping[str, str] = {},
    assets: AssetResolver | None = None,
    stack_name: str | None = None,
    label: str | None = None,
    construct_paths: Mapping[str, str] | None = None,
    nested: bool = False,
) -> Stack:
    """Read a template and its parameter values (the first step of ``load_template``).

    ``nested``: the parameters come from a parent stack, which may pass more than the nested
    template declares."""
    template, is_yaml = read_template(path, label)
    stack = Stack(
        path=path,
        label=label or str(path),
        template=template,
        name=stack_name or path.stem,
        short_forms=is_yaml,
        assets=assets,
        construct_paths=dict(construct_paths or {}),
    )
    transform = template.get("Transform")
    for name in transform if isinstance(transform, list) else [transform]:
        if isinstance(name, str) and name not in _KNOWN_TRANSFORMS:
            stack.notes.append(
                f"{stack.label}: Transform {name} is not applied by edgesim (only "
                f"{' and '.join(_KNOWN_TRANSFORMS)} need none for distributions)"
            )
    if nested:
        declared = template.get("Parameters")
        names = declared if isinstance(declared, dict) else {}
        parameters = {name: value for name, value in parameters.items() if name in names}
    parameter_values(stack, parameters)
    return stack
