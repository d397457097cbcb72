"""``load_template``: every distribution a template (and the stacks it nests) creates, as one
``ImportBundle`` each named by its logical id."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from edgesim.importers.bundle import ImportBundle
from edgesim.importers.cloudformation.assets import AssetResolver
from edgesim.importers.cloudformation.attributes import NESTED_TYPES
from edgesim.importers.cloudformation.distribution import distribution_bundle
from edgesim.importers.cloudformation.stack import Stack, open_stack


def load_template(
    path: Path,
    *,
    parameters: Mapping[str, str] = {},
    assets: AssetResolver | None = None,
    stack_name: str | None = None,
) -> list[ImportBundle]:
    """Every distribution in a CloudFormation/SAM template, in template order; each bundle's
    ``name`` is its logical id (``Nested/LogicalId`` for one in a nested stack).

    ``parameters`` override the template's parameter defaults (``--parameter K=V``); an unknown
    name is an error. ``assets`` finds the local files of S3 objects the template imports.
    ``stack_name`` is ``AWS::StackName`` (default: the file name without its extension).
    """
    stack = open_stack(path, parameters=parameters, assets=assets, stack_name=stack_name)
    return list(bundles(stack).values())


def bundles(stack: Stack) -> dict[str, ImportBundle]:
    """Every distribution the stack creates, by name (``load_template``'s second step)."""
    found: dict[str, ImportBundle] = {}
    preamble = list(stack.notes)  # about the whole template
    for logical_id, resource in stack.resources.items():
        if not isinstance(resource, dict):
            raise stack.fail(f"Resources.{logical_id}", None, "must be a mapping")
        if resource.get("Type") in NESTED_TYPES and stack.exists(logical_id):
            for key, bundle in bundles(stack.child(logical_id)).items():
                bundle.sources.append(stack.path)
                bundle.notes[:0] = [note for note in preamble if note not in bundle.notes]
                bundle.name = f"{logical_id}/{key}"
                found[bundle.name] = bundle
            continue
        if resource.get("Type") != "AWS::CloudFront::Distribution" or not stack.exists(logical_id):
            continue
        bundle = distribution_bundle(stack, logical_id)
        bundle.notes[:0] = [note for note in preamble if note not in bundle.notes]
        bundle.name = logical_id
        found[logical_id] = bundle
    return found
