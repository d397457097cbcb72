"""Lambda@Edge in Terraform: the attributes AWS computes for ``aws_lambda_function`` (its ARNs
in AWS's shape), and the function a ``lambda_function_association``'s ``lambda_arn`` names,
added to the bundle with its code and settings.

- ``qualified_arn`` is ``<arn>:1`` with ``publish = true`` (the first published version), else
  ``<arn>:$LATEST`` (which CloudFront refuses, as the converter says); ``version`` likewise. A
  ``data "aws_lambda_function"`` has the ARN with its ``qualifier``; its code is not in the
  configuration (``--lambda``).
- The code: ``filename`` — when a ``data "archive_file"`` builds that file, its ``source_dir`` or
  ``source_file`` (the zip does not exist before ``terraform plan``), else the file itself;
  ``s3_bucket``/``s3_key`` or ``image_uri`` → the user gives the code with ``--lambda``.
  Relative paths are relative to the root module's directory, as Terraform reads them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from edgesim.importers.bundle import ACCOUNT, ImportBundle, LambdaSource
from edgesim.importers.terraform.mapper import Mapper
from edgesim.importers.terraform.values import Unknown

if TYPE_CHECKING:
    from edgesim.importers.terraform.assemble import BaseAssembler, Inst

_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
HOME_REGION = "us-east-1"  # Lambda@Edge functions are created there


class _Res(Protocol):
    address: str

    def arg(self, name: str) -> Any: ...

    def region(self) -> Any: ...


def _function_name(res: _Res) -> Any:
    value = res.arg("function_name")
    return value if value is not None else res.address.rsplit(".", 1)[-1]


def _arn(res: _Res) -> Any:
    name = _function_name(res)
    if isinstance(name, Unknown):
        return name
    region = res.region()
    region = region if isinstance(region, str) and region else HOME_REGION
    return f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"


def _version(res: _Res) -> str:
    return "1" if res.arg("publish") in (True, "true") else "$LATEST"


def _qualified_arn(res: _Res) -> Any:
    arn = _arn(res)
    return arn if isinstance(arn, Unknown) else f"{arn}:{_version(res)}"


COMPUTED: dict[str, Callable[[Any], Any]] = {
    "arn": _arn,
    "qualified_arn": _qualified_arn,
    "version": _version,
    "function_name": _function_name,
    "id": _function_name,
}


def _data_qualified_arn(res: _Res) -> Any:
    """``data "aws_lambda_function"``: the ARN with its ``qualifier`` (a version, an alias or
    ``$LATEST``); without one the version is only known to AWS."""
    qualifier = res.arg("qualifier")
    arn = _arn(res)
    if isinstance(arn, Unknown) or not isinstance(qualifier, str) or not qualifier:
        return Unknown(f"{res.address}.qualified_arn", "no qualifier: the version AWS has")
    return f"{arn}:{qualifier}"


DATA_COMPUTED: dict[str, Callable[[Any], Any]] = {
    "arn": _arn,
    "qualified_arn": _data_qualified_arn,
    "function_name": _function_name,
    "id": _function_name,
}


def add_lambda(
    assembler: BaseAssembler,
    m: Mapper,
    bundle: ImportBundle,
    arn: Any,
    code: Callable[[Mapper, Inst, LambdaSource], None],
) -> None:
    """Add the ``aws_lambda_function`` whose ``qualified_arn`` is ``arn`` (nothing when none
    is: the converter reports it, or ``--lambda`` gives it)."""
    if not isinstance(arn, str):
        return
    inst = assembler.find("aws_lambda_function", "qualified_arn", arn)
    if inst is None:
        return
    node = inst.node
    given = m.text(node, "function_name")
    resource = inst.address.rsplit(".", 1)[-1].split("[")[0]
    name = given if given and _NAME.fullmatch(given) else resource
    bundle.lambda_arns[arn] = name
    if name in bundle.lambdas:
        return
    timeout = m.number(node, "timeout")
    memory = m.number(node, "memory_size")
    source = LambdaSource(
        name=name,
        runtime=m.text(node, "runtime"),
        handler=m.text(node, "handler"),
        timeout_s=float(timeout) if timeout is not None else None,
        memory_mb=int(memory) if memory is not None else None,
        where=f"{node.where()}: {inst.address}",
    )
    code(m, inst, source)
    bundle.lambdas[name] = source
    bundle.where[f"lambdas.{name}"] = source.where


def other_code(m: Mapper, inst: Inst, source: LambdaSource) -> bool:
    """Code that is not a local file (S3, a container image): ``source.missing`` says which;
    True when that is the case."""
    bucket, key = m.text(inst.node, "s3_bucket"), m.text(inst.node, "s3_key")
    if bucket and key:
        source.missing = f"s3://{bucket}/{key}"
        return True
    image = m.text(inst.node, "image_uri")
    if image:
        source.missing = f"a container image ({image}); Lambda@Edge needs a .zip"
        return True
    return False


def archive_source(archives: list[Inst], m: Mapper, filename: str, root: Path) -> Path | None:
    """The directory or file a ``data "archive_file"`` zips into ``filename``."""
    for archive in archives:
        if m.text(archive.node, "output_path") != filename:
            continue
        for member in ("source_dir", "source_file"):
            value = m.text(archive.node, member)
            if value:
                return root / value
    return None
