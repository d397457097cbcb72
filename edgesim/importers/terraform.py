"""Terraform front-end: ``.tf`` configurations (with their modules) and ``terraform show -json``.

``load_terraform(path)`` returns one :class:`TerraformBundle` per ``aws_cloudfront_distribution``
instance, named by its resource address (``aws_cloudfront_distribution.site``,
``module.cdn.aws_cloudfront_distribution.this[0]``). Terraform's snake_case blocks are mapped to
the API's ``DistributionConfig`` members; functions, key value stores and custom policies the
distribution uses come along, every reference resolved.

HCL is parsed by python-hcl2 and evaluated by :mod:`edgesim.importers._hcl_eval` (variables with
``-var``/``.tfvars`` values, locals, references between resources, managed policies looked up by
name, ``dynamic`` blocks, static ``count``/``for_each``, local modules and the registry modules
``terraform init`` put under ``.terraform/modules``). A value only AWS knows after apply that
does not matter locally (a certificate ARN, a WAF ACL) is kept as ``<unresolved …>`` with a
note; one that matters (an origin's domain, a policy id, function code) is an InputError naming
the file, the resource address and the attribute path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from lark import Tree

from edgesim.distribution import managed
from edgesim.errors import InputError
from edgesim.importers._hcl_eval import (
    ANY,
    EvalError,
    FileText,
    Scope,
    Source,
    Step,
    TfSet,
    Unknown,
    convert,
    evaluate,
    first_unknown,
    iterate,
    line_of,
    name_of,
    parse_expression,
    parse_hcl,
    parse_type,
    to_string,
)
from edgesim.importers.bundle import (
    ACCOUNT,
    FunctionSource,
    ImportBundle,
    KvsSource,
    function_arn,
)

__all__ = ["TerraformBundle", "kvs_arn", "load_terraform"]


@dataclass
class TerraformBundle(ImportBundle):
    """An ImportBundle named by the distribution's Terraform resource address."""

    name: str = ""


def kvs_arn(name: str) -> str:
    """The synthetic ARN a key value store gets (the real one carries an id AWS assigns)."""
    return f"arn:aws:cloudfront::{ACCOUNT}:key-value-store/{name}"


def load_terraform(
    path: Path,
    *,
    variables: Mapping[str, str] = {},
    var_files: Sequence[Path] = (),
    mapped_origins: Collection[str] = (),
) -> list[ImportBundle]:
    """Every CloudFront distribution in a Terraform configuration, as :class:`TerraformBundle`.

    ``path`` is the root module's directory (a ``.tf`` file stands for its directory) or a
    ``terraform show -json`` file (plan or state). ``variables`` are ``-var`` values (strings,
    parsed as HCL for non-string types); ``var_files`` are ``-var-file`` files, applied after
    ``terraform.tfvars`` and ``*.auto.tfvars`` and before ``variables``. ``mapped_origins``
    are origin ids the caller maps to local URLs (``--origin ID=…``): an unresolvable domain of
    one of those is kept as a placeholder instead of failing the import.
    """
    path = Path(path)
    if path.suffix == ".json" and not path.name.endswith(".tf.json"):
        return _load_show_json(path, mapped_origins)
    root = path if path.is_dir() else path.parent
    if not root.is_dir():
        raise InputError(f"{path}: no such directory")
    project = _Project(root)
    module = project.root_module(variables, var_files)
    return _Assembler(project, module, mapped_origins).bundles()


# =============================================================================================
# Configuration files
# =============================================================================================


@dataclass
class _Attr:
    name: str
    expr: Tree[Any]
    line: int
    src: Source


@dataclass
class _Block:
    type: str
    labels: list[str]
    body: _Body
    line: int
    src: Source


@dataclass
class _Body:
    attrs: dict[str, _Attr] = field(default_factory=dict)
    blocks: list[_Block] = field(default_factory=list)


def _to_body(tree: Tree[Any], src: Source) -> _Body:
    body = _Body()
    for child in tree.children:
        if not isinstance(child, Tree):
            continue
        if child.data == "attribute":
            parts = [c for c in child.children if isinstance(c, Tree)]
            name = name_of(parts[0])
            body.attrs[name] = _Attr(name, parts[-1], line_of(child), src)
        elif child.data == "block":
            parts = [c for c in child.children if isinstance(c, Tree)]
            inner = next(p for p in parts if p.data == "body")
            labels = [name_of(p) for p in parts[1:] if p.data in ("identifier", "string")]
            body.blocks.append(
                _Block(name_of(parts[0]), labels, _to_body(inner, src), line_of(child), src)
            )
    return body


@dataclass
class _ModuleConfig:
    dir: Path
    files: list[Path]
    variables: dict[str, _Block] = field(default_factory=dict)
    locals: dict[str, _Attr] = field(default_factory=dict)
    resources: dict[tuple[str, str], _Block] = field(default_factory=dict)
    data: dict[tuple[str, str], _Block] = field(default_factory=dict)
    modules: dict[str, _Block] = field(default_factory=dict)
    outputs: dict[str, _Block] = field(default_factory=dict)
    providers: dict[str, _Block] = field(default_factory=dict)


