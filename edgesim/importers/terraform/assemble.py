"""Bundles: one :class:`TerraformBundle` per distribution, over either front-end's resources.

:class:`BaseAssembler` maps the distribution, then brings in the CloudFront functions and
Lambda@Edge functions (``lambdas``) its behaviours associate (with the key value stores they
use and their keys), the custom policies they name and hints of which S3 bucket an origin is.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from edgesim.errors import InputError
from edgesim.importers.bundle import (
    FunctionSource,
    ImportBundle,
    KvsSource,
    LambdaSource,
    function_arn,
)
from edgesim.importers.terraform import lambdas
from edgesim.importers.terraform.distribution import distribution_config
from edgesim.importers.terraform.mapper import Mapper
from edgesim.importers.terraform.nodes import Node
from edgesim.importers.terraform.policies import POLICY_KINDS, POLICY_SPECS
from edgesim.importers.terraform.values import EvalError


@dataclass
class TerraformBundle(ImportBundle):
    """An ImportBundle named by the distribution's Terraform resource address."""

    name: str = ""


class Inst(Protocol):
    """A resource instance of either front: its address, node, and attributes by name."""

    @property
    def address(self) -> str: ...

    @property
    def type(self) -> str: ...

    @property
    def node(self) -> Node: ...

    def tf_attr(self, name: str) -> Any: ...


