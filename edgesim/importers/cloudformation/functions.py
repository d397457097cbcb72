"""The CloudFront functions a distribution's behaviours associate and the key value stores they
use (a store's data from its ``ImportSource``), added to its bundle; one the template does not
define is a note."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edgesim.importers.bundle import FunctionSource, ImportBundle, KvsSource
from edgesim.importers.cloudformation.assets import import_source
from edgesim.importers.cloudformation.values import list_items

if TYPE_CHECKING:
    from edgesim.importers.cloudformation.stack import Stack


def add_function(stack: Stack, bundle: ImportBundle, arn: Any, at: str) -> None:
    if not isinstance(arn, str):
        raise stack.fail(at, None, "must be a function ARN")
    logical_id = stack.function_arns.get(arn)
    if logical_id is None:
        name = arn.rsplit("/", 1)[-1]
        bundle.notes.append(
            f"{stack.where(at)}: function {name} is not defined in this template: "
            f"give its code with --function {name}=PATH"
        )
        return
    name = stack.named(logical_id)
    if name in bundle.functions:
        return
    base = f"Resources.{logical_id}.Properties"
    code = stack.prop(logical_id, "FunctionCode")
    if not isinstance(code, str):
        raise stack.fail(f"{base}.FunctionCode", None, "must be the function's code (a string)")
    config = stack.prop(logical_id, "FunctionConfig")
    if not isinstance(config, dict):
        raise stack.fail(f"{base}.FunctionConfig", None, "is required (Comment and Runtime)")
    runtime = config.get("Runtime")
    if runtime not in ("cloudfront-js-1.0", "cloudfront-js-2.0"):
        raise stack.fail(
            f"{base}.FunctionConfig.Runtime",
            None,
            f"{runtime!r} is not a CloudFront Functions runtime "
            "(cloudfront-js-1.0, cloudfront-js-2.0)",
        )
    auto_publish = stack.prop(logical_id, "AutoPublish")
    source = FunctionSource(
        name=name,
        runtime=runtime,
        code=code,
        auto_publish=auto_publish in (True, "true", "True"),
        where=stack.where(f"Resources.{logical_id}"),
    )
    for index, association in enumerate(list_items(config.get("KeyValueStoreAssociations"))):
        store_arn = association.get("KeyValueStoreARN") if isinstance(association, dict) else None
        at_store = f"{base}.FunctionConfig.KeyValueStoreAssociations[{index}].KeyValueStoreARN"
        source.kvs.append(_add_store(stack, bundle, store_arn, at_store))
    bundle.functions[name] = source
    bundle.where[f"functions.{name}"] = source.where


def _add_store(stack: Stack, bundle: ImportBundle, arn: Any, at: str) -> str:
    if not isinstance(arn, str) or ":key-value-store/" not in arn:
        raise stack.fail(at, None, f"{arn!r} is not a KeyValueStore ARN")
    logical_id = stack.kvs_arns.get(arn)
    if logical_id is None:
        name = arn.rsplit("/", 1)[-1]
        if name not in bundle.kvs:
            bundle.kvs[name] = KvsSource(name=name, where=stack.where(at))
            bundle.notes.append(
                f"{stack.where(at)}: KeyValueStore {name} is not defined in this template: "
                f"seed it with --kvs {name}=FILE"
            )
        return name
    name = stack.named(logical_id)
    if name in bundle.kvs:
        return name
    store = KvsSource(name=name, where=stack.where(f"Resources.{logical_id}"))
    source = stack.prop(logical_id, "ImportSource")
    if source is not None:
        store.data = import_source(stack, bundle, logical_id, source)
        if store.data is not None:
            bundle.sources.append(store.data)
    else:
        bundle.notes.append(
            f"{stack.where(f'Resources.{logical_id}')}: KeyValueStore {name} has no ImportSource "
            f"and starts empty: seed it with --kvs {name}=FILE"
        )
    bundle.kvs[name] = store
    bundle.where[f"kvs.{name}"] = store.where
    return name
