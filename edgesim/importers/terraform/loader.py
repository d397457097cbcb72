"""``load_terraform``, and the assembler over a configuration's modules.

A directory (or a ``.tf`` file) is read as a configuration; a ``.json`` file as
``terraform show -json`` output (:mod:`edgesim.importers.terraform.show_json`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from edgesim.errors import InputError
from edgesim.importers.bundle import FunctionSource, ImportBundle
from edgesim.importers.terraform.assemble import BaseAssembler, Inst
from edgesim.importers.terraform.mapper import Mapper
from edgesim.importers.terraform.module import Module
from edgesim.importers.terraform.project import Project
from edgesim.importers.terraform.resources import Resource
from edgesim.importers.terraform.show_json import load_show_json
from edgesim.importers.terraform.values import FileText


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
        return load_show_json(path, mapped_origins)
    root = path if path.is_dir() else path.parent
    if not root.is_dir():
        raise InputError(f"{path}: no such directory")
    project = Project(root)
    module = project.root_module(variables, var_files)
    return _Assembler(project, module, mapped_origins).bundles()


class _Assembler(BaseAssembler):
    def __init__(
        self, project: Project, root: Module, mapped_origins: Collection[str] = ()
    ) -> None:
        super().__init__(mapped_origins)
        self.project = project
        self.root = root
        self.notes = project.notes
        self._modules: list[Module] | None = None

    def describe(self) -> str:
        return str(self.project.root_dir)

    def modules(self) -> list[Module]:
        if self._modules is None:
            found: list[Module] = []
            pending = [self.root]
            while pending:
                module = pending.pop(0)
                found.append(module)
                pending.extend(module.children())
            self._modules = found
        return self._modules

    def instances(self, rtype: str) -> list[Inst]:
        if rtype not in self._by_type:
            self._by_type[rtype] = [
                inst for module in self.modules() for inst in module.instances("resource", rtype)
            ]
        return self._by_type[rtype]

    def sources(self) -> list[Path]:
        return list(self.project.sources)

    def lambda_root(self) -> Path:
        return self.project.root_dir

    def archives(self) -> list[Inst]:
        return [
            inst for module in self.modules() for inst in module.instances("data", "archive_file")
        ]

    def function_source(self, m: Mapper, inst: Inst, name: str) -> FunctionSource:
        assert isinstance(inst, Resource)
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