class _Project:
    """Files read, parsed module directories and the module manifest of one import."""

    def __init__(self, root: Path) -> None:
        self.root_dir = root
        self.configs: dict[Path, _ModuleConfig] = {}
        self.sources: list[Path] = []
        self.notes: list[str] = []
        self._manifest: dict[str, str] | None = None

    def display(self, path: Path) -> str:
        try:
            rel = path.resolve().relative_to(self.root_dir.resolve())
        except ValueError:
            return str(path)
        return str(self.root_dir / rel) if str(self.root_dir) != "." else str(rel)

    def add_source(self, path: Path) -> None:
        resolved = path.resolve()
        if resolved not in self.sources:
            self.sources.append(resolved)

    def config(self, directory: Path) -> _ModuleConfig:
        directory = directory.resolve()
        cached = self.configs.get(directory)
        if cached is not None:
            return cached
        files = sorted(p for p in directory.glob("*.tf") if p.is_file())
        config = _ModuleConfig(directory, files)
        for file in files:
            self.add_source(file)
            src = Source(file, self.display(file))
            try:
                tree = parse_hcl(file.read_text(encoding="utf-8"), src.display)
            except EvalError as exc:
                raise InputError(str(exc)) from None
            _collect(config, _to_body(tree.children[0], src))
        if not files:
            raise InputError(f"{self.display(directory)}: no .tf files")
        self.configs[directory] = config
        return config

    def manifest_dir(self, key: str) -> Path | None:
        if self._manifest is None:
            self._manifest = {}
            manifest = self.root_dir / ".terraform" / "modules" / "modules.json"
            if manifest.is_file():
                self.add_source(manifest)
                try:
                    entries = json.loads(manifest.read_text(encoding="utf-8")).get("Modules", [])
                except (ValueError, AttributeError):
                    raise InputError(f"{self.display(manifest)}: not valid JSON") from None
                for entry in entries:
                    if isinstance(entry, dict) and entry.get("Key"):
                        self._manifest[str(entry["Key"])] = str(entry.get("Dir", ""))
        found = self._manifest.get(key)
        return (self.root_dir / found) if found else None

    def root_module(self, variables: Mapping[str, str], var_files: Sequence[Path]) -> _Module:
        config = self.config(self.root_dir)
        values: dict[str, tuple[Any, str]] = {}
        auto = [self.root_dir / "terraform.tfvars", self.root_dir / "terraform.tfvars.json"]
        auto += sorted(self.root_dir.glob("*.auto.tfvars")) + sorted(
            self.root_dir.glob("*.auto.tfvars.json")
        )
        for file in [p for p in auto if p.is_file()] + [Path(p) for p in var_files]:
            values.update(self._read_tfvars(file, config))
        for name, raw in variables.items():
            block = config.variables.get(name)
            if block is None:
                raise InputError(f"-var {name}=…: no variable {name!r} is declared")
            values[name] = (_cli_value(raw, block, name), f"-var {name}")
        return _Module(self, config, "", "", None, values)

    def _read_tfvars(self, file: Path, config: _ModuleConfig) -> dict[str, tuple[Any, str]]:
        if not file.is_file():
            raise InputError(f"{file}: no such variables file")
        self.add_source(file)
        display = self.display(file)
        text = file.read_text(encoding="utf-8")
        found: dict[str, tuple[Any, str]] = {}
        if file.name.endswith(".json"):
            try:
                data = json.loads(text)
            except ValueError as exc:
                raise InputError(f"{display}: not valid JSON: {exc}") from None
            found = {k: (v, display) for k, v in data.items()}
        else:
            try:
                body = _to_body(parse_hcl(text, display).children[0], Source(file, display))
                scope = Scope(_ConstResolver(self.root_dir), Source(file, display))
                for name, attr in body.attrs.items():
                    found[name] = (evaluate(attr.expr, scope), f"{display}:{attr.line}")
            except EvalError as exc:
                raise InputError(str(exc)) from None
        for name in list(found):
            if name not in config.variables:
                self.notes.append(f"{display}: ignored a value for undeclared variable {name!r}")
                del found[name]
        return found


def _collect(config: _ModuleConfig, body: _Body) -> None:
    for block in body.blocks:
        labels = block.labels
        if block.type == "variable" and labels:
            config.variables[labels[0]] = block
        elif block.type == "locals":
            config.locals.update(block.body.attrs)
        elif block.type == "resource" and len(labels) == 2:
            config.resources[(labels[0], labels[1])] = block
        elif block.type == "data" and len(labels) == 2:
            config.data[(labels[0], labels[1])] = block
        elif block.type == "module" and labels:
            config.modules[labels[0]] = block
        elif block.type == "output" and labels:
            config.outputs[labels[0]] = block
        elif block.type == "provider" and labels:
            alias = block.body.attrs.get("alias")
            name = labels[0]
            if alias is not None:
                alias_value = evaluate(alias.expr, Scope(_ConstResolver(Path(".")), alias.src))
                name = f"{name}.{alias_value}"
            config.providers[name] = block


def _cli_value(raw: str, block: _Block, name: str) -> Any:
    type_attr = block.body.attrs.get("type")
    if type_attr is None:
        return raw
    tf_type = parse_type(type_attr.expr, Scope(_ConstResolver(Path(".")), type_attr.src))
    if tf_type.kind in ("string", "any"):
        return raw
    if tf_type.kind in ("number", "bool"):
        return raw
    try:
        return evaluate(parse_expression(raw), Scope(_ConstResolver(Path(".")), Source(Path(), "")))
    except EvalError as exc:
        raise InputError(f"-var {name}={raw}: {exc.message}") from None


class _ConstResolver:
    """Names in .tfvars files and type constraints: none are defined."""

    def __init__(self, root_dir: Path) -> None:
        self.root_dir = root_dir

    def resolve(self, root: str, steps: Sequence[Step], scope: Scope) -> tuple[Any, int]:
        raise EvalError(f"{root}: variables are not allowed here")

    def path_value(self, name: str) -> Any:
        raise EvalError("path is not allowed here")

    def read_file(self, name: str) -> tuple[Path, bytes]:
        raise EvalError("functions reading files are not allowed here")


# =============================================================================================
# Module instances: names, resources, providers
# =============================================================================================

_NOT_IN_CONFIG = "not in the configuration"


