"""``--lambda NAME_OR_ARN=PATH[,handler=H][,runtime=R][,timeout=S][,memory=MB]``: a Lambda@Edge
function's code, for the associations a source names only by ARN (a DistributionConfig, an S3
code package, a function defined elsewhere), or to replace the code a source holds with a local
file or directory.

The key is the association's versioned ARN (``arn:aws:lambda:us-east-1:123456789012:function:
sign:3``) or the function's name (``sign``, matching every version of it). ``PATH`` is a
``.js``/``.mjs``/``.cjs`` file, a package directory or a ``.zip``, relative to the working
directory. Settings the flag does not give are kept from the source, else Lambda's defaults.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from edgesim.errors import InputError
from edgesim.importers.apishape.lambdas import LAMBDA_NAME, arn_function_name
from edgesim.importers.bundle import ImportBundle, LambdaSource

USAGE = "NAME_OR_ARN=PATH[,handler=FILE.FUNCTION][,runtime=nodejs20.x][,timeout=S][,memory=MB]"
_OPTIONS = ("handler", "runtime", "timeout", "memory")
_SUFFIXES = (".js", ".mjs", ".cjs", ".zip")


def apply_lambda_flags(bundle: ImportBundle, items: Sequence[str], *, base_dir: Path) -> None:
    """Add or replace the code of the Lambda@Edge functions the flags name (see the module)."""
    problems: list[str] = []
    for item in items:
        try:
            _apply(bundle, item, base_dir)
        except InputError as exc:
            problems.append(str(exc))
    if problems:
        raise InputError("\n".join(problems))


def _apply(bundle: ImportBundle, item: str, base_dir: Path) -> None:
    key, sep, rest = item.partition("=")
    key = key.strip()
    if not sep or not key or not rest.strip():
        raise InputError(f"--lambda {item!r}: expected {USAGE}")
    file, *options = (part.strip() for part in rest.split(","))
    settings: dict[str, str] = {}
    for option in options:
        name, eq, value = option.partition("=")
        if not eq or name not in _OPTIONS or not value:
            raise InputError(f"--lambda {item!r}: unknown option {option!r}; expected {USAGE}")
        settings[name] = value
    path = base_dir / file
    if not path.exists():
        raise InputError(f"--lambda {item}: {path} does not exist")
    if not path.is_dir() and path.suffix not in _SUFFIXES:
        raise InputError(
            f"--lambda {item}: {path} is not a .js/.mjs/.cjs file, a package directory or a .zip"
        )
    function = arn_function_name(key)
    if function is None and not LAMBDA_NAME.fullmatch(key):
        raise InputError(
            f"--lambda {item}: {key!r} is neither a Lambda function ARN nor a function name"
        )
    name = bundle.lambda_arns.get(key) or (key if function is None else function)
    known = bundle.lambdas.get(name)
    source = LambdaSource(
        name=name,
        runtime=settings.get("runtime") or (known.runtime if known else None),
        file=Path(os.path.abspath(path)),
        handler=settings.get("handler") or (known.handler if known else None),
        timeout_s=_number(item, settings, "timeout", float) or (known.timeout_s if known else None),
        memory_mb=_number(item, settings, "memory", int) or (known.memory_mb if known else None),
        where=f"--lambda {item}",
    )
    bundle.lambdas[name] = source
    if function is not None:
        bundle.lambda_arns[key] = name
    bundle.where[f"lambdas.{name}"] = source.where
    if path.is_file():
        bundle.sources.append(Path(os.path.abspath(path)))


def _number(item: str, settings: dict[str, str], key: str, kind: type[int] | type[float]) -> Any:
    if key not in settings:
        return None
    try:
        value = kind(settings[key])
    except ValueError:
        raise InputError(f"--lambda {item}: {key}={settings[key]!r} is not a number") from None
    if value <= 0:
        raise InputError(f"--lambda {item}: {key} must be positive")
    return value
