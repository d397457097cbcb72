"""One import's project: the .tf files read, and the root module's variable values.

:class:`Project` parses each module directory once, reads the ``.terraform/modules`` manifest
``terraform init`` writes, and gives the root module its variable values from
``terraform.tfvars``, ``*.auto.tfvars``, ``-var-file`` files and ``-var`` values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from edgesim.errors import InputError
from edgesim.importers.terraform.config import Block, ModuleConfig, collect, to_body
from edgesim.importers.terraform.expressions import evaluate
from edgesim.importers.terraform.module import Module
from edgesim.importers.terraform.syntax import parse_expression, parse_hcl
from edgesim.importers.terraform.values import EvalError, Scope, Source
from edgesim.importers.terraform.variables import ConstResolver, parse_type


def read_utf8(file: Path, display: str) -> str:
    """A configuration file's text; an InputError naming it when it cannot be read as UTF-8."""
    try:
        return file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{display}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{display}: not UTF-8 (byte {exc.start}); Terraform files are UTF-8"
        ) from None


class Project:
    """Files read, parsed module directories and the module manifest of one import."""

    def __init__(self, root: Path) -> None:
        self.root_dir = root
        self.configs: dict[Path, ModuleConfig] = {}
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

    def config(self, directory: Path) -> ModuleConfig:
        directory = directory.resolve()
        cached = self.configs.get(directory)
        if cached is not None:
            return cached
        files = sorted(p for p in directory.glob("*.tf") if p.is_file())
        config = ModuleConfig(directory, files)
        for file in files:
            self.add_source(file)
            src = Source(file, self.display(file))
            try:
                tree = parse_hcl(read_utf8(file, src.display), src.display)
            except EvalError as exc:
                raise InputError(str(exc)) from None
            collect(config, to_body(tree.children[0], src))
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

    def root_module(self, variables: Mapping[str, str], var_files: Sequence[Path]) -> Module:
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
        return Module(self, config, "", "", None, values)

    def _read_tfvars(self, file: Path, config: ModuleConfig) -> dict[str, tuple[Any, str]]:
        if not file.is_file():
            raise InputError(f"{file}: no such variables file")
        self.add_source(file)
        display = self.display(file)
        text = read_utf8(file, display)
        found: dict[str, tuple[Any, str]] = {}
        if file.name.endswith(".json"):
            try:
                data = json.loads(text)
            except ValueError as exc:
                raise InputError(f"{display}: not valid JSON: {exc}") from None
            found = {k: (v, display) for k, v in data.items()}
        else:
            try:
                body = to_body(parse_hcl(text, display).children[0], Source(file, display))
                scope = Scope(ConstResolver(self.root_dir), Source(file, display))
                for name, attr in body.attrs.items():
                    found[name] = (evaluate(attr.expr, scope), f"{display}:{attr.line}")
            except EvalError as exc:
                raise InputError(str(exc)) from None
        for name in list(found):
            if name not in config.variables:
                self.notes.append(f"{display}: ignored a value for undeclared variable {name!r}")
                del found[name]
        return found


def _cli_value(raw: str, block: Block, name: str) -> Any:
    type_attr = block.body.attrs.get("type")
    if type_attr is None:
        return raw
    tf_type = parse_type(type_attr.expr, Scope(ConstResolver(Path(".")), type_attr.src))
    if tf_type.kind in ("string", "any"):
        return raw
    if tf_type.kind in ("number", "bool"):
        return raw
    try:
        return evaluate(parse_expression(raw), Scope(ConstResolver(Path(".")), Source(Path(), "")))
    except EvalError as exc:
        raise InputError(f"-var {name}={raw}: {exc.message}") from None
