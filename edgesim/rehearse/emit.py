"""Printing a rehearsal's report and its exit code: shared by ``edgesim rehearse`` and the
migration check (``rehearse --swap``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

import orjson

EXIT_OK, EXIT_GUARD_FAILED = 0, 1


def emit_report(
    report: dict[str, Any],
    args: argparse.Namespace,
    max_changed: float | None,
    render: Callable[[dict[str, Any]], str],
) -> int:
    """Checks the guards, prints the report (``--json`` or ``render``'s text) and each failed
    guard; the exit code (the rehearsal's and the migration check's alike)."""
    from edgesim.rehearse.report import check_guards

    failed = check_guards(report, max_changed_pct=max_changed, no_new_errors=args.no_new_errors)
    report["guards_failed"] = failed
    if args.json:
        sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print(render(report))
    for line in failed:
        print(f"edgesim: guard failed: {line}", file=sys.stderr)
    return EXIT_GUARD_FAILED if failed else EXIT_OK
