"""The one entry point: a source path (and the command line's flags) → the ``Distribution``.

``load_distribution`` tells the source's kind from what it is:

- a directory with ``manifest.json`` (or that file itself): a CDK cloud assembly →
  ``edgesim.importers.cdk.load_cdk(path, stack=…, parameters=…)``;
- a ``.yaml``/``.yml`` file, or a ``.json`` file with ``Resources``: a CloudFormation / SAM
  template → ``edgesim.importers.cloudformation.load_template(path, parameters=…)``;
- a ``.json`` file with ``DistributionConfig`` (or a bare one): ``distconfig.load_distconfig``;
- a directory with ``.tf`` files (or one ``.tf`` file: its directory), or a ``terraform show
  -json`` file: ``edgesim.importers.terraform.load_terraform(path, variables=…)``.

Each front-end returns a list of :class:`~edgesim.importers.bundle.ImportBundle` named by
``ImportBundle.name`` (a logical id, a resource address); ``--distribution NAME`` chooses
among several (:func:`choose_distribution`), so every source answers it the same way. A
front-end gets only the keyword arguments its signature names (``stack``, ``parameters``,
``variables``, ``var_files``, ``mapped_origins``, ``distribution``). Then the flags
(``--function``, ``--lambda``, ``--policy``, ``--kvs``), ``apishape.to_distribution``, the
overlay and ``--origin`` (``overlay.py``) and the check that every origin is mapped.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal, TypeVar

from edgesim.distribution.model import Distribution
from edgesim.errors import InputError
from edgesim.importers.apishape import Imported, to_distribution
from edgesim.importers.bundle import ImportBundle
from edgesim.importers.distconfig import (
    apply_function_flags,
    apply_policy_flags,
    distribution_config_of,
    load_distconfig,
    read_json,
)
from edgesim.importers.lambda_flags import apply_lambda_flags
from edgesim.importers.overlay import apply_kvs_flags, map_origins, read_overlay, require_mapped

SourceKind = Literal["cdk", "cloudformation", "distconfig", "terraform"]
_T = TypeVar("_T")

_FRONT_ENDS: dict[str, tuple[str, str, str]] = {
    # kind → (module, function, what it reads)
    "cdk": ("edgesim.importers.cdk", "load_cdk", "CDK cloud assemblies"),
    "cloudformation": (
        "edgesim.importers.cloudformation",
        "load_template",
        "CloudFormation templates",
    ),
    "terraform": ("edgesim.importers.terraform", "load_terraform", "Terraform configurations"),
}


def detect_source(source: Path) -> tuple[SourceKind, Path]:
    """The kind of ``source`` and the path its front-end reads."""
    if source.is_dir():
        if (source / "manifest.json").is_file():
            return "cdk", source
        if any(source.glob("*.tf")) or any(source.glob("*.tf.json")):
            return "terraform", source
        raise InputError(
            f"{source}: a directory with neither manifest.json (a CDK cloud assembly such as "
            "cdk.out) nor .tf files (Terraform)"
        )
    if not source.exists():
        raise InputError(f"--from {source}: no such file or directory")
    name = source.name.lower()
    if name.endswith((".yaml", ".yml", ".template")):
        return "cloudformation", source
    if name.endswith(".tf"):
        return "terraform", source.parent
    if name.endswith(".json"):
        if name == "manifest.json" and (source.parent / "manifest.json").is_file():
            doc = read_json(source, "source")
            if isinstance(doc, Mapping) and "artifacts" in doc:
                return "cdk", source.parent
        doc = read_json(source, "source")
        if isinstance(doc, Mapping) and "Resources" in doc:
            return "cloudformation", source
        if distribution_config_of(doc) is not None:
            return "distconfig", source
        if isinstance(doc, Mapping) and "format_version" in doc:
            return "terraform", source  # terraform show -json (state or plan)
        raise InputError(
            f"{source}: JSON with neither Resources (a CloudFormation template), "
            "DistributionConfig (aws cloudfront get-distribution-config) nor format_version "
            "(terraform show -json)"
        )
    raise InputError(
        f"{source}: not a source edgesim imports: give a CDK cloud assembly directory, a "
        "CloudFormation/SAM template (.yaml, .yml, .json), a DistributionConfig .json, or a "
        "Terraform directory / terraform show -json file"
    )


def choose_distribution(found: Mapping[str, _T], wanted: str | None, *, source: str) -> _T:
    """The distribution ``wanted`` (``--distribution NAME``) among ``found`` (name → anything,
    e.g. a logical id or a resource address), or the only one; else an InputError listing
    them. For front-ends whose source can hold several distributions."""
    names = ", ".join(found) or "none"
    if wanted is not None:
        if wanted in found:
            return found[wanted]
        raise InputError(f"{source}: no distribution {wanted!r}; distributions: {names}")
    if not found:
        raise InputError(f"{source}: no CloudFront distribution found")
    if len(found) > 1:
        raise InputError(
            f"{source}: {len(found)} distributions ({names}); choose one with --distribution NAME"
        )
    return next(iter(found.values()))


def load_bundle(
    source: Path,
    *,
    stack: str | None = None,
    parameters: Mapping[str, str] | None = None,
    variables: Mapping[str, str] | None = None,
    var_files: Sequence[Path] = (),
    distribution: str | None = None,
    mapped_origins: Sequence[str] = (),
) -> ImportBundle:
    """The bundle of ``source``'s distribution (no flags applied). A front-end returns one
    bundle, or a list of bundles named by ``ImportBundle.name`` from which ``distribution``
    (``--distribution``) chooses (:func:`choose_distribution`). ``mapped_origins`` are the keys
    the command line and the overlay map (a front-end may keep an unresolvable domain of such
    an origin as a placeholder)."""
    kind, path = detect_source(source)
    if kind == "distconfig":
        if stack or parameters or variables or var_files:
            raise InputError(
                f"{source}: --stack, --parameter and --var do not apply to a DistributionConfig"
            )
        if distribution is not None:
            raise InputError(f"--distribution: {source} holds one distribution")
        return load_distconfig(path)
    if stack and kind != "cdk":
        raise InputError(f"--stack {stack}: only a CDK cloud assembly has stacks")
    if parameters and kind not in ("cdk", "cloudformation"):
        raise InputError("--parameter is for CloudFormation and CDK; use --var for Terraform")
    if (variables or var_files) and kind != "terraform":
        raise InputError(
            "--var and --var-file are for Terraform; use --parameter for CloudFormation and CDK"
        )
    loader = _front_end(kind, source)
    wanted: dict[str, Any] = {
        "stack": stack,
        "parameters": dict(parameters or {}),
        "variables": dict(variables or {}),
        "var_files": list(var_files),
        "mapped_origins": list(mapped_origins),
        "distribution": distribution,
    }
    accepted = inspect.signature(loader).parameters
    kwargs = {key: value for key, value in wanted.items() if key in accepted}
    found: object = loader(path, **kwargs)
    if isinstance(found, ImportBundle):
        if distribution is not None and "distribution" not in accepted:
            raise InputError(f"--distribution: not supported for {_FRONT_ENDS[kind][2]} yet")
        return found
    if not isinstance(found, list) or not all(isinstance(b, ImportBundle) for b in found):
        raise TypeError(f"{_FRONT_ENDS[kind][1]} returned {type(found).__name__}")
    named: dict[str, ImportBundle] = {}
    for index, bundle in enumerate(found):
        named[bundle.name or f"#{index}"] = bundle
    return choose_distribution(named, distribution, source=str(source))


def _front_end(kind: str, source: Path) -> Callable[..., Any]:
    module_name, function, what = _FRONT_ENDS[kind]
    try:
        module = __import__(module_name, fromlist=[function])
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise InputError(f"{source}: importing {what} is not available yet") from None
    loader = getattr(module, function, None)
    if loader is None:
        raise InputError(f"{source}: importing {what} is not available yet")
    return loader  # type: ignore[no-any-return]


def import_distribution(
    source: Path,
    *,
    workdir: Path,
    stack: str | None = None,
    parameters: Mapping[str, str] | None = None,
    variables: Mapping[str, str] | None = None,
    var_files: Sequence[Path] = (),
    overlay: Path | None = None,
    origins: Sequence[str] = (),
    functions: Sequence[str] = (),
    policies: Sequence[str] = (),
    kvs: Sequence[str] = (),
    distribution: str | None = None,
    require_origins: bool = True,
    lambdas: Sequence[str] = (),
    base_dir: Path | None = None,
) -> Imported:
    """Import ``source`` with the flags applied; ``Imported.where`` says where each part came
    from (``edgesim import`` writes it as comments). Relative paths in flags are relative to
    ``base_dir`` (default: the working directory). With ``require_origins``, an origin a
    behaviour can reach that nothing maps is an InputError (see ``overlay.require_mapped``)."""
    cwd = base_dir or Path.cwd()
    settings = read_overlay(overlay, base_dir=cwd)
    mapped = [item.partition("=")[0] for item in origins] + list(settings.origins_local)
    bundle = load_bundle(
        source,
        stack=stack,
        parameters=parameters,
        variables=variables,
        var_files=[cwd / f for f in var_files],
        distribution=distribution,
        mapped_origins=mapped,
    )
    apply_function_flags(bundle, functions, base_dir=cwd)
    apply_lambda_flags(bundle, lambdas, base_dir=cwd)
    apply_policy_flags(bundle, policies, base_dir=cwd)
    apply_kvs_flags(bundle, kvs, base_dir=cwd)
    for name, store in bundle.kvs.items():
        if store.data is None and store.items is None and store.where.startswith("--function"):
            bundle.notes.append(
                f"accepted, not emulated: key value store {name} starts empty (no data given): "
                f"seed it with --kvs {name}=data.json"
            )
    if overlay is not None:
        bundle.sources.append(Path(os.path.abspath(overlay)))
    imported = to_distribution(
        bundle,
        workdir=workdir,
        server=settings.server,
        edges=settings.edges,
        throttling=settings.throttling,
    )
    dist = map_origins(
        replace(imported.dist, cache=settings.cache, lambda_settings=settings.lambda_settings),
        overlay=settings,
        flags=origins,
        hints=bundle.origin_hints,
        base_dir=cwd,
        workdir=workdir,
    )
    if require_origins:
        require_mapped(dist, hints=bundle.origin_hints)
    return replace(imported, dist=dist, hints=dict(bundle.origin_hints))


def load_distribution(
    source: Path,
    *,
    workdir: Path,
    stack: str | None = None,
    parameters: Mapping[str, str] | None = None,
    variables: Mapping[str, str] | None = None,
    var_files: Sequence[Path] = (),
    overlay: Path | None = None,
    origins: Sequence[str] = (),
    functions: Sequence[str] = (),
    policies: Sequence[str] = (),
    kvs: Sequence[str] = (),
    distribution: str | None = None,
    lambdas: Sequence[str] = (),
) -> Distribution:
    """The distribution ``source`` deploys, mapped to local origins (see ``import_distribution``);
    function code and KVS data the source holds inline are written under ``workdir``."""
    return import_distribution(
        source,
        workdir=workdir,
        stack=stack,
        parameters=parameters,
        variables=variables,
        var_files=var_files,
        overlay=overlay,
        origins=origins,
        functions=functions,
        policies=policies,
        kvs=kvs,
        distribution=distribution,
        lambdas=lambdas,
    ).dist