class _Module:
    """One instance of a module: resolves ``var.``, ``local.``, resources, data and modules."""

    def __init__(
        self,
        project: _Project,
        config: _ModuleConfig,
        address: str,
        key: str,
        parent: _Module | None,
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
        const = Scope(_ConstResolver(self.root_dir), block.src)
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

    def _instances(self, mode: str, rtype: str, name: str, block: _Block, base: str) -> Any:
        attrs = block.body.attrs
        scope = self.scope(block.src)
        if "count" in attrs:
            count = _known_meta(evaluate(attrs["count"].expr, scope), "count")
            return [
                _Resource(self, mode, rtype, name, block, f"{base}[{i}]", {"count": {"index": i}})
                for i in range(int(count))
            ]
        if "for_each" in attrs:
            each = _known_meta(evaluate(attrs["for_each"].expr, scope), "for_each")
            if not isinstance(each, dict | TfSet):
                raise EvalError("for_each must be a map or a set of strings (use toset)")
            return {
                str(k): _Resource(
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
        return _Resource(self, mode, rtype, name, block, base, {})

    def instances(self, mode: str, rtype: str) -> Iterator[_Resource]:
        table = self.config.resources if mode == "resource" else self.config.data
        for kind, name in table:
            if kind != rtype:
                continue
            block = table[(kind, name)]
            try:
                value = self.collection(mode, kind, name, [])
            except EvalError as exc:
                raise _located(exc, block, f"{self.prefix()}{kind}.{name}") from None
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

        def instance(address: str, bindings: dict[str, Any]) -> _Module:
            inputs: dict[str, Callable[[], Any]] = {}
            for arg, attr in attrs.items():
                if arg in ("source", "version", "count", "for_each", "providers", "depends_on"):
                    continue
                inputs[arg] = _input_thunk(self, attr, bindings)
            return _Module(
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
            count = _known_meta(evaluate(attrs["count"].expr, scope), "count")
            value = [instance(f"{base}[{i}]", {"count": {"index": i}}) for i in range(int(count))]
        elif "for_each" in attrs:
            each = _known_meta(evaluate(attrs["for_each"].expr, scope), "for_each")
            value = {
                str(k): instance(f'{base}["{k}"]', {"each": {"key": k, "value": v}})
                for k, v in iterate(each, "for_each")
            }
        else:
            value = instance(base, {})
        self._children[name] = value
        return value

    def children(self) -> Iterator[_Module]:
        for name, block in self.config.modules.items():
            try:
                value = self.child(name)
            except EvalError as exc:
                raise _located(exc, block, f"{self.prefix()}module.{name}") from None
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


def _input_thunk(module: _Module, attr: _Attr, bindings: dict[str, Any]) -> Callable[[], Any]:
    return lambda: evaluate(attr.expr, module.scope(attr.src, **bindings))


def _providers_map(block: _Block) -> dict[str, str]:
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
        mapping[_traversal_text(key_node)] = _traversal_text(value_node)
    return mapping


def _traversal_text(node: Tree[Any]) -> str:
    """``aws.us_east_1`` written as a provider reference (not evaluated)."""
    names = [str(t) for t in node.scan_values(lambda v: getattr(v, "type", "") == "NAME")]
    return ".".join(names)


def _known_meta(value: Any, what: str) -> Any:
    """count, or for_each's keys: Terraform needs them before apply (map values may wait)."""
    unknown = value if isinstance(value, Unknown) else None
    if isinstance(value, TfSet):  # a set's elements are its keys
        unknown = first_unknown(value)
    if unknown is not None:
        raise EvalError(f"{what} must be known before apply: {unknown.describe()}")
    if value is None:
        raise EvalError(f"{what} is null")
    return value


def _located(exc: EvalError, block: _Block, address: str) -> InputError:
    where = f"{block.src.display}:{block.line}"
    detail = exc.message if exc.where in ("", where) else str(exc)
    return InputError(f"{where}: {address}: {detail}")


# =============================================================================================
# Resources: arguments, nested blocks and the attributes AWS would compute
# =============================================================================================


class _Resource:
    """A resource (or data source) instance; attributes are evaluated when read."""

    def __init__(
        self,
        module: _Module,
        mode: str,
        rtype: str,
        name: str,
        block: _Block,
        address: str,
        bindings: dict[str, Any],
    ) -> None:
        self.module = module
        self.mode = mode
        self.type = rtype
        self.name = name
        self.block = block
        self.address = address
        self.node = _HclNode(module, block.body, bindings, address, block.src, block.line)
        self._cache: dict[str, Any] = {}
        self._active: set[str] = set()

    def tf_ref(self) -> str:
        return self.address

    def arg(self, name: str) -> Any:
        return self.node.raw(name)

    def region(self) -> Any:
        if "region" in self.block.body.attrs:
            return self.arg("region")
        provider = self.block.body.attrs.get("provider")
        ref = _traversal_text(provider.expr) if provider is not None else "aws"
        return self.module.provider_region(ref)

    def tf_attr(self, name: str) -> Any:
        if name in self._cache:
            return self._cache[name]
        if name in self._active:
            raise EvalError(f"cycle: {self.address}.{name} refers to itself")
        self._active.add(name)
        try:
            value = self._attr(name)
        finally:
            self._active.discard(name)
        self._cache[name] = value
        return value

    def _attr(self, name: str) -> Any:
        computed = _COMPUTED.get((self.mode, self.type), {}).get(name)
        if computed is not None:
            value = computed(self)
        elif name in self.block.body.attrs:
            value = self.arg(name)
        elif self.node.has_blocks(name):
            value = [node.value() for node in self.node.expand(name)]
        else:
            where = "read by edgesim" if self.mode == "data" else "computed by AWS when applied"
            value = Unknown(f"{self.address}.{name}", where)
        return value

    def mark(self, note: str) -> None:
        self.module.project.notes.append(note)


class _Res(Protocol):
    """What computed attributes need: an argument, the region, the address."""

    address: str

    def arg(self, name: str) -> Any: ...

    def region(self) -> Any: ...

    def mark(self, note: str) -> None: ...


def _name_or(res: _Res, attr: str = "name") -> Any:
    value = res.arg(attr)
    return value if value is not None else res.address.rsplit(".", 1)[-1]


def _bucket_name(res: _Res) -> Any:
    name = res.arg("bucket")
    if name is None:
        prefix = res.arg("bucket_prefix")
        name = f"{prefix or 'terraform-'}{res.address.rsplit('.', 1)[-1].split('[')[0]}"
        res.mark(
            f"{res.address}: the bucket name is chosen when applied; edgesim calls it {name!r}"
        )
    return name


def _bucket_domain(res: _Res, regional: bool) -> Any:
    bucket = _bucket_name(res)
    if isinstance(bucket, Unknown):
        return bucket
    region = res.region() if regional else None
    if isinstance(region, str) and region:
        return f"{bucket}.s3.{region}.amazonaws.com"
    return f"{bucket}.s3.amazonaws.com"


def _website_endpoint(res: _Res) -> Any:
    bucket = res.arg("bucket")
    region = res.region()
    if isinstance(bucket, Unknown) or not isinstance(region, str):
        return Unknown(f"{res.address}.website_endpoint", "the region is not in the configuration")
    return f"{bucket}.s3-website-{region}.amazonaws.com"


def _managed_id(kind: str) -> Callable[[_Res], Any]:
    find = {
        "cache": managed.find_cache_policy,
        "origin_request": managed.find_origin_request_policy,
        "response_headers": managed.find_response_headers_policy,
    }[kind]

    def policy_id(res: _Res) -> Any:
        given = res.arg("id")
        name = res.arg("name")
        key = given if given is not None else name
        if isinstance(key, Unknown) or key is None:
            return key
        policy = find(key)
        if policy is not None and policy.managed_id:
            return policy.managed_id
        res.mark(
            f"{res.address}: {key!r} is not a managed {kind.replace('_', ' ')} policy; it is "
            f"taken to be one in the configuration or given with --policy {key}=policy.json"
        )
        return key

    return policy_id


_S3 = {
    "id": _bucket_name,
    "bucket": _bucket_name,
    "arn": lambda r: f"arn:aws:s3:::{_bucket_name(r)}",
    "bucket_domain_name": lambda r: _bucket_domain(r, regional=False),
    "bucket_regional_domain_name": lambda r: _bucket_domain(r, regional=True),
    "region": lambda r: r.region(),
}

_COMPUTED: dict[tuple[str, str], dict[str, Callable[[_Res], Any]]] = {
    ("resource", "aws_cloudfront_function"): {
        "arn": lambda r: _map_known(_name_or(r), function_arn),
        "id": _name_or,
        "name": _name_or,
    },
    ("data", "aws_cloudfront_function"): {
        "arn": lambda r: _map_known(_name_or(r), function_arn),
        "id": _name_or,
    },
    ("resource", "aws_cloudfront_key_value_store"): {
        "arn": lambda r: _map_known(_name_or(r), kvs_arn),
        "id": _name_or,
        "name": _name_or,
    },
    ("resource", "aws_cloudfront_cache_policy"): {"id": _name_or},
    ("resource", "aws_cloudfront_origin_request_policy"): {"id": _name_or},
    ("resource", "aws_cloudfront_response_headers_policy"): {"id": _name_or},
    ("resource", "aws_cloudfront_origin_access_control"): {"id": _name_or},
    ("resource", "aws_cloudfront_origin_access_identity"): {
        "id": lambda r: f"oai-{r.address.rsplit('.', 1)[-1]}",
        "cloudfront_access_identity_path": lambda r: (
            f"origin-access-identity/cloudfront/oai-{r.address.rsplit('.', 1)[-1]}"
        ),
    },
    ("data", "aws_cloudfront_cache_policy"): {"id": _managed_id("cache")},
    ("data", "aws_cloudfront_origin_request_policy"): {"id": _managed_id("origin_request")},
    ("data", "aws_cloudfront_response_headers_policy"): {"id": _managed_id("response_headers")},
    ("resource", "aws_s3_bucket"): _S3,
    ("data", "aws_s3_bucket"): _S3,
    ("resource", "aws_s3_bucket_website_configuration"): {
        "website_endpoint": _website_endpoint,
    },
    ("data", "aws_region"): {"name": lambda r: r.region(), "id": lambda r: r.region()},
    ("data", "aws_caller_identity"): {"account_id": lambda r: ACCOUNT, "id": lambda r: ACCOUNT},
    ("data", "aws_partition"): {"partition": lambda r: "aws", "id": lambda r: "aws"},
}


def _map_known(value: Any, fn: Callable[[str], str]) -> Any:
    return fn(value) if isinstance(value, str) else value


# =============================================================================================
# Nodes: a block whose attributes the mapping reads (HCL configuration or show -json values)
# =============================================================================================


class _Node(Protocol):
    path: str

    def get(self, name: str) -> Any: ...

    def blocks(self, name: str) -> list[_Node]: ...

    def where(self, name: str | None = None) -> str: ...


class _HclNode:
    """A configuration block: attributes evaluated on read, ``dynamic`` blocks expanded."""

    def __init__(
        self,
        module: _Module,
        body: _Body,
        bindings: dict[str, Any],
        path: str,
        src: Source,
        line: int,
    ) -> None:
        self.module = module
        self.body = body
        self.bindings = bindings
        self.path = path
        self.src = src
        self.line = line

    def where(self, name: str | None = None) -> str:
        attr = self.body.attrs.get(name) if name else None
        if attr is not None:
            return f"{attr.src.display}:{attr.line}"
        return f"{self.src.display}:{self.line}"

    def raw(self, name: str) -> Any:
        attr = self.body.attrs.get(name)
        if attr is None:
            return None
        return evaluate(attr.expr, self.module.scope(attr.src, **self.bindings))

    def get(self, name: str) -> Any:
        try:
            return self.raw(name)
        except EvalError as exc:
            where = self.where(name)
            detail = exc.message if exc.where in ("", where) else str(exc)
            raise InputError(f"{where}: {self.path}.{name}: {detail}") from None

    def expr(self, name: str) -> _Attr | None:
        return self.body.attrs.get(name)

    def has_blocks(self, name: str) -> bool:
        return any(
            b.type == name or (b.type == "dynamic" and b.labels[:1] == [name])
            for b in self.body.blocks
        )

    def blocks(self, name: str) -> list[_Node]:
        return list(self.expand(name))

    def expand(self, name: str) -> Iterator[_HclNode]:
        index = 0
        for block in self.body.blocks:
            if block.type == name:
                yield _HclNode(
                    self.module,
                    block.body,
                    self.bindings,
                    f"{self.path}.{name}[{index}]",
                    block.src,
                    block.line,
                )
                index += 1
            elif block.type == "dynamic" and block.labels[:1] == [name]:
                for node in self._dynamic(block, name, index):
                    yield node
                    index += 1

    def _dynamic(self, block: _Block, name: str, start: int) -> Iterator[_HclNode]:
        attrs = block.body.attrs
        where = f"{block.src.display}:{block.line}"
        label = f"{self.path}.{name}[{start}…] (dynamic)"
        content = next((b for b in block.body.blocks if b.type == "content"), None)
        if "for_each" not in attrs or content is None:
            raise InputError(f"{where}: {label}: a dynamic block needs for_each and content")
        scope = self.module.scope(block.src, **self.bindings)
        try:
            collection = _known_meta(evaluate(attrs["for_each"].expr, scope), "for_each")
            iterator = name
            if "iterator" in attrs:
                iterator = _traversal_text(attrs["iterator"].expr)
            items = iterate(collection, "for_each")
        except EvalError as exc:
            detail = exc.message if exc.where in ("", where) else str(exc)
            raise InputError(f"{where}: {label}: {detail}") from None
        for offset, (key, value) in enumerate(items):
            bindings = {**self.bindings, iterator: {"key": key, "value": value}}
            yield _HclNode(
                self.module,
                content.body,
                bindings,
                f"{self.path}.{name}[{start + offset}]",
                content.src,
                content.line,
            )

    def value(self) -> dict[str, Any]:
        """The block as an object (for references to a resource's nested blocks)."""
        result = {name: self.raw(name) for name in self.body.attrs}
        names = {b.labels[0] if b.type == "dynamic" else b.type for b in self.body.blocks}
        for name in names:
            result[name] = [n.value() for n in self.expand(name)]
        return result


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


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
            refs = self._exprs.get(name, {}).get("references", []) if self._exprs else []
            if self._resolve is not None and refs:
                return self._resolve(refs)
            return Unknown(f"{self.path}.{name}", "known only after apply")
        return value

    def blocks(self, name: str) -> list[_Node]:
        items = self.values.get(name) or []
        if isinstance(items, dict):
            items = [items]
        unknowns = _as_list(self._unknown.get(name))
        exprs = _as_list(self._exprs.get(name))
        nodes: list[_Node] = []
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


# =============================================================================================
# Mapping Terraform's blocks to the API's DistributionConfig and policy configs
# =============================================================================================

_ORIGIN_HINT = "pass -var or map the origin with --origin"


def _q(items: list[Any]) -> dict[str, Any]:
    return {"Quantity": len(items), "Items": items}


def _placeholder(value: Any) -> Any:
    if isinstance(value, Unknown):
        return f"<unresolved {value.ref}>"
    if isinstance(value, list):
        return [_placeholder(v) for v in value]
    if isinstance(value, dict):
        return {k: _placeholder(v) for k, v in value.items()}
    return value


class _Mapper:
    def __init__(self, notes: list[str], mapped_origins: Collection[str] = ()) -> None:
        self.notes = notes
        self.mapped_origins = mapped_origins

    def get(
        self,
        node: _Node,
        name: str,
        *,
        required: bool = False,
        tolerant: bool = False,
        hint: str = "",
        empty_is_none: bool = False,
    ) -> Any:
        value = node.get(name)
        unknown = first_unknown(value)
        if unknown is not None:
            if tolerant:
                self.notes.append(
                    f"{node.where(name)}: {node.path}.{name}: kept as a placeholder, "
                    f"{unknown.describe()}"
                )
                return _placeholder(value)
            reason = f"{unknown.reason}; {hint}" if hint else unknown.reason
            raise InputError(
                f"{node.where(name)}: {node.path}.{name}: cannot resolve {unknown.ref} ({reason})"
            )
        if empty_is_none and value in ("", []):
            value = None
        if value is None and required:
            raise InputError(f"{node.where(name)}: {node.path}.{name}: is required")
        return value

    def text(self, node: _Node, name: str, **kw: Any) -> str | None:
        value = self.get(node, name, empty_is_none=True, **kw)
        if value is None:
            return None
        text = to_string(value)
        if not isinstance(text, str):
            raise InputError(f"{node.where(name)}: {node.path}.{name}: a string is required")
        return text

    def strings(self, node: _Node, name: str, **kw: Any) -> list[str]:
        value = self.get(node, name, **kw)
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list):
            raise InputError(f"{node.where(name)}: {node.path}.{name}: a list is required")
        return [str(to_string(v)) for v in value]

    def number(self, node: _Node, name: str, **kw: Any) -> int | float | None:
        value = self.get(node, name, **kw)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InputError(f"{node.where(name)}: {node.path}.{name}: a number is required")
        try:
            number = float(value)
        except ValueError:
            raise InputError(
                f"{node.where(name)}: {node.path}.{name}: {value!r} is not a number"
            ) from None
        return int(number) if number.is_integer() else number

    def flag(self, node: _Node, name: str, default: bool | None = None) -> bool | None:
        value = self.get(node, name)
        if value is None:
            return default
        if isinstance(value, str) and value in ("true", "false"):
            return value == "true"
        if not isinstance(value, bool):
            raise InputError(f"{node.where(name)}: {node.path}.{name}: true or false is required")
        return value

    def one(self, node: _Node, name: str) -> _Node | None:
        blocks = node.blocks(name)
        return blocks[0] if blocks else None

    def items(self, node: _Node | None, name: str, **kw: Any) -> dict[str, Any] | None:
        """A ``name { items = [...] }`` block as ``{Quantity, Items}``."""
        block = self.one(node, name) if node is not None else None
        if block is None:
            return None
        return _q(self.strings(block, "items", **kw))


def _set(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        target[key] = value


def _distribution(m: _Mapper, node: _Node) -> tuple[dict[str, Any], dict[str, str]]:
    cfg: dict[str, Any] = {"CallerReference": node.path}
    where: dict[str, str] = {"": f"{node.where()}: {node.path}"}
    cfg["Comment"] = m.text(node, "comment", tolerant=True) or ""
    cfg["Enabled"] = m.flag(node, "enabled", True)
    cfg["Aliases"] = _q(m.strings(node, "aliases", tolerant=True))
    _set(cfg, "DefaultRootObject", m.text(node, "default_root_object"))
    origins = []
    for i, origin in enumerate(node.blocks("origin")):
        origins.append(_origin(m, origin))
        where[f"Origins.Items.{i}"] = f"{origin.where()}: {origin.path}"
    cfg["Origins"] = _q(origins)
    groups = []
    for i, group in enumerate(node.blocks("origin_group")):
        groups.append(_origin_group(m, group))
        where[f"OriginGroups.Items.{i}"] = f"{group.where()}: {group.path}"
    cfg["OriginGroups"] = _q(groups)
    default = m.one(node, "default_cache_behavior")
    if default is None:
        raise InputError(f"{node.where()}: {node.path}: no default_cache_behavior block")
    cfg["DefaultCacheBehavior"] = _behavior(m, default, ordered=False)
    where["DefaultCacheBehavior"] = f"{default.where()}: {default.path}"
    behaviors = []
    for i, behavior in enumerate(node.blocks("ordered_cache_behavior")):
        behaviors.append(_behavior(m, behavior, ordered=True))
        where[f"CacheBehaviors.Items.{i}"] = f"{behavior.where()}: {behavior.path}"
    cfg["CacheBehaviors"] = _q(behaviors)
    errors = []
    for i, response in enumerate(node.blocks("custom_error_response")):
        item: dict[str, Any] = {"ErrorCode": m.number(response, "error_code", required=True)}
        _set(item, "ResponsePagePath", m.text(response, "response_page_path"))
        code = m.number(response, "response_code")
        _set(item, "ResponseCode", str(code) if code else None)
        _set(item, "ErrorCachingMinTTL", m.number(response, "error_caching_min_ttl"))
        errors.append(item)
        where[f"CustomErrorResponses.Items.{i}"] = f"{response.where()}: {response.path}"
    cfg["CustomErrorResponses"] = _q(errors)
    restrictions = m.one(node, "restrictions")
    geo = m.one(restrictions, "geo_restriction") if restrictions is not None else None
    if geo is not None:
        locations = m.strings(geo, "locations")
        cfg["Restrictions"] = {
            "GeoRestriction": {
                "RestrictionType": m.text(geo, "restriction_type") or "none",
                **_q(locations),
            }
        }
        where["Restrictions"] = f"{geo.where()}: {geo.path}"
    certificate = m.one(node, "viewer_certificate")
    if certificate is not None:
        cfg["ViewerCertificate"] = _convert(m, certificate, _VIEWER_CERTIFICATE, tolerant=True)
    logging = m.one(node, "logging_config")
    if logging is not None:
        cfg["Logging"] = {
            "Enabled": True,
            "IncludeCookies": bool(m.flag(logging, "include_cookies", False)),
            "Bucket": m.text(logging, "bucket", tolerant=True) or "",
            "Prefix": m.text(logging, "prefix", tolerant=True) or "",
        }
    for tf_name, api_name in (
        ("price_class", "PriceClass"),
        ("web_acl_id", "WebACLId"),
        ("http_version", "HttpVersion"),
        ("continuous_deployment_policy_id", "ContinuousDeploymentPolicyId"),
        ("anycast_ip_list_id", "AnycastIpListId"),
    ):
        _set(cfg, api_name, m.text(node, tf_name, tolerant=True))
    _set(cfg, "IsIPV6Enabled", m.flag(node, "is_ipv6_enabled"))
    _set(cfg, "Staging", m.flag(node, "staging"))
    return cfg, where


def _origin(m: _Mapper, node: _Node) -> dict[str, Any]:
    origin_id = m.text(node, "origin_id", required=True)
    mapped = origin_id in m.mapped_origins
    origin: dict[str, Any] = {
        "Id": origin_id,
        "DomainName": m.text(
            node, "domain_name", required=True, hint=_ORIGIN_HINT, tolerant=mapped
        ),
        "OriginPath": m.text(node, "origin_path") or "",
    }
    headers = [
        {
            "HeaderName": m.text(h, "name", required=True),
            "HeaderValue": m.text(h, "value", required=True) or "",
        }
        for h in node.blocks("custom_header")
    ]
    origin["CustomHeaders"] = _q(headers)
    _set(origin, "ConnectionAttempts", m.number(node, "connection_attempts"))
    _set(origin, "ConnectionTimeout", m.number(node, "connection_timeout"))
    # show -json writes 0 for an unset timeout
    _set(origin, "ResponseCompletionTimeout", m.number(node, "response_completion_timeout") or None)
    _set(origin, "OriginAccessControlId", m.text(node, "origin_access_control_id", tolerant=True))
    custom = m.one(node, "custom_origin_config")
    s3 = m.one(node, "s3_origin_config")
    vpc = m.one(node, "vpc_origin_config")
    if custom is not None:
        config: dict[str, Any] = {
            "HTTPPort": m.number(custom, "http_port", required=True),
            "HTTPSPort": m.number(custom, "https_port", required=True),
            "OriginProtocolPolicy": m.text(custom, "origin_protocol_policy", required=True),
        }
        protocols = m.strings(custom, "origin_ssl_protocols")
        if protocols:
            config["OriginSslProtocols"] = _q(protocols)
        _set(config, "OriginReadTimeout", m.number(custom, "origin_read_timeout"))
        _set(config, "OriginKeepaliveTimeout", m.number(custom, "origin_keepalive_timeout"))
        _set(config, "IpAddressType", m.text(custom, "ip_address_type"))
        origin["CustomOriginConfig"] = config
    elif vpc is not None:
        origin["VpcOriginConfig"] = _convert(m, vpc, _VPC_ORIGIN, tolerant=True)
    else:
        # The provider sends an empty S3OriginConfig when neither block is given (OAC origins).
        identity = m.text(s3, "origin_access_identity", tolerant=True) if s3 is not None else None
        origin["S3OriginConfig"] = {"OriginAccessIdentity": identity or ""}
    shield = m.one(node, "origin_shield")
    if shield is not None:
        origin["OriginShield"] = _convert(m, shield, _ORIGIN_SHIELD, tolerant=True)
    return origin


def _origin_group(m: _Mapper, node: _Node) -> dict[str, Any]:
    criteria = m.one(node, "failover_criteria")
    codes = [int(c) for c in m.strings(criteria, "status_codes")] if criteria else []
    members = [{"OriginId": m.text(b, "origin_id", required=True)} for b in node.blocks("member")]
    group: dict[str, Any] = {
        "Id": m.text(node, "origin_id", required=True),
        "FailoverCriteria": {"StatusCodes": _q(codes)},
        "Members": _q(members),
    }
    _set(group, "SelectionCriteria", m.text(node, "selection_criteria"))
    return group


def _behavior(m: _Mapper, node: _Node, *, ordered: bool) -> dict[str, Any]:
    behavior: dict[str, Any] = {}
    if ordered:
        behavior["PathPattern"] = m.text(node, "path_pattern", required=True)
    behavior["TargetOriginId"] = m.text(node, "target_origin_id", required=True)
    behavior["ViewerProtocolPolicy"] = m.text(node, "viewer_protocol_policy", required=True)
    allowed = m.strings(node, "allowed_methods") or ["GET", "HEAD"]
    cached = m.strings(node, "cached_methods") or ["GET", "HEAD"]
    behavior["AllowedMethods"] = {**_q(allowed), "CachedMethods": _q(cached)}
    behavior["Compress"] = bool(m.flag(node, "compress", False))
    _set(behavior, "SmoothStreaming", m.flag(node, "smooth_streaming"))
    cache_policy = m.text(node, "cache_policy_id")
    _set(behavior, "CachePolicyId", cache_policy)
    _set(behavior, "OriginRequestPolicyId", m.text(node, "origin_request_policy_id"))
    _set(behavior, "ResponseHeadersPolicyId", m.text(node, "response_headers_policy_id"))
    _set(
        behavior, "FieldLevelEncryptionId", m.text(node, "field_level_encryption_id", tolerant=True)
    )
    _set(behavior, "RealtimeLogConfigArn", m.text(node, "realtime_log_config_arn", tolerant=True))
    for tf_name, api_name in (
        ("trusted_key_groups", "TrustedKeyGroups"),
        ("trusted_signers", "TrustedSigners"),
    ):
        names = m.strings(node, tf_name, tolerant=True)
        if names:
            behavior[api_name] = {"Enabled": True, **_q(names)}
    functions = [
        {
            "EventType": m.text(f, "event_type", required=True),
            "FunctionARN": m.text(f, "function_arn", required=True),
        }
        for f in node.blocks("function_association")
    ]
    behavior["FunctionAssociations"] = _q(functions)
    lambdas = []
    for association in node.blocks("lambda_function_association"):
        item = {
            "EventType": m.text(association, "event_type", required=True),
            "LambdaFunctionARN": m.text(association, "lambda_arn", required=True, tolerant=True),
        }
        _set(item, "IncludeBody", m.flag(association, "include_body"))
        lambdas.append(item)
    behavior["LambdaFunctionAssociations"] = _q(lambdas)
    grpc = m.one(node, "grpc_config")
    if grpc is not None:
        behavior["GrpcConfig"] = {"Enabled": bool(m.flag(grpc, "enabled", False))}
    if cache_policy is None:  # the legacy cache settings apply only without a cache policy
        forwarded = m.one(node, "forwarded_values")
        if forwarded is not None:
            behavior["ForwardedValues"] = _forwarded_values(m, forwarded)
        _set(behavior, "MinTTL", m.number(node, "min_ttl"))
        _set(behavior, "DefaultTTL", m.number(node, "default_ttl"))
        _set(behavior, "MaxTTL", m.number(node, "max_ttl"))
    return behavior


def _forwarded_values(m: _Mapper, node: _Node) -> dict[str, Any]:
    result: dict[str, Any] = {"QueryString": bool(m.flag(node, "query_string", False))}
    cookies = m.one(node, "cookies")
    cookie_config: dict[str, Any] = {
        "Forward": (m.text(cookies, "forward") if cookies else None) or "none"
    }
    names = m.strings(cookies, "whitelisted_names") if cookies else []
    if names:
        cookie_config["WhitelistedNames"] = _q(names)
    result["Cookies"] = cookie_config
    result["Headers"] = _q(m.strings(node, "headers"))
    result["QueryStringCacheKeys"] = _q(m.strings(node, "query_string_cache_keys"))
    return result


# A declarative mapping for the policy configs and small distribution parts:
# tf_name: (ApiName, kind, sub-spec). Kinds: v (value), list ({Quantity, Items}), items (a block
# holding `items`), block (one nested block), itemblocks (a block of repeated `items` blocks).
_Spec = dict[str, tuple[str, str, Any]]

_VIEWER_CERTIFICATE: _Spec = {
    "acm_certificate_arn": ("ACMCertificateArn", "v", None),
    "cloudfront_default_certificate": ("CloudFrontDefaultCertificate", "v", None),
    "iam_certificate_id": ("IAMCertificateId", "v", None),
    "minimum_protocol_version": ("MinimumProtocolVersion", "v", None),
    "ssl_support_method": ("SSLSupportMethod", "v", None),
}
_ORIGIN_SHIELD: _Spec = {
    "enabled": ("Enabled", "v", None),
    "origin_shield_region": ("OriginShieldRegion", "v", None),
}
_VPC_ORIGIN: _Spec = {
    "vpc_origin_id": ("VpcOriginId", "v", None),
    "origin_read_timeout": ("OriginReadTimeout", "v", None),
    "origin_keepalive_timeout": ("OriginKeepaliveTimeout", "v", None),
    "owner_account_id": ("OwnerAccountId", "v", None),
}


def _selection(behavior: str, plural: str, api: str) -> _Spec:
    return {
        f"{behavior}_behavior": (f"{api}Behavior", "v", None),
        plural: (f"{api}s", "items", None),
    }


_COOKIES = _selection("cookie", "cookies", "Cookie")
_HEADERS = _selection("header", "headers", "Header")
_QUERY_STRINGS = _selection("query_string", "query_strings", "QueryString")

_CACHE_POLICY: _Spec = {
    "name": ("Name", "v", None),
    "comment": ("Comment", "v", None),
    "default_ttl": ("DefaultTTL", "v", None),
    "max_ttl": ("MaxTTL", "v", None),
    "min_ttl": ("MinTTL", "v", None),
    "parameters_in_cache_key_and_forwarded_to_origin": (
        "ParametersInCacheKeyAndForwardedToOrigin",
        "block",
        {
            "enable_accept_encoding_gzip": ("EnableAcceptEncodingGzip", "v", None),
            "enable_accept_encoding_brotli": ("EnableAcceptEncodingBrotli", "v", None),
            "headers_config": ("HeadersConfig", "block", _HEADERS),
            "cookies_config": ("CookiesConfig", "block", _COOKIES),
            "query_strings_config": ("QueryStringsConfig", "block", _QUERY_STRINGS),
        },
    ),
}
_ORIGIN_REQUEST_POLICY: _Spec = {
    "name": ("Name", "v", None),
    "comment": ("Comment", "v", None),
    "headers_config": ("HeadersConfig", "block", _HEADERS),
    "cookies_config": ("CookiesConfig", "block", _COOKIES),
    "query_strings_config": ("QueryStringsConfig", "block", _QUERY_STRINGS),
}
_OVERRIDE = {"override": ("Override", "v", None)}
_RESPONSE_HEADERS_POLICY: _Spec = {
    "name": ("Name", "v", None),
    "comment": ("Comment", "v", None),
    "cors_config": (
        "CorsConfig",
        "block",
        {
            "access_control_allow_credentials": ("AccessControlAllowCredentials", "v", None),
            "access_control_allow_headers": ("AccessControlAllowHeaders", "items", None),
            "access_control_allow_methods": ("AccessControlAllowMethods", "items", None),
            "access_control_allow_origins": ("AccessControlAllowOrigins", "items", None),
            "access_control_expose_headers": ("AccessControlExposeHeaders", "items", None),
            "access_control_max_age_sec": ("AccessControlMaxAgeSec", "v", None),
            "origin_override": ("OriginOverride", "v", None),
        },
    ),
    "security_headers_config": (
        "SecurityHeadersConfig",
        "block",
        {
            "content_security_policy": (
                "ContentSecurityPolicy",
                "block",
                {**_OVERRIDE, "content_security_policy": ("ContentSecurityPolicy", "v", None)},
            ),
            "content_type_options": ("ContentTypeOptions", "block", _OVERRIDE),
            "frame_options": (
                "FrameOptions",
                "block",
                {**_OVERRIDE, "frame_option": ("FrameOption", "v", None)},
            ),
            "referrer_policy": (
                "ReferrerPolicy",
                "block",
                {**_OVERRIDE, "referrer_policy": ("ReferrerPolicy", "v", None)},
            ),
            "strict_transport_security": (
                "StrictTransportSecurity",
                "block",
                {
                    **_OVERRIDE,
                    "access_control_max_age_sec": ("AccessControlMaxAgeSec", "v", None),
                    "include_subdomains": ("IncludeSubdomains", "v", None),
                    "preload": ("Preload", "v", None),
                },
            ),
            "xss_protection": (
                "XSSProtection",
                "block",
                {
                    **_OVERRIDE,
                    "protection": ("Protection", "v", None),
                    "mode_block": ("ModeBlock", "v", None),
                    "report_uri": ("ReportUri", "v", None),
                },
            ),
        },
    ),
    "server_timing_headers_config": (
        "ServerTimingHeadersConfig",
        "block",
        {"enabled": ("Enabled", "v", None), "sampling_rate": ("SamplingRate", "v", None)},
    ),
    "custom_headers_config": (
        "CustomHeadersConfig",
        "itemblocks",
        {
            "header": ("Header", "v", None),
            "value": ("Value", "v", None),
            **_OVERRIDE,
        },
    ),
    "remove_headers_config": (
        "RemoveHeadersConfig",
        "itemblocks",
        {"header": ("Header", "v", None)},
    ),
}


def _convert(m: _Mapper, node: _Node, spec: _Spec, *, tolerant: bool = False) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for tf_name, (api_name, kind, sub) in spec.items():
        if kind == "v":
            value = m.get(node, tf_name, tolerant=tolerant, empty_is_none=True)
            if value is not None:
                result[api_name] = value
        elif kind == "list":
            result[api_name] = _q(m.strings(node, tf_name, tolerant=tolerant))
        elif kind == "items":
            items = m.items(node, tf_name, tolerant=tolerant)
            if items is not None and items["Quantity"]:
                result[api_name] = items
        elif kind == "block":
            block = m.one(node, tf_name)
            if block is not None:
                result[api_name] = _convert(m, block, sub, tolerant=tolerant)
        else:  # itemblocks
            holder = m.one(node, tf_name)
            if holder is not None:
                entries = [_convert(m, b, sub, tolerant=tolerant) for b in holder.blocks("items")]
                result[api_name] = _q(entries)
    return result


_POLICY_DEFAULTS = {"DefaultTTL": 86400, "MaxTTL": 31536000, "MinTTL": 0}


def _cache_policy(m: _Mapper, node: _Node) -> dict[str, Any]:
    config = _convert(m, node, _CACHE_POLICY)
    for key, default in _POLICY_DEFAULTS.items():
        config.setdefault(key, default)
    params = config.setdefault("ParametersInCacheKeyAndForwardedToOrigin", {})
    params.setdefault("EnableAcceptEncodingGzip", False)
    params.setdefault("EnableAcceptEncodingBrotli", False)
    return config


# =============================================================================================
# Assembling bundles
# =============================================================================================

_POLICY_KINDS = (
    ("CachePolicyId", "aws_cloudfront_cache_policy", "cache_policies", managed.find_cache_policy),
    (
        "OriginRequestPolicyId",
        "aws_cloudfront_origin_request_policy",
        "origin_request_policies",
        managed.find_origin_request_policy,
    ),
    (
        "ResponseHeadersPolicyId",
        "aws_cloudfront_response_headers_policy",
        "response_headers_policies",
        managed.find_response_headers_policy,
    ),
)
_POLICY_SPECS: dict[str, Callable[[_Mapper, _Node], dict[str, Any]]] = {
    "aws_cloudfront_cache_policy": _cache_policy,
    "aws_cloudfront_origin_request_policy": lambda m, n: _convert(m, n, _ORIGIN_REQUEST_POLICY),
    "aws_cloudfront_response_headers_policy": lambda m, n: _convert(m, n, _RESPONSE_HEADERS_POLICY),
}


class _Inst(Protocol):
    """A resource instance of either front: its address, node, and attributes by name."""

    @property
    def address(self) -> str: ...

    @property
    def type(self) -> str: ...

    @property
    def node(self) -> _Node: ...

    def tf_attr(self, name: str) -> Any: ...


class _BaseAssembler:
    """Builds one bundle per distribution from resource instances (HCL or show -json)."""

    def __init__(self, mapped_origins: Collection[str] = ()) -> None:
        self.notes: list[str] = []
        self.mapped_origins = mapped_origins
        self._by_type: dict[str, list[_Inst]] = {}

    def instances(self, rtype: str) -> list[_Inst]:  # pragma: no cover - overridden
        raise NotImplementedError

    def sources(self) -> list[Path]:  # pragma: no cover - overridden
        raise NotImplementedError

    def function_source(self, m: _Mapper, inst: _Inst, name: str) -> FunctionSource:
        raise NotImplementedError  # pragma: no cover - overridden

    def _find(self, rtype: str, attr: str, value: str) -> _Inst | None:
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

    def bundle(self, inst: _Inst) -> ImportBundle:
        notes: list[str] = []
        m = _Mapper(notes, self.mapped_origins)
        config, where = _distribution(m, inst.node)
        bundle = TerraformBundle(distribution_config=config, where=where, name=inst.address)
        behaviors = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]["Items"]]
        for behavior in behaviors:
            for association in behavior["FunctionAssociations"]["Items"]:
                association["FunctionARN"] = self._function(m, bundle, association["FunctionARN"])
            for key, rtype, table, find in _POLICY_KINDS:
                policy_id = behavior.get(key)
                if policy_id is None or find(policy_id) is not None:
                    continue
                self._policy(m, bundle, rtype, table, policy_id)
        self._origin_hints(bundle)
        bundle.notes = [*dict.fromkeys([*self.notes, *notes])]
        bundle.sources = self.sources()
        return bundle

    def _function(self, m: _Mapper, bundle: ImportBundle, arn: str) -> str:
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

    def _kvs_arns(self, m: _Mapper, inst: _Inst) -> list[str]:
        return m.strings(inst.node, "key_value_store_associations")

    def _kvs(self, m: _Mapper, bundle: ImportBundle, arn: str) -> str:
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
        self, m: _Mapper, bundle: ImportBundle, rtype: str, table: str, policy_id: str
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
        policies[policy_id] = _POLICY_SPECS[rtype](m, inst.node)
        bundle.where[f"{table}.{policy_id}"] = f"{inst.node.where()}: {inst.address}"

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


class _Assembler(_BaseAssembler):
    def __init__(
        self, project: _Project, root: _Module, mapped_origins: Collection[str] = ()
    ) -> None:
        super().__init__(mapped_origins)
        self.project = project
        self.root = root
        self.notes = project.notes
        self._modules: list[_Module] | None = None

    def describe(self) -> str:
        return str(self.project.root_dir)

    def modules(self) -> list[_Module]:
        if self._modules is None:
            found: list[_Module] = []
            pending = [self.root]
            while pending:
                module = pending.pop(0)
                found.append(module)
                pending.extend(module.children())
            self._modules = found
        return self._modules

    def instances(self, rtype: str) -> list[_Inst]:
        if rtype not in self._by_type:
            self._by_type[rtype] = [
                inst for module in self.modules() for inst in module.instances("resource", rtype)
            ]
        return self._by_type[rtype]

    def sources(self) -> list[Path]:
        return list(self.project.sources)

    def function_source(self, m: _Mapper, inst: _Inst, name: str) -> FunctionSource:
        assert isinstance(inst, _Resource)
        node = inst.node
        runtime = m.text(node, "runtime", required=True) or ""
        publish = m.flag(node, "publish", True)
        where = f"{node.where()}: {inst.address}"
        source = FunctionSource(name, runtime, auto_publish=bool(publish), where=where)
        code = m.get(node, "code", required=True)
        if isinstance(code, FileText):  # file(…), maybe passed through variables and modules
            source.file = code.path.resolve()
            return source
        source.code = m.text(node, "code", required=True)
        return source


# =============================================================================================
# terraform show -json (plan or state)
# =============================================================================================


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
            computed = _COMPUTED.get((kind, self.type), {}).get(name)
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


class _JsonAssembler(_BaseAssembler):
    def __init__(
        self, path: Path, doc: dict[str, Any], mapped_origins: Collection[str] = ()
    ) -> None:
        super().__init__(mapped_origins)
        self.path = path
        self.display = str(path)
        self.resources: list[_JsonResource] = []
        if isinstance(doc.get("planned_values"), dict):
            root = doc["planned_values"].get("root_module", {})
        elif isinstance(doc.get("values"), dict):
            root = doc["values"].get("root_module", {})
        else:
            raise InputError(
                f"{path}: not terraform show -json output (no values or planned_values)"
            )
        self.after_unknown: dict[str, Any] = {}
        for change in doc.get("resource_changes", []) or []:
            if isinstance(change, dict):
                after = (change.get("change") or {}).get("after_unknown")
                self.after_unknown[str(change.get("address"))] = after
        self.config_exprs: dict[str, Any] = {}
        self._walk_config((doc.get("configuration") or {}).get("root_module") or {}, "")
        self._walk_values(root)

    def _walk_config(self, module: dict[str, Any], prefix: str) -> None:
        for resource in module.get("resources", []) or []:
            address = f"{prefix}{resource.get('address', '')}"
            self.config_exprs[address] = resource.get("expressions", {})
        for name, call in (module.get("module_calls") or {}).items():
            self._walk_config(call.get("module") or {}, f"{prefix}module.{name}.")

    def _walk_values(self, module: dict[str, Any]) -> None:
        for entry in module.get("resources", []) or []:
            if not isinstance(entry, dict):
                continue
            address = str(entry.get("address", ""))
            values = entry.get("values") or {}
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
        for child in module.get("child_modules", []) or []:
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

    def instances(self, rtype: str) -> list[_Inst]:
        return [r for r in self.resources if r.type == rtype and r.mode == "managed"]

    def sources(self) -> list[Path]:
        return [self.path.resolve()]

    def function_source(self, m: _Mapper, inst: _Inst, name: str) -> FunctionSource:
        runtime = m.text(inst.node, "runtime", required=True) or ""
        code = m.text(inst.node, "code", required=True)
        publish = m.flag(inst.node, "publish", True)
        where = f"{self.display}: {inst.address}"
        return FunctionSource(name, runtime, code=code, auto_publish=bool(publish), where=where)


def _load_show_json(path: Path, mapped_origins: Collection[str] = ()) -> list[ImportBundle]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except ValueError as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: not terraform show -json output")
    return _JsonAssembler(path, doc, mapped_origins).bundles()
