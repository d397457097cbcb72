"""``edgesim rehearse``: run recorded traffic through the current and the proposed version of a
distribution's functions and KVS data, and report what changes (see docs/rehearse.md).

Exit codes: 0 done (every guard held), 1 a guard failed (``--max-changed``, ``--no-new-errors``),
2 bad input.
"""

from __future__ import annotations

import argparse
import math
from datetime import datetime
from typing import Any

from edgesim.errors import InputError
from edgesim.rehearse.emit import emit_report


def _percent(text: str) -> float:
    value = text.strip().removesuffix("%")
    try:
        number = float(value)
    except ValueError:
        raise InputError(f"--max-changed {text!r}: expected a percentage such as 5%") from None
    if not math.isfinite(number) or not 0 <= number <= 100:
        raise InputError(f"--max-changed {text!r}: expected a percentage from 0% to 100%")
    return number


def _write_at(text: str | None) -> datetime | float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"--write-at {text!r}: expected epoch milliseconds or an ISO-8601 time with a zone"
        ) from None
    if moment.tzinfo is None:
        raise InputError(f"--write-at {text!r}: add a time zone (Z or +hh:mm)")
    return moment


def cmd_rehearse(args: argparse.Namespace) -> int:
    from edgesim.rehearse import rehearse, render_text
    from edgesim.rehearse.swap_cli import check_args, cmd_swap

    check_args(args)  # --swap / --generate / --traffic go together (swap_cli)
    max_changed = _percent(args.max_changed) if args.max_changed is not None else None
    if args.swap is not None:
        return cmd_swap(args, max_changed)  # the migration check (docs/lambda-edge.md)
    report: dict[str, Any] = rehearse(
        args.traffic,
        args.config,
        kvs_after=args.kvs_after,
        function_after=args.function_after,
        kvs_before=args.kvs_before,
        default_origin_status=args.origin_status,
        write_at=_write_at(args.write_at),
        jobs=args.jobs,
    )
    return emit_report(report, args, max_changed, render_text)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "rehearse",
        help="replay recorded traffic through the current and a proposed version",
        description="Run every recorded viewer request through the current and the proposed "
        "version of the distribution's functions and KVS data (no origin calls) and report "
        "which requests change, how, and at which POPs during KVS propagation. Exits 1 when "
        "--max-changed or --no-new-errors fails.",
    )
    p.add_argument(
        "--traffic",
        help="a recording (serve --record FILE) or a CloudFront standard access log",
    )
    p.add_argument("--config", default="edgesim.toml", help="the distribution (edgesim.toml)")
    p.add_argument(
        "--kvs-after",
        action="append",
        default=[],
        metavar="[STORE=]FILE",
        help="proposed contents of a store, KVS import format (STORE= may be left out when "
        "the distribution has one store); repeatable",
    )
    p.add_argument(
        "--function-after",
        action="append",
        default=[],
        metavar="[NAME=]FILE",
        help="proposed code of a function; repeatable",
    )
    p.add_argument(
        "--kvs-before",
        action="append",
        default=[],
        metavar="[STORE=]FILE",
        help="current contents of a store (default: its seed file from the config)",
    )
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument(
        "--max-changed", metavar="N%", help="exit 1 when more than N%% of requests change"
    )
    p.add_argument(
        "--no-new-errors", action="store_true", help="exit 1 when any request newly fails"
    )
    p.add_argument(
        "--origin-status",
        type=int,
        default=200,
        help="the origin's status for requests recorded without one (default 200)",
    )
    p.add_argument(
        "--write-at",
        help="when the KVS write happens (epoch ms or ISO-8601; default: the first request)",
    )
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per CPU)")
    p.add_argument(
        "--swap",
        metavar="KIND:OLD=KIND:NEW",
        help="migration check: swap edge code, e.g. lambda:rewrite=function:rewrite (NEW may "
        "be a file); compares the requests reaching the origin and the generated responses",
    )
    p.add_argument(
        "--generate",
        type=int,
        metavar="N",
        help="with --swap: N requests drawn from edgesim's strategies instead of --traffic",
    )
    p.add_argument("--seed", type=int, default=0, help="the seed of --generate (default 0)")
    p.set_defaults(handler=cmd_rehearse)
