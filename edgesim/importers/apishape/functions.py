"""Functions and key value stores the behaviours use: inline function code and KVS ``items``
written as files under the caller's ``workdir`` (rewritten only when their content changed), or
the files the bundle names, checked.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from edgesim import limits
from edgesim.distribution.model import FunctionDecl, KvsDecl
from edgesim.errors import KvsImportError
from edgesim.importers.apishape.notes import ACCEPTED
from edgesim.importers.apishape.state import ConverterState
from edgesim.importers.bundle import FunctionSource, KvsSource
from edgesim.kvs.importfile import dump_import, load_import_file, validate_import

RESOURCE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


class FunctionsMixin(ConverterState):
    """The functions and key value stores in use."""

    def _functions_and_stores(self) -> tuple[dict[str, FunctionDecl], dict[str, KvsDecl]]:
        functions: dict[str, FunctionDecl] = {}
        wanted_stores: dict[str, str] = {}
        for name in self.used_functions:
            source = self.bundle.functions[name]
            decl = self._function(source, name)
            if decl is not None:
                functions[name] = decl
                if decl.kvs is not None:
                    wanted_stores.setdefault(decl.kvs, f"functions.{name}")
        stores: dict[str, KvsDecl] = {}
        for store, _ in sorted(wanted_stores.items()):
            decl_store = self._store(self.bundle.kvs[store], store)
            if decl_store is not None:
                stores[store] = decl_store
        return functions, stores

    def _function(self, source: FunctionSource, name: str) -> FunctionDecl | None:
        at = f"functions.{name}"
        self.where[at] = self.problems.place(at)
        if not RESOURCE_NAME.fullmatch(name):
            self.problems.add(at, f"function name {name!r} must be 1-64 of A-Z a-z 0-9 - _")
            return None
        runtime = source.runtime or limits.RUNTIME_JS_2
        if runtime not in limits.RUNTIMES:
            self.problems.add(
                f"{at}.Runtime",
                f"unknown runtime {runtime!r}; use one of {', '.join(limits.RUNTIMES)}",
            )
            return None
        if not source.auto_publish:
            self.notes.add(
                ACCEPTED + "AutoPublish false (edgesim runs the code as written; CloudFront "
                "would keep serving the LIVE stage)",
                f"function {name}",
            )
        file = self._function_file(source, at, name)
        store = None
        if len(source.kvs) > 1:
            self.problems.add(
                f"{at}.KeyValueStoreAssociations",
                f"{len(source.kvs)} key value stores; a function can have one",
            )
        elif source.kvs:
            store = source.kvs[0]
            if store not in self.bundle.kvs:
                known = ", ".join(sorted(self.bundle.kvs)) or "none"
                self.problems.add(
                    f"{at}.KeyValueStoreAssociations",
                    f"unknown key value store {store!r} (stores in the import: {known})",
                )
                store = None
            elif runtime != limits.RUNTIME_JS_2:
                self.problems.add(
                    f"{at}.Runtime",
                    f"a function using a key value store needs runtime {limits.RUNTIME_JS_2!r}",
                )
        if file is None:
            return None
        return FunctionDecl(name=name, file=file, runtime=runtime, kvs=store)

    def _function_file(self, source: FunctionSource, at: str, name: str) -> Path | None:
        if source.code is not None:
            path = self.workdir / "functions" / f"{name}.js"
            write_if_changed(path, source.code.encode("utf-8"))
            return abs_path(path)
        if source.file is None:
            self.problems.add(at, "has neither inline code nor a file")
            return None
        if not Path(source.file).is_file():
            found = "is a directory" if Path(source.file).is_dir() else "does not exist"
            self.problems.add(at, f"function file {source.file} {found}")
            return None
        return abs_path(source.file)

    def _store(self, source: KvsSource, name: str) -> KvsDecl | None:
        at = f"kvs.{name}"
        self.where[at] = self.problems.place(at)
        if not RESOURCE_NAME.fullmatch(name):
            self.problems.add(at, f"key value store name {name!r} must be 1-64 of A-Z a-z 0-9 - _")
            return None
        if source.data is not None:
            try:
                load_import_file(source.data)
            except KvsImportError as exc:
                self.problems.add(at, f"not a valid CloudFront KVS import file: {exc}")
                return None
            return KvsDecl(name=name, data=abs_path(source.data))
        if source.items is not None:
            doc = {"data": [{"key": k, "value": v} for k, v in source.items.items()]}
            try:
                validate_import(doc, source=at)
            except KvsImportError as exc:
                self.problems.add(at, str(exc).removeprefix(f"{at}: "))
                return None
            path = self.workdir / "kvs" / f"{name}.json"
            write_if_changed(path, dump_import(dict(source.items)))
            return KvsDecl(name=name, data=abs_path(path))
        return KvsDecl(name=name)


def abs_path(path: Path | str) -> Path:
    """An absolute, normalised path (symlinks kept, as edgesim.toml's reader keeps them)."""
    return Path(os.path.abspath(path))


def write_if_changed(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if path.read_bytes() == content:
            return
    except OSError:
        pass
    path.write_bytes(content)
