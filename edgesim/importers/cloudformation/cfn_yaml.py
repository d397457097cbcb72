"""CloudFormation's YAML: PyYAML's safe loader plus the short forms of the intrinsic functions.

``!Ref X`` loads as ``{"Ref": "X"}``, ``!GetAtt A.B`` as ``{"Fn::GetAtt": ["A", "B"]}``,
``!Condition C`` as ``{"Condition": "C"}`` and any other ``!Name arg`` as ``{"Fn::Name": arg}``,
the long forms a JSON template writes. An unknown tag loads the same way, so the resolver
reports it as an unknown intrinsic with its property path instead of a YAML error.

Timestamps stay strings (``AWSTemplateFormatVersion: 2010-09-09`` unquoted is common), as
CloudFormation reads them.
"""

from __future__ import annotations

from typing import Any

import yaml


class CfnYamlLoader(yaml.SafeLoader):
    """SafeLoader with CloudFormation's tags, and no implicit timestamps."""


CfnYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    raise yaml.constructor.ConstructorError(None, None, "unexpected node", node.start_mark)


def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    value = _construct(loader, node)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        logical, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [logical, attribute] if attribute else value}
    return {f"Fn::{suffix}": value}


CfnYamlLoader.add_multi_constructor("!", _short_form)


def load_yaml(text: str) -> Any:
    """Parse one CloudFormation YAML document (``yaml.YAMLError`` when it is not YAML)."""
    return yaml.load(text, Loader=CfnYamlLoader)  # a SafeLoader subclass
