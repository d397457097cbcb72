"""One build before one command: ``edgesim test --build``, ``lint --build``,
``load_function(build=…)``."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from edgesim.build.hints import BUNDLER_HINT, hint_for
from edgesim.build.relabel import Relabeler, RelabelingStream
from edgesim.build.step import BuildStep
from edgesim.errors import EdgesimError, FunctionLoadError

DEFAULT_TIMEOUT_S = 120.0


class BuildFailed(FunctionLoadError):
    """The build failed or wrote what CloudFront would not take; the message has its output."""


def build_once(
    command: str,
    function: str | Path,
    *,
    cwd: str | Path | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Relabeler:
    """Run ``command`` in ``cwd`` (default: the current directory), check ``function`` as it
    wrote it, and return the :class:`Relabeler` that gives its positions in the sources (empty
    when the build wrote no source map). Raises :class:`BuildFailed`."""
    folder = Path(cwd) if cwd is not None else Path.cwd()
    step = BuildStep(command, folder, outputs=[Path(function)], timeout_s=timeout_s)
    report = step.run()
    if not report.ok:
        raise BuildFailed(step.relabeler.text(report.describe()))
    for note in report.notes:
        print(f"edgesim: {note}", file=sys.stderr)
    # Positions as the command prints them: the path as given, relative to the build directory.
    for output, source_map in report.maps.items():
        if source_map is not None:
            step.relabeler.set_map(output, source_map, labels=[str(function)])
    return step.relabeler


def build_lambda_once(
    command: str, output: str | Path, *, timeout_s: float = DEFAULT_TIMEOUT_S
) -> None:
    """Run ``command`` in the current directory; it must write ``output`` (a Lambda@Edge
    function's file or package directory). Raises :class:`BuildFailed` with its output."""
    step = BuildStep(command, Path.cwd(), outputs=[], lambda_outputs=[Path(output)],
                     timeout_s=timeout_s)  # fmt: skip
    report = step.run()
    if not report.ok:
        raise BuildFailed(report.describe())


@contextlib.contextmanager
def relabeled_output(relabeler: Relabeler) -> Iterator[None]:
    """Within the block, what is printed to stdout and stderr gives positions in the sources."""
    if not relabeler:
        yield
        return
    out, err = sys.stdout, sys.stderr
    wrapped_out, wrapped_err = RelabelingStream(out, relabeler), RelabelingStream(err, relabeler)
    sys.stdout, sys.stderr = wrapped_out, wrapped_err
    try:
        yield
    finally:
        wrapped_out.flush()
        wrapped_err.flush()
        sys.stdout, sys.stderr = out, err


def run_handler(args: argparse.Namespace) -> int:
    """Run a command's handler; with ``--build CMD``, build first and give every position the
    command prints in the sources (``edgesim test`` and ``lint``)."""
    handler: Callable[[argparse.Namespace], int] = args.handler
    command = getattr(args, "build", None)
    function = getattr(args, "function", None)
    lambda_file = getattr(args, "lambda_file", None)
    if command and function is None and lambda_file is not None:
        # `test --lambda FILE --build CMD`: Node gives positions in the sources itself
        # (--enable-source-maps), so nothing is relabeled.
        build_lambda_once(command, lambda_file, timeout_s=getattr(args, "build_timeout", 120.0))
        return handler(args)
    if not command or function is None:
        return handler(args)
    relabeler = build_once(command, function, timeout_s=getattr(args, "build_timeout", 120.0))
    if getattr(args, "json", False) and getattr(args, "command", None) == "lint":
        return _lint_json(handler, args, relabeler)
    with relabeled_output(relabeler):
        try:
            return handler(args)
        except EdgesimError as exc:
            # Printed by the caller once the streams are back: relabeled here.
            exc.args = (relabeler.text(str(exc)), *exc.args[1:])
            raise


def _lint_json(
    handler: Callable[[argparse.Namespace], int], args: argparse.Namespace, relabeler: Relabeler
) -> int:
    """``lint --json --build``: each finding that maps into the sources gains ``source``
    (``file``, ``line``, ``column``) and ``build_hint``; ``file``, ``line`` and ``column``
    stay the built file's, as without a build."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = handler(args)
    rows = json.loads(buffer.getvalue())
    for row in rows:
        if not relabeler.maps(row["file"]):
            continue
        origin = relabeler.origin(row["file"], row["line"], row["column"])
        if origin is not None:
            row["source"] = {"file": origin.source, "line": origin.line, "column": origin.column}
        row["build_hint"] = hint_for(row["rule"]) if origin is not None else BUNDLER_HINT
    sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
    return code
