"""``edgesim kvs …``: manage stores and keys on a running control plane, or serve one.

Every command but ``serve`` talks HTTP to the admin endpoint, found as every admin client finds
it (:mod:`edgesim.controlplane.endpoint`: ``--endpoint``, ``$EDGESIM_ENDPOINT``, the config's
``[server]``, http://127.0.0.1:8081). Exit codes: 0 done, 1 failed (not found, quota, endpoint
unreachable), 2 bad input (flags, files, or a ValidationException), 3 conflict (the store
changed: re-run).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import Any

import orjson

from edgesim import limits
from edgesim.controlplane.client import ControlPlaneClient, ControlPlaneError, EndpointUnreachable
from edgesim.controlplane.endpoint import (
    EXIT_BAD_INPUT,
    EXIT_CONFLICT,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_UNREACHABLE,
    add_endpoint_arguments,
    endpoint_of,
)
from edgesim.controlplane.plan import Plan, batches, compute_plan, size_after
from edgesim.errors import InputError, KvsError
from edgesim.kvs.importfile import dump_import, load_import_file

DEFAULT_STATE_DIR = ".edgesim"
STATE_FILE = "kvs.sqlite3"

Handler = Callable[[argparse.Namespace], int]


def _print_json(value: object) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def _err(message: str) -> None:
    print(f"edgesim: {message}", file=sys.stderr)


def _shown(key: str) -> str:
    # JSON quoting makes spaces, empty strings and control characters visible.
    return orjson.dumps(key).decode()


def _handled(handler: Handler) -> Handler:
    """Turn expected failures into a message and an exit code, inside or outside cli.main."""

    @wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except InputError as exc:
            _err(str(exc))
            return EXIT_BAD_INPUT
        except EndpointUnreachable as exc:
            _err(str(exc))
            return EXIT_UNREACHABLE
        except ControlPlaneError as exc:
            _err(f"{exc.code}: {exc.message}")
            return _exit_for(exc)

    return run


def _exit_for(exc: ControlPlaneError) -> int:
    if exc.code == "ConflictException":
        return EXIT_CONFLICT
    if exc.code == "ValidationException":
        return EXIT_BAD_INPUT
    return EXIT_FAILED


def _client(args: argparse.Namespace) -> ControlPlaneClient:
    return ControlPlaneClient(endpoint_of(args))


# Store commands


def cmd_create(args: argparse.Namespace) -> int:
    items = load_import_file(args.import_file) if args.import_file else None
    store = _client(args).create_store(args.name, comment=args.comment, items=items)
    if args.json:
        _print_json(store)
    else:
        print(f"created {store['name']}: {store['arn']} ({store['item_count']} items)")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    stores = _client(args).list_stores()
    if args.json:
        _print_json(stores)
        return EXIT_OK
    rows = [("NAME", "ID", "ITEMS", "BYTES", "STATUS", "ETAG")]
    rows += [
        (s["name"], s["id"], str(s["item_count"]), str(s["total_size"]), s["status"], s["etag"])
        for s in stores
    ]
    _print_table(rows)
    return EXIT_OK


def cmd_describe(args: argparse.Namespace) -> int:
    store = _client(args).store(args.store)
    if args.json:
        _print_json(store)
    else:
        for field, value in store.items():
            print(f"{field}: {value}")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    status = _client(args).status(args.store)
    if args.json:
        _print_json(status)
        return EXIT_OK
    store = status["store"]
    print(f"{store['name']}: latest {store['etag']}")
    rows = [("POP", "VERSION", "ETAG", "IN SYNC", "NEXT LANDS IN", "PENDING")]
    for pop in status["pops"]:
        nxt = pop["next_in_seconds"]
        rows.append(
            (
                pop["pop"],
                str(pop["version"]),
                pop["etag"],
                "yes" if pop["in_sync"] else "no",
                "-" if nxt is None else f"{nxt:.3f}s",
                str(len(pop["pending"])),
            )
        )
    _print_table(rows)
    return EXIT_OK


# Key commands


def cmd_get(args: argparse.Namespace) -> int:
    client = _client(args)
    body = client.get_key(client.store(args.store)["arn"], args.key)
    if args.json:
        _print_json(
            {
                "key": body["Key"],
                "value": body["Value"],
                "item_count": body["ItemCount"],
                "total_size": body["TotalSizeInBytes"],
            }
        )
    else:
        print(body["Value"])
    return EXIT_OK


def cmd_put(args: argparse.Namespace) -> int:
    client = _client(args)
    store = client.store(args.store)
    # Without --if-match this is "last writer wins", as with `cfft kvs put`.
    reply = client.put_key(
        store["arn"], args.key, args.value, if_match=args.if_match or store["etag"]
    )
    _print_write(args, f"put {_shown(args.key)}", reply.etag, reply.body)
    return EXIT_OK


def cmd_delete(args: argparse.Namespace) -> int:
    if (args.key is None) == (not args.store_itself):
        raise InputError("give either a KEY to delete, or --store to delete the whole store")
    client = _client(args)
    store = client.store(args.store)
    if args.store_itself:
        client.delete_store(store["arn"], if_match=args.if_match)
        if args.json:
            _print_json({"deleted": store["arn"]})
        else:
            print(f"deleted store {store['name']} ({store['arn']})")
        return EXIT_OK
    reply = client.delete_key(store["arn"], args.key, if_match=args.if_match or store["etag"])
    _print_write(args, f"deleted {_shown(args.key)}", reply.etag, reply.body)
    return EXIT_OK


def _print_write(args: argparse.Namespace, what: str, etag: str | None, body: Any) -> None:
    summary = {
        "etag": etag,
        "item_count": body["ItemCount"],
        "total_size": body["TotalSizeInBytes"],
    }
    if args.json:
        _print_json(summary)
    else:
        print(f"{what}; store now {etag} ({body['ItemCount']} items, {body['TotalSizeInBytes']} B)")


# Data-set commands


def cmd_export(args: argparse.Namespace) -> int:
    data = dump_import(_client(args).export(args.store)) + b"\n"
    if args.output:
        try:
            Path(args.output).write_bytes(data)
        except OSError as exc:
            raise InputError(f"{args.output}: cannot write: {exc.strerror}") from None
    else:
        sys.stdout.write(data.decode())
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    items = load_import_file(args.file)
    client = _client(args)
    try:
        store = client.store(args.store)
    except ControlPlaneError as exc:
        if exc.code != "ResourceNotFoundException" or not args.create:
            raise
        # A new store takes its data set in one request, like an S3 import at creation.
        store = client.create_store(args.store, items=items)
        _report_writes(args, f"created {store['name']} with {len(items)} keys", store["etag"], 0)
        return EXIT_OK
    live = client.export(store["arn"])
    _check_final_size(args.store, size_after(live, compute_plan(live, items, prune=False)))
    etag, done = _send(client, store, batches(items))
    _report_writes(args, f"imported {len(items)} keys", etag, done)
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    desired = load_import_file(args.file)
    client = _client(args)
    plan = compute_plan(client.export(args.store), desired, prune=True)
    _show_plan(args, plan, header=f"{args.store} → {args.file}")
    if args.exit_code and not plan.empty:
        return EXIT_FAILED
    return EXIT_OK


def cmd_apply(args: argparse.Namespace) -> int:
    desired = load_import_file(args.file)
    client = _client(args)
    # The ETag is read before the data: a write landing in between makes the first batch
    # conflict instead of being silently overwritten.
    store = client.store(args.store)
    live = client.export(store["arn"])
    plan = compute_plan(live, desired, prune=args.prune)
    _check_final_size(args.store, size_after(live, plan))
    work = batches(plan.puts, plan.deletes)
    if not args.json:
        _show_plan(args, plan, header=f"{store['name']} → {args.file}")
    if args.dry_run or plan.empty:
        if args.json:
            _print_json({"plan": _plan_json(plan), "applied": False, "batches": len(work)})
        elif plan.empty:
            print("nothing to do")
        else:
            print(f"dry run: {len(work)} UpdateKeys batch(es) not sent")
        return EXIT_OK
    etag, done = _send(client, store, work)
    if args.json:
        _print_json({"plan": _plan_json(plan), "applied": True, "batches": done, "etag": etag})
    else:
        print(f"applied in {done} UpdateKeys batch(es); store now {etag}")
    return EXIT_OK


def _check_final_size(store: str, size: int) -> None:
    """Refuse before the first batch a change that would end over CloudFront's store limit, so
    that a quota error never leaves the store half-updated."""
    if size > limits.KVS_MAX_STORE_BYTES:
        raise InputError(
            f"{store}: after this change the store would hold {size} bytes of keys and values, "
            f"over the {limits.KVS_MAX_STORE_BYTES}-byte limit; nothing was sent"
        )


def _send(client: ControlPlaneClient, store: dict[str, Any], work: list[Any]) -> tuple[str, int]:
    etag: str = store["etag"]
    for done, batch in enumerate(work):
        try:
            reply = client.update_keys(store["arn"], batch, if_match=etag)
        except ControlPlaneError as exc:
            # Only a conflict (someone else wrote) is cured by running the command again.
            retry = exc.code == "ConflictException"
            if done:
                exc.message += (
                    f" (after {done} of {len(work)} batches were applied: the store is partly "
                    + ("updated; re-run to finish)" if retry else "updated)")
                )
            elif retry:
                exc.message += " (the store changed since it was read; re-run)"
            raise
        assert reply.etag is not None
        etag = reply.etag
    return etag, len(work)


def _report_writes(args: argparse.Namespace, what: str, etag: str, count: int) -> None:
    if args.json:
        _print_json({"etag": etag, "batches": count})
    else:
        print(f"{what} in {count} UpdateKeys batch(es); store now {etag}")


def _plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "add": plan.added,
        "change": {k: {"from": old, "to": new} for k, (old, new) in plan.changed.items()},
        "delete": plan.deletes,
        "keep_extra": [] if plan.prune else list(plan.removed),
        "unchanged": plan.unchanged,
    }


def _show_plan(args: argparse.Namespace, plan: Plan, *, header: str) -> None:
    if args.json:
        _print_json(_plan_json(plan))
        return
    print(header)
    for key in plan.added:
        print(f"  + {_shown(key)}")
    for key in plan.changed:
        print(f"  ~ {_shown(key)}")
    for key in plan.removed:
        print(f"  - {_shown(key)}" if plan.prune else f"  ? {_shown(key)} (not in the file)")
    summary = (
        f"{len(plan.added)} to add, {len(plan.changed)} to change, "
        f"{len(plan.deletes)} to delete, {plan.unchanged} unchanged"
    )
    if plan.removed and not plan.prune:
        summary += f"; {len(plan.removed)} not in the file kept (--prune deletes them)"
    print(summary)


def _print_table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


# serve


def parse_pops(text: str) -> tuple[str, ...]:
    pops = tuple(p.strip().upper() for p in text.split(","))
    if not all(p.isalnum() for p in pops):
        raise InputError(f"--pops {text!r}: expected comma-separated POP codes such as IAD,FRA")
    if len(set(pops)) != len(pops):
        raise InputError(f"--pops {text!r}: a POP is listed twice")
    return pops


def cmd_serve(args: argparse.Namespace) -> int:
    from edgesim.kvs.propagation import FixedLag
    from edgesim.kvs.service import KvsService

    pops = parse_pops(args.pops)
    if not 0 <= args.port <= 65535:
        raise InputError(f"--port {args.port}: expected 0-65535 (0 picks a free port)")
    if args.lag_ms is not None and not 0 <= args.lag_ms < float("inf"):
        raise InputError(f"--lag-ms {args.lag_ms}: must be a finite number of milliseconds >= 0")
    lag = None if args.lag_ms is None else FixedLag(args.lag_ms / 1000)
    path = None if args.ephemeral else Path(args.state_dir) / STATE_FILE
    try:
        service = KvsService(path=path, pops=pops, lag=lag)
    except KvsError as exc:
        _err(str(exc))
        return EXIT_FAILED
    try:
        asyncio.run(_serve(service, args.host, args.port, path))
    except OSError as exc:
        _err(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        pass
    finally:
        service.close()
    return EXIT_OK


async def _serve(service: Any, host: str, port: int, path: Path | None) -> None:
    from edgesim.controlplane.app import start_admin_site

    runner, bound = await start_admin_site(service, host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows loops
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    state = "in memory (--ephemeral)" if path is None else str(path)
    print(
        f"edgesim kvs: control plane on http://{host}:{bound} — state {state}, "
        f"POPs {', '.join(service.pops)}; Ctrl-C stops",
        file=sys.stderr,
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        with contextlib.suppress(NotImplementedError):
            loop.remove_signal_handler(signal.SIGTERM)
        await runner.cleanup()


# Parser


def register(subparsers: Any) -> None:
    """Add the ``kvs`` command group to ``edgesim``'s sub-command parsers."""
    kvs = subparsers.add_parser("kvs", help="KeyValueStore: serve the control plane, manage stores")
    sub = kvs.add_subparsers(dest="kvs_command", required=True, metavar="COMMAND")

    common = argparse.ArgumentParser(add_help=False)
    add_endpoint_arguments(common)
    common.add_argument("--json", action="store_true", help="print JSON")

    def add(name: str, handler: Handler, help: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(name, parents=[common], help=help)
        parser.set_defaults(handler=_handled(handler))
        return parser

    store_help = "the store: its name, id or ARN"

    p = add("create", cmd_create, "create a store")
    p.add_argument("name", help="the new store's name (1-64 of A-Z a-z 0-9 _ -)")
    p.add_argument("--comment", default="", help="the store's comment")
    p.add_argument(
        "--import", dest="import_file", metavar="FILE", help="initial data (import format)"
    )

    add("list", cmd_list, "list stores")
    add("describe", cmd_describe, "describe a store").add_argument("store", help=store_help)
    add("status", cmd_status, "which version each POP holds").add_argument("store", help=store_help)

    p = add("get", cmd_get, "print a key's value")
    p.add_argument("store", help=store_help)
    p.add_argument("key", help="the key to read")

    p = add("put", cmd_put, "set a key")
    p.add_argument("store", help=store_help)
    p.add_argument("key", help="the key to set")
    p.add_argument("value", help="its new value (text, up to 1 KB)")
    p.add_argument("--if-match", help="fail unless the store is at this ETag")

    p = add("delete", cmd_delete, "delete a key (or, with --store, the store)")
    p.add_argument("store", help=store_help)
    p.add_argument("key", nargs="?", help="the key to delete (none with --store)")
    p.add_argument("--store", dest="store_itself", action="store_true", help="delete the store")
    p.add_argument("--if-match", help="fail unless the store is at this ETag")

    p = add("import", cmd_import, "put every key of an import-format file")
    p.add_argument("store", help=store_help)
    p.add_argument("file", help="a JSON file in CloudFront's import format")
    p.add_argument("--create", action="store_true", help="create the store if it is missing")

    p = add("export", cmd_export, "print the store in CloudFront's import format")
    p.add_argument("store", help=store_help)
    p.add_argument("-o", "--output", help="write to this file instead of stdout")

    p = add("diff", cmd_diff, "compare a store with an import-format file")
    p.add_argument("store", help=store_help)
    p.add_argument("file", help="the desired content, in CloudFront's import format")
    p.add_argument("--exit-code", action="store_true", help="exit 1 when they differ")

    p = add("apply", cmd_apply, "make a store match an import-format file")
    p.add_argument("store", help=store_help)
    p.add_argument("file", help="the desired content, in CloudFront's import format")
    p.add_argument("--prune", action="store_true", help="also delete keys not in the file")
    p.add_argument("--dry-run", action="store_true", help="only show the plan")

    p = sub.add_parser("serve", help="run the control plane (AWS KVS API + store API)")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default %(default)s)")
    p.add_argument("--port", type=int, default=8081, help="port (default %(default)s; 0: any)")
    state = p.add_mutually_exclusive_group()
    state.add_argument("--state-dir", default=DEFAULT_STATE_DIR, help="where stores persist")
    state.add_argument("--ephemeral", action="store_true", help="keep stores in memory only")
    p.add_argument("--pops", default="LOCAL", help="comma-separated POP codes, e.g. IAD,FRA")
    p.add_argument("--lag-ms", type=float, default=None, help="propagation delay to every POP")
    p.set_defaults(handler=_handled(cmd_serve))