class BaseAssembler:
    """Builds one bundle per distribution from resource instances (HCL or show -json)."""

    def __init__(self, mapped_origins: Collection[str] = ()) -> None:
        self.notes: list[str] = []
        self.mapped_origins = mapped_origins
        self._by_type: dict[str, list[Inst]] = {}

    def instances(self, rtype: str) -> list[Inst]:  # pragma: no cover - overridden
        raise NotImplementedError

    def sources(self) -> list[Path]:  # pragma: no cover - overridden
        raise NotImplementedError

    def function_source(self, m: Mapper, inst: Inst, name: str) -> FunctionSource:
        raise NotImplementedError  # pragma: no cover - overridden

    def lambda_root(self) -> Path:  # pragma: no cover - overridden
        """The directory a Lambda function's relative ``filename`` is relative to."""
        raise NotImplementedError

    def archives(self) -> list[Inst]:
        """The ``data "archive_file"`` instances (none in ``terraform show -json``)."""
        return []

    def lambda_code(self, m: Mapper, inst: Inst, source: LambdaSource) -> None:
        """Where a Lambda@Edge function's code is (``lambdas`` module)."""
        if lambdas.other_code(m, inst, source):
            return
        filename = m.text(inst.node, "filename")
        if not filename:
            source.missing = "no filename, s3_key or image_uri"
            return
        root = self.lambda_root()
        found = lambdas.archive_source(self.archives(), m, filename, root)
        path = found if found is not None else root / filename
        if not path.exists():
            source.missing = f"{filename} does not exist ({path})"
            return
        source.file = path.resolve()

    def find(self, rtype: str, attr: str, value: str) -> Inst | None:
        """The instance of ``rtype`` whose ``attr`` is ``value``."""
        return self._find(rtype, attr, value)

    def _find(self, rtype: str, attr: str, value: str) -> Inst | None:
        for inst in self.instances(rtype):
            try:
                found = inst.tf_attr(attr)
            except EvalError:
                continue
            if found == value:
                return inst
        return None

    def bundles(self) -> list[ImportBundle]:
        distributions = self.instances("aws_cloudfront_distribution")
        if not distributions:
            raise InputError(f"{self.describe()}: no aws_cloudfront_distribution")
        return [self.bundle(inst) for inst in distributions]

    def describe(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def bundle(self, inst: Inst) -> ImportBundle:
        notes: list[str] = []
        m = Mapper(notes, self.mapped_origins)
        config, where = distribution_config(m, inst.node)
        bundle = TerraformBundle(distribution_config=config, where=where, name=inst.address)
        behaviors = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]["Items"]]
        for behavior in behaviors:
            for association in behavior["FunctionAssociations"]["Items"]:
                association["FunctionARN"] = self._function(m, bundle, association["FunctionARN"])
            for association in behavior["LambdaFunctionAssociations"]["Items"]:
                arn = association["LambdaFunctionARN"]
                lambdas.add_lambda(self, m, bundle, arn, self.lambda_code)
            for key, rtype, table, find in POLICY_KINDS:
                policy_id = behavior.get(key)
                if policy_id is None or find(policy_id) is not None:
                    continue
                self._policy(m, bundle, rtype, table, policy_id)
            for group_id in behavior.get("TrustedKeyGroups", {}).get("Items", []):
                self._key_group(m, bundle, group_id)
        self._origin_hints(bundle)
        bundle.notes = [*dict.fromkeys([*self.notes, *notes])]
        bundle.sources = self.sources()
        return bundle

    def _function(self, m: Mapper, bundle: ImportBundle, arn: str) -> str:
        inst = self._find("aws_cloudfront_function", "arn", arn)
        if inst is None:
            name = arn.rsplit("/", 1)[-1] if arn.startswith("arn:") else arn
            self.notes.append(
                f"function {arn} is not in the configuration: pass --function {name}=FILE.js"
            )
            return function_arn(name) if arn.startswith("arn:aws:cloudfront:") else arn
        name = m.text(inst.node, "name", required=True) or ""
        if name not in bundle.functions:
            source = self.function_source(m, inst, name)
            bundle.functions[name] = source
            bundle.where[f"functions.{name}"] = source.where
            source.kvs = [self._kvs(m, bundle, store) for store in self._kvs_arns(m, inst)]
        return function_arn(name)

    def _kvs_arns(self, m: Mapper, inst: Inst) -> list[str]:
        return m.strings(inst.node, "key_value_store_associations")

    def _kvs(self, m: Mapper, bundle: ImportBundle, arn: str) -> str:
        store = self._find("aws_cloudfront_key_value_store", "arn", arn)
        if store is None:
            name = arn.rsplit("/", 1)[-1]
            self.notes.append(
                f"key value store {arn} is not in the configuration: seed it with "
                f"--kvs {name}=data.json"
            )
            bundle.kvs.setdefault(name, KvsSource(name))
            return name
        name = m.text(store.node, "name", required=True) or ""
        if name in bundle.kvs:
            return name
        items: dict[str, str] = {}
        for key in self.instances("aws_cloudfrontkeyvaluestore_key"):
            if m.get(key.node, "key_value_store_arn") == arn:
                items[m.text(key.node, "key", required=True) or ""] = (
                    m.text(key.node, "value", required=True) or ""
                )
        for group in self.instances("aws_cloudfrontkeyvaluestore_keys_exclusive"):
            if m.get(group.node, "key_value_store_arn") == arn:
                for pair in group.node.blocks("resource_key_value_pair"):
                    items[m.text(pair, "key", required=True) or ""] = (
                        m.text(pair, "value", required=True) or ""
                    )
        where = f"{store.node.where()}: {store.address}"
        bundle.kvs[name] = KvsSource(name, items=items, where=where)
        bundle.where[f"kvs.{name}"] = where
        return name

    def _policy(
        self, m: Mapper, bundle: ImportBundle, rtype: str, table: str, policy_id: str
    ) -> None:
        policies: dict[str, dict[str, Any]] = getattr(bundle, table)
        if policy_id in policies:
            return
        inst = self._find(rtype, "id", policy_id)
        if inst is None:
            self.notes.append(
                f"{rtype.removeprefix('aws_cloudfront_').replace('_', ' ')} {policy_id} is not "
                f"in the configuration: pass --policy {policy_id}=policy.json"
            )
            return
        policies[policy_id] = POLICY_SPECS[rtype](m, inst.node)
        bundle.where[f"{table}.{policy_id}"] = f"{inst.node.where()}: {inst.address}"

    def _key_group(self, m: Mapper, bundle: ImportBundle, group_id: str) -> None:
        """An ``aws_cloudfront_key_group`` a behaviour trusts and its
        ``aws_cloudfront_public_key`` resources, in the API's shape (the converter reports a
        group or key the configuration does not hold)."""
        inst = self._find("aws_cloudfront_key_group", "id", group_id)
        if inst is None or group_id in bundle.key_groups:
            return
        items = m.strings(inst.node, "items")
        bundle.key_groups[group_id] = {"Name": m.text(inst.node, "name"), "Items": items}
        bundle.where[f"key_groups.{group_id}"] = f"{inst.node.where()}: {inst.address}"
        for key_id in items:
            key = self._find("aws_cloudfront_public_key", "id", key_id)
            if key is None or key_id in bundle.public_keys:
                continue
            bundle.public_keys[key_id] = {
                "Name": m.text(key.node, "name"),
                "EncodedKey": m.text(key.node, "encoded_key", required=True),
            }
            bundle.where[f"public_keys.{key_id}"] = f"{key.node.where()}: {key.address}"

    def _origin_hints(self, bundle: ImportBundle) -> None:
        domains: dict[str, str] = {}
        for bucket in self.instances("aws_s3_bucket"):
            for attr in ("bucket_regional_domain_name", "bucket_domain_name"):
                try:
                    value = bucket.tf_attr(attr)
                except EvalError:
                    continue
                if isinstance(value, str):
                    domains.setdefault(value, bucket.address)
        for origin in bundle.distribution_config["Origins"]["Items"]:
            found = domains.get(origin["DomainName"])
            if found is not None:
                bundle.origin_hints[origin["Id"]] = found
