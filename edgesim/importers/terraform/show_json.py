"""``terraform show -json`` output (a plan or a state) read into bundles.

Its values become nodes; an unknown value of a plan is resolved through the references in the
configuration part, and computed attributes the values lack are made up as for a
configuration.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

from edgesim.errors import InputError
from edgesim.importers.bundle import FunctionSource, ImportBundle
from edgesim.importers.terraform.assemble import BaseAssembler, Inst
from edgesim.importers.terraform.mapper import Mapper
from edgesim.importers.terraform.nodes import Node
from edgesim.importers.terraform.resources import COMPUTED
from edgesim.importers.terraform.values import Unknown


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _as_dict(value: Any) -> dict[str, Any]:
    # A hand-edited or damaged file: a part of the wrong type is read as absent (the mapper then
    # reports what a distribution misses, with the file's name).
    return value if isinstance(value, dict) else {}


class _JsonNode:
    """A block of ``terraform show -json`` values; unknowns of a plan resolved by reference."""

    def __init__(
        self,
        values: Mapping[str, Any],
        path: str,
        where: str,
        unknown: Any = None,
        exprs: Any = None,
        resolve: Callable[[list[str]], Any] | None = None,
    ) -> None:
        self.values = values
        self.path = path
        self._where = where
        self._unknown = unknown if isinstance(unknown, dict) else {}
        self._exprs = exprs if isinstance(exprs, dict) else {}
        self._resolve = resolve

    def where(self, name: str | None = None) -> str:
        return self._where

    def get(self, name: str) -> Any:
        value = self.values.get(name)
        if value is None and self._unknown.get(name) is True:
            refs = _as_list(_as_dict(self._exprs.get(name)).get("references"))
            refs = [r for r in refs if isinstance(r, str)]
            if self._resolve is not None and refs:
                return self._resolve(refs)
            return Unknown(f"{self.path}.{name}", "known only after apply")
        return value

    def blocks(self, name: str) -> list[Node]:
        items = self.values.get(name) or []
        if isinstance(items, dict):
            items = [items]
        items = _as_list(items)  # a scalar where blocks belong: no blocks
        unknowns = _as_list(self._unknown.get(name))
        exprs = _as_list(self._exprs.get(name))
        nodes: list[Node] = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            nodes.append(
                _JsonNode(
                    item,
                    f"{self.path}.{name}[{i}]",
                    self._where,
                    unknowns[i] if i < len(unknowns) else None,
                    exprs[i] if i < len(exprs) else None,
                    self._resolve,
                )
            )
        return nodes


class _JsonResource:
    def __init__(
        self, entry: dict[str, Any], node: _JsonNode, computed_from: _JsonResProxy
    ) -> None:
        self.address = str(entry.get("address", ""))
        self.type = str(entry.get("type", ""))
        self.mode = str(entry.get("mode", "managed"))
        self.node = node
        self._proxy = computed_from

    def tf_attr(self, name: str) -> Any:
        value = self.node.get(name)
        if value is None or isinstance(value, Unknown):
            kind = "data" if self.mode == "data" else "resource"
            computed = COMPUTED.get((kind, self.type), {}).get(name)
            if computed is not None:
                return computed(self._proxy)
        return value


class _JsonResProxy:
    def __init__(self, address: str, values: Mapping[str, Any], notes: list[str]) -> None:
        self.address = address
        self._values = values
        self._notes = notes

    def arg(self, name: str) -> Any:
        return self._values.get(name)

    def region(self) -> Any:
        return self._values.get("region")

    def mark(self, note: str) -> None:
        self._notes.append(note)


class _JsonAssembler(BaseAssembler):
    def __init__(
        self, path: Path, doc: dict[str, Any], mapped_origins: Collection[str] = ()
    ) -> None:
        super().__init__(mapped_origins)
        self.path = path
        self.display = str(path)
        self.resources: list[_JsonResource] = []
        if isinstance(doc.get("planned_values"), dict):
            root = _as_dict(doc["planned_values"].get("root_module"))
        elif isinstance(doc.get("values"), dict):
            root = _as_dict(doc["values"].get("root_module"))
        else:
            raise InputError(
                f"{path}: not terraform show -json output (no values or planned_values)"
            )
        self.after_unknown: dict[str, Any] = {}
        for change in _as_list(doc.get("resource_changes")):
            if isinstance(change, dict):
                after = _as_dict(change.get("change")).get("after_unknown")
                self.after_unknown[str(change.get("address"))] = after
        self.config_exprs: dict[str, Any] = {}
        self._walk_config(_as_dict(_as_dict(doc.get("configuration")).get("root_module")), "")
        self._walk_values(root)

    def _walk_config(self, module: dict[str, Any], prefix: str) -> None:
        for resource in _as_list(module.get("resources")):
            if isinstance(resource, dict):
                address = f"{prefix}{resource.get('address', '')}"
                self.config_exprs[address] = resource.get("expressions", {})
        for name, call in _as_dict(module.get("module_calls")).items():
            self._walk_config(_as_dict(_as_dict(call).get("module")), f"{prefix}module.{name}.")

    def _walk_values(self, module: dict[str, Any]) -> None:
        for entry in _as_list(module.get("resources")):
            if not isinstance(entry, dict):
                continue
            address = str(entry.get("address", ""))
            values = _as_dict(entry.get("values"))
            config_address = re.sub(r"\[[^\]]*\]$", "", address)
            config_address = re.sub(r"\[[^\]]*\]\.", ".", config_address)
            prefix = address[: len(address) - len(f"{entry.get('type')}.{entry.get('name')}")]
            prefix = re.sub(r"\[[^\]]*\]$", "", prefix)
            node = _JsonNode(
                values,
                address,
                self.display,
                self.after_unknown.get(address),
                self.config_exprs.get(config_address),
                self._resolver(prefix),
            )
            self.resources.append(
                _JsonResource(entry, node, _JsonResProxy(address, values, self.notes))
            )
        for child in _as_list(module.get("child_modules")):
            if isinstance(child, dict):
                self._walk_values(child)

    def _resolver(self, prefix: str) -> Callable[[list[str]], Any]:
        def resolve(refs: list[str]) -> Any:
            for ref in refs:
                match = re.fullmatch(r"((?:data\.)?[\w-]+\.[\w-]+)(\[[^\]]+\])?\.([\w-]+)", ref)
                if match is None:
                    continue
                base, index, attr = match.groups()
                address = f"{prefix}{base}{index or ''}"
                for res in self.resources:
                    if res.address == address or (index is None and res.address == f"{address}[0]"):
                        return res.tf_attr(attr)
            return Unknown(refs[0], "known only after apply")

        return resolve

    def describe(self) -> str:
        return self.display

    def instances(self, rtype: str) -> list[Inst]:
        return [r for r in self.resources if r.type == rtype and r.mode == "managed"]

    def sources(self) -> list[Path]:
        return [self.path.resolve()]

    def lambda_root(self) -> Path:
        return self.path.parent  # the directory terraform ran in, usually

    def function_source(self, m: Mapper, inst: Inst, name: str) -> FunctionSource:
        runtime = m.text(inst.node, "runtime", required=True) or ""
        code = m.text(inst.node, "code", required=True)
        publish = m.flag(inst.node, "publish", True)
        where = f"{self.display}: {inst.address}"
        return FunctionSource(name, runtime, code=code, auto_publish=bool(publish), where=where)


def load_show_json(path: Path, mapped_origins: Collection[str] = ()) -> list[ImportBundle]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except ValueError as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: not terraform show -json output")
    return _JsonAssembler(path, doc, mapped_origins).bundles()
