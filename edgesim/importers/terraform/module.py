"""Module instances: the names expressions refer to, resolved.

A :class:`Module` resolves ``var.``, ``local.``, ``path.``, resources, data sources and child
modules (local ones, and registry modules ``terraform init`` put under ``.terraform/modules``),
with their ``count``/``for_each`` instances; it finds providers' regions and is the value of
``module.NAME`` (its outputs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lark import Tree

from edgesim.importers.terraform.config import (
    Attr,
    Block,
    ModuleConfig,
    known_meta,
    located,
    traversal_text,
)
from edgesim.importers.terraform.expressions import evaluate
from edgesim.importers.terraform.resources import Resource
from edgesim.importers.terraform.values import (
    EvalError,
    Scope,
    Source,
    Step,
    TfSet,
    Unknown,
    iterate,
)
from edgesim.importers.terraform.variables import ANY, ConstResolver, convert, parse_type

if TYPE_CHECKING:
    from edgesim.importers.terraform.project import Project


_NOT_IN_CONFIG = "not in the configuration"


class Module:
    """One instance of a module: resolves ``var.``, ``local.``, resources, data and modules."""

    def __init__(
        self,
        project: Project,
        config: ModuleConfig,
        address: str,
        key: str,
        parent: Module | None,
        values: dict[str, tuple[Any, str]],
        inputs: dict[str, Callable[[], Any]] | None = None,
        provider_map: dict[str, str] | None = None,
        call_name: str = "",
    ) -> None:
        self.project = project
        self.config = config
        self.address = address
        self.key = key
        self.parent = parent
        self.root_dir = project.root_dir
        self._values = values
        self._inputs = inputs or {}
        self._provider_map = provider_map or {}
        self._call_name = call_name
        self._vars: dict[str, Any] = {}
        self._locals: dict[str, Any] = {}
        self._active: list[str] = []
        self._collections: dict[tuple[str, str, str], Any] = {}
        self._children: dict[str, Any] = {}

    # -- naming --------------------------------------------------------------------------------

    def prefix(self) -> str:
        return f"{self.address}." if self.address else ""

    def scope(self, src: Source, **bindings: Any) -> Scope:
        return Scope(self, src, dict(bindings))

    def _guard(self, name: str) -> None:
        if name in self._active:
            chain = " → ".join([*self._active[self._active.index(name) :], name])
            raise EvalError(f"cycle: {chain}")

    # -- Resolver ------------------------------------------------------------------------------

    def resolve(self, root: str, steps: Sequence[Step], scope: Scope) -> tuple[Any, int]:
        first = steps[0][1] if steps and steps[0][0] == "attr" else None
        if root == "var" and first is not None:
            return self.variable(first), 1
        if root == "local" and first is not None:
            return self.local(first), 1
        if root == "path" and first is not None:
            return self.path_value(first), 1
        if root == "terraform" and first == "workspace":
            return "default", 1
        if root == "module" and first is not None:
            child = self.child(first)
            if isinstance(child, Unknown) and len(steps) > 1 and steps[1][0] == "attr":
                return Unknown(f"module.{first}.{steps[1][1]}", child.reason), 2
            return child, 1
        if root == "data" and first is not None and len(steps) > 1 and steps[1][0] == "attr":
            return self.collection("data", first, steps[1][1], steps[2:]), 2
        if root in ("var", "local", "module", "path", "data", "each", "count", "self"):
            raise EvalError(f"invalid reference to {root}")
        if first is not None:
            return self.collection("resource", root, first, steps[1:]), 1
        raise EvalError(f'unknown name "{root}"')

    def path_value(self, name: str) -> Any:
        if name == "module":
            return _rel(self.config.dir, self.root_dir)
        if name == "root":
            return "."
        if name == "cwd":
            return str(self.root_dir.resolve())
        raise EvalError(f"path.{name} is not defined")

    def read_file(self, name: str) -> tuple[Path, bytes]:
        path = Path(name)
        full = path if path.is_absolute() else self.root_dir / path
        if not full.is_file():
            raise EvalError(f'file "{name}" not found ({full})')
        self.project.add_source(full)
        return full, full.read_bytes()

    # -- variables and locals -----------------------------------------------------------------

    def variable(self, name: str) -> Any:
        if name in self._vars:
            return self._vars[name]
        block = self.config.variables.get(name)
        if block is None:
            raise EvalError(f'no variable "{name}" is declared in {self._where_module()}')
        attrs = block.body.attrs
        const = Scope(ConstResolver(self.root_dir), block.src)
        tf_type = parse_type(attrs["type"].expr, const) if "type" in attrs else ANY
        nullable = evaluate(attrs["nullable"].expr, const) if "nullable" in attrs else True
        default = evaluate(attrs["default"].expr, const) if "default" in attrs else None
        what = f"var.{name}"
        if name in self._inputs:
            self._guard(what)
            self._active.append(what)
            try:
                value = self._inputs[name]()
            finally:
                self._active.pop()
        elif name in self._values:
            value = self._values[name][0]
        elif "default" in attrs:
            value = default
        elif self.parent is not None:
            value = Unknown(what, f"{self._call_name} is called without {name}")
        else:
            value = Unknown(what, f"no default and no -var or .tfvars value; pass -var {name}=…")
        if value is None and nullable is False:
            value = default
        value = convert(value, tf_type, what)
        self._vars[name] = value
        return value

    def _where_module(self) -> str:
        return self.address or "the root module"

    def local(self, name: str) -> Any:
        if name in self._locals:
            return self._locals[name]
        attr = self.config.locals.get(name)
        if attr is None:
            raise EvalError(f'no local value "{name}" in {self._where_module()}')
        what = f"local.{name}"
        self._guard(what)
        self._active.append(what)
        try:
            value = evaluate(attr.expr, self.scope(attr.src))
        finally:
            self._active.pop()
        self._locals[name] = value
        return value

    # -- resources, data sources --------------------------------------------------------------

    def collection(self, mode: str, rtype: str, name: str, rest: Sequence[Step]) -> Any:
        key = (mode, rtype, name)
        if key in self._collections:
            return self._collections[key]
        table = self.config.resources if mode == "resource" else self.config.data
        block = table.get((rtype, name))
        base = f"{self.prefix()}{'data.' if mode == 'data' else ''}{rtype}.{name}"
        if block is None:
            attr = next((a for kind, a in rest if kind == "attr"), None)
            ref = f"{'data.' if mode == 'data' else ''}{rtype}.{name}" + (
                f".{attr}" if attr else ""
            )
            return Unknown(ref, _NOT_IN_CONFIG)
        what = f"{'data.' if mode == 'data' else ''}{rtype}.{name}"
        self._guard(what)
        self._active.append(what)
        try:
            value = self._instances(mode, rtype, name, block, base)
        finally:
            self._active.pop()
        self._collections[key] = value
        return value

    def _instances(self, mode: str, rtype: str, name: str, block: Block, base: str) -> Any:
        attrs = block.body.attrs
        scope = self.scope(block.src)
        if "count" in attrs:
            count = known_meta(evaluate(attrs["count"].expr, scope), "count")
            return [
                Resource(self, mode, rtype, name, block, f"{base}[{i}]", {"count": {"index": i}})
                for i in range(int(count))
            ]
        if "for_each" in attrs:
            each = known_meta(evaluate(attrs["for_each"].expr, scope), "for_each")
            if not isinstance(each, dict | TfSet):
                raise EvalError("for_each must be a map or a set of strings (use toset)")
            return {
                str(k): Resource(
                    self,
                    mode,
                    rtype,
                    name,
                    block,
                    f'{base}["{k}"]',
                    {"each": {"key": k, "value": v}},
                )
                for k, v in iterate(each, "for_each")
            }
        return Resource(self, mode, rtype, name, block, base, {})

    def instances(self, mode: str, rtype: str) -> Iterator[Resource]:
        table = self.config.resources if mode == "resource" else self.config.data
        for kind, name in table:
            if kind != rtype:
                continue
            block = table[(kind, name)]
            try:
                value = self.collection(mode, kind, name, [])
            except EvalError as exc:
                raise located(exc, block, f"{self.prefix()}{kind}.{name}") from None
            yield from (
                value.values()
                if isinstance(value, dict)
                else (value if isinstance(value, list) else [value])
            )

    # -- providers ----------------------------------------------------------------------------

    def provider_region(self, provider: str) -> Any:
        mapped = self._provider_map.get(provider)
        if mapped is not None and self.parent is not None:
            return self.parent.provider_region(mapped)
        block = self.config.providers.get(provider)
        if block is not None:
            attr = block.body.attrs.get("region")
            if attr is not None:
                return evaluate(attr.expr, self.scope(attr.src))
        if self.parent is not None:
            return self.parent.provider_region(provider)
        return Unknown(f"provider {provider}", "no region in the configuration")

    # -- child modules ------------------------------------------------------------------------

    def child(self, name: str) -> Any:
        if name in self._children:
            return self._children[name]
        block = self.config.modules.get(name)
        if block is None:
            return Unknown(f"module.{name}", _NOT_IN_CONFIG)
        attrs = block.body.attrs
        scope = self.scope(block.src)
        source = evaluate(attrs["source"].expr, scope) if "source" in attrs else None
        if not isinstance(source, str):
            raise EvalError(f'module "{name}" has no source')
        key = f"{self.key}.{name}" if self.key else name
        if source.startswith(("./", "../")):
            directory = (self.config.dir / source).resolve()
        else:
            found = self.project.manifest_dir(key)
            if found is None:
                reason = f"{source} is not installed under .terraform/modules; run terraform init"
                self.project.notes.append(
                    f"{block.src.display}:{block.line}: {self.prefix()}module.{name}: "
                    f"not read ({reason})"
                )
                self._children[name] = Unknown(f"module.{name}", reason)
                return self._children[name]
            directory = found
        if not directory.is_dir():
            raise EvalError(f'module "{name}": {directory} is not a directory')
        config = self.project.config(directory)
        provider_map = _providers_map(block)
        base = f"{self.prefix()}module.{name}"

        def instance(address: str, bindings: dict[str, Any]) -> Module:
            inputs: dict[str, Callable[[], Any]] = {}
            for arg, attr in attrs.items():
                if arg in ("source", "version", "count", "for_each", "providers", "depends_on"):
                    continue
                inputs[arg] = _input_thunk(self, attr, bindings)
            return Module(
                self.project,
                config,
                address,
                key,
                self,
                {},
                inputs,
                provider_map,
                f"module.{name}",
            )

        value: Any
        if "count" in attrs:
            count = known_meta(evaluate(attrs["count"].expr, scope), "count")
            value = [instance(f"{base}[{i}]", {"count": {"index": i}}) for i in range(int(count))]
        elif "for_each" in attrs:
            each = known_meta(evaluate(attrs["for_each"].expr, scope), "for_each")
            value = {
                str(k): instance(f'{base}["{k}"]', {"each": {"key": k, "value": v}})
                for k, v in iterate(each, "for_each")
            }
        else:
            value = instance(base, {})
        self._children[name] = value
        return value

    def children(self) -> Iterator[Module]:
        for name, block in self.config.modules.items():
            try:
                value = self.child(name)
            except EvalError as exc:
                raise located(exc, block, f"{self.prefix()}module.{name}") from None
            if isinstance(value, Unknown):  # pragma: no cover - declared modules resolve
                continue
            yield from (
                value.values()
                if isinstance(value, dict)
                else (value if isinstance(value, list) else [value])
            )

    # -- module outputs (Attributes) ----------------------------------------------------------

    def tf_attr(self, name: str) -> Any:
        block = self.config.outputs.get(name)
        if block is None or "value" not in block.body.attrs:
            raise EvalError(f'{self.address} has no output "{name}"')
        attr = block.body.attrs["value"]
        return evaluate(attr.expr, self.scope(attr.src))

    def tf_ref(self) -> str:
        return self.address


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _input_thunk(module: Module, attr: Attr, bindings: dict[str, Any]) -> Callable[[], Any]:
    return lambda: evaluate(attr.expr, module.scope(attr.src, **bindings))


def _providers_map(block: Block) -> dict[str, str]:
    attr = block.body.attrs.get("providers")
    if attr is None:
        return {}
    mapping: dict[str, str] = {}
    inner = attr.expr
    while inner.data == "expr_term" and len(inner.children) == 1:
        inner = inner.children[0]
    if inner.data != "object":
        return {}
    for elem in (c for c in inner.children if isinstance(c, Tree)):
        if elem.data != "object_elem":
            continue
        key_node, value_node = [c for c in elem.children if isinstance(c, Tree)]
        mapping[traversal_text(key_node)] = traversal_text(value_node)
    return mapping
