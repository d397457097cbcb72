"""``edgesim rehearse --swap KIND:OLD=KIND:NEW``: the migration check's side of the rehearse
command (the flags are registered in :mod:`edgesim.rehearse_cli`). Same guards, ``--json``
and exit codes as ``rehearse``: 0 every guard held, 1 a guard failed, 2 bad input."""

from __future__ import annotations

import argparse
from typing import Any

from edgesim.errors import InputError

# rehearse's flags that change KVS data or function code: not part of a swap (yet).
_OTHER_CHANGES = (("kvs_after", "--kvs-after"), ("function_after", "--function-after"),
                  ("kvs_before", "--kvs-before"), ("write_at", "--write-at"))  # fmt: skip


def check_args(args: argparse.Namespace) -> None:
    """Refuse what does not go together, naming the flags."""
    swap = getattr(args, "swap", None)
    generate = getattr(args, "generate", None)
    if swap is None:
        if generate is not None:
            raise InputError("--generate: only with --swap for now (rehearse a KVS or code "
                             "change on recorded traffic with --traffic)")  # fmt: skip
        if args.traffic is None:
            raise InputError("--traffic is required (or --swap with --generate N)")
        return
    for attr, flag in _OTHER_CHANGES:
        if getattr(args, attr, None):
            raise InputError(f"--swap cannot be combined with {flag} yet: rehearse the swap "
                             "and the other change separately")  # fmt: skip
    if args.traffic is None and generate is None:
        raise InputError(f"--swap {swap!r}: give the requests: --traffic FILE or --generate N")
    if args.traffic is not None and generate is not None:
        raise InputError("--traffic and --generate: give one of them")


def cmd_swap(args: argparse.Namespace, max_changed: float | None) -> int:
    from edgesim.rehearse.emit import emit_report
    from edgesim.rehearse.swap import rehearse_swap
    from edgesim.rehearse.swap_report import render_swap_text

    report: dict[str, Any] = rehearse_swap(
        args.config,
        args.swap,
        traffic=args.traffic,
        generate=args.generate,
        seed=args.seed,
        default_origin_status=args.origin_status,
    )
    return emit_report(report, args, max_changed, render_swap_text)
