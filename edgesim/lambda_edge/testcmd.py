"""``edgesim test --lambda FILE --event-type origin-request --event e.json``: run one
Lambda@Edge event and print the result in the shape of the CloudFront Functions test command.

Members: ``FunctionSummary`` (name, runtime, handler, event type), ``FunctionOutput`` (the
handler's result as JSON text), ``FunctionErrorMessage`` (``"<LambdaValidationError|
LambdaExecutionError|LambdaLimitExceeded>: <detail>"``, empty when it ran), edgesim's
``FunctionErrorLocation`` / ``FunctionErrorStack`` when a failure has a place in the user's code,
``FunctionExecutionLogs`` (console output as CloudWatch shows it) and ``DurationMs``.
Exit codes: 0 ran, 1 a function error (including a result CloudFront would reject), 2 bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from edgesim.errors import InputError, NotEmulated
from edgesim.lambda_edge import limits
from edgesim.lambda_edge.events import parse_event
from edgesim.lambda_edge.function import LambdaEdgeFunction, LambdaOutcome
from edgesim.lambda_edge.package import check_package
from edgesim.lambda_edge.spec import (
    LambdaSpec,
    find_node,
    resolve_source,
    role_credentials,
    runtime_mismatch,
)

EXIT_OK, EXIT_FUNCTION_ERROR = 0, 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``test`` subcommand's Lambda@Edge options."""
    parser.add_argument(
        "--lambda",
        dest="lambda_file",
        metavar="FILE",
        help="run a Lambda@Edge function instead (a .js/.mjs/.cjs file or its package "
        "directory); no positional function then",
    )
    parser.add_argument(
        "--handler",
        dest="lambda_handler",
        metavar="MODULE.EXPORT",
        help="with --lambda: module.export (default <file stem>.handler, index.handler for a "
        "directory)",
    )
    parser.add_argument(
        "--timeout-s",
        type=float,
        default=None,
        help="with --lambda: the function's timeout in seconds (default: the quota of the event, "
        "5 s viewer / 30 s origin)",
    )
    parser.add_argument(
        "--lambda-runtime",
        choices=limits.NODE_RUNTIMES,
        default="nodejs20.x",
        help="with --lambda: the Lambda runtime (warns when the Node.js on PATH differs)",
    )
    parser.add_argument(
        "--memory-mb",
        type=int,
        default=limits.DEFAULT_MEMORY_MB,
        help="with --lambda: the function's memory in MB (Node's --max-old-space-size)",
    )


def run(args: argparse.Namespace) -> int:
    """The command; raises :class:`InputError` for bad input (the CLI exits 2)."""
    try:
        path = resolve_source(args.lambda_file)
    except NotEmulated as exc:
        raise InputError(str(exc)) from None
    try:
        doc = orjson.loads(Path(args.event).read_bytes())
    except OSError as exc:
        raise InputError(f"{args.event}: cannot read the event: {exc.strerror}") from None
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{args.event}: not valid JSON: {exc}") from None
    try:
        event_type, event = parse_event(doc, args.event_type)
    except InputError as exc:
        raise InputError(f"{args.event}: {exc}") from None
    cls = limits.event_class(event_type)
    timeout = args.timeout_s if args.timeout_s is not None else limits.MAX_TIMEOUT_S[cls]
    problems = limits.check_function_limits(event_type, timeout_s=timeout, memory_mb=args.memory_mb)
    too_big = check_package(Path(args.lambda_file), event_type)
    if too_big:
        problems.append(too_big)
    if problems:
        raise InputError("; ".join(problems))
    now = _parse_time(args.now) if args.now else None
    name = _function_name(Path(args.lambda_file))
    spec = LambdaSpec(
        name=name,
        path=path,
        handler=args.lambda_handler,
        timeout_s=timeout,
        memory_mb=args.memory_mb,
        runtime=args.lambda_runtime,
        credentials=role_credentials(),  # the emulated role's, as serve gives every lambda
    )
    node = find_node()
    mismatch = runtime_mismatch(spec.runtime, node)
    if mismatch:
        print(f"warning: {mismatch}", file=sys.stderr)
    outcome = asyncio.run(_run_once(spec, node, event_type, event, now))
    _print_json(result_document(spec, event_type, outcome))
    for warning in outcome.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    failure = outcome.failure
    if failure is not None:
        lines = [f"edgesim: {failure.describe()}"]
        lines += [f"    at {frame}" for frame in failure.stack]
        print("\n".join(lines), file=sys.stderr)
        return EXIT_FUNCTION_ERROR
    return EXIT_OK


async def _run_once(
    spec: LambdaSpec, node: str, event_type: str, event: dict[str, Any], now: datetime | None
) -> LambdaOutcome:
    async with LambdaEdgeFunction(spec, max_workers=1, node=node) as fn:
        return await fn.invoke_event(event_type, event, now=now)


def result_document(spec: LambdaSpec, event_type: str, outcome: LambdaOutcome) -> dict[str, Any]:
    failure = outcome.failure
    doc: dict[str, Any] = {
        "FunctionSummary": {
            "Name": spec.name,
            "FunctionConfig": {
                "Runtime": spec.runtime,
                "Handler": spec.handler_string,
                "EventType": event_type,
                "TimeoutSeconds": spec.timeout_s,
                "MemorySize": spec.memory_mb,
            },
        },
        "FunctionOutput": (
            orjson.dumps(outcome.result).decode() if outcome.result is not None else ""
        ),
        "FunctionErrorMessage": (f"{failure.error_type}: {failure.message}" if failure else ""),
        "FunctionExecutionLogs": list(outcome.logs),
        "DurationMs": round(outcome.duration_ms, 3),
    }
    if failure is not None:
        doc["FunctionErrorRule"] = failure.rule
        if failure.position is not None:
            doc["FunctionErrorLocation"] = failure.position
            doc["FunctionErrorStack"] = list(failure.stack)
    return doc


def _function_name(path: Path) -> str:
    stem = path.name if path.is_dir() else path.stem
    cleaned = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem)[:64]
    return cleaned or "function"


def _parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"--now {text!r}: expected an ISO-8601 time such as 2026-01-01T00:00:00Z"
        ) from None
    if moment.tzinfo is None:
        raise InputError(f"--now {text!r}: add a time zone (Z or +hh:mm)")
    return moment


def _print_json(value: object) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")
