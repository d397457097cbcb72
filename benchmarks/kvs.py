"""KVS benchmark: µs per `get` from a POP replica, next to a plain dict lookup, in one run.

Data plane: the runtime reads a store through ``KvsService.replica(store, pop).get(key)``; each
call is timed on its own (perf_counter_ns), and so is ``dict.get`` on the same keys, so the timer's
own cost is in both columns. Cases: a settled replica; one with writes in flight (landing in the
future); the first read after a write lands (the catch-up that copies the POP's dict).

Control plane: boto3 write throughput, measured by :func:`control_plane_section` once
``edgesim.controlplane`` exists.

    python benchmarks/kvs.py [--iterations N] [--items N]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from edgesim.kvs import FixedLag, KvsReader, KvsService, VirtualClock


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def time_calls(get: Callable[[str], str | None], keys: list[str]) -> tuple[float, float]:
    for key in keys[:1000]:
        get(key)
    clock = time.perf_counter_ns
    samples = []
    for key in keys:
        start = clock()
        get(key)
        samples.append((clock() - start) / 1000)
    return percentiles(samples)


def row(label: str, figures: tuple[float, float]) -> None:
    print(f"  {label:<44} p50 {figures[0]:7.3f} µs   p99 {figures[1]:7.3f} µs")


def data_plane_section(iterations: int, item_count: int) -> None:
    rng = random.Random(1)
    items = {f"key-{i:06d}": f"value-{i}" * 4 for i in range(item_count)}
    keys = [rng.choice(list(items)) for _ in range(iterations)]
    misses = [f"missing-{i}" for i in range(iterations)]
    print(f"data plane: get() on a store of {item_count} items, {iterations} calls per case")

    baseline = dict(items)
    row("baseline: dict.get (hit)", time_calls(baseline.get, keys))

    with KvsService(pops=("IAD", "NRT"), lag=FixedLag(3600)) as kvs:
        etag = kvs.create_store("bench", items=items).etag
        replica: KvsReader = kvs.replica("bench", "IAD")
        row("replica.get, settled (hit)", time_calls(replica.get, keys))
        row("replica.get, settled (miss)", time_calls(replica.get, misses))
        for i in range(20):  # in flight for an hour: the hot path sees only the future landing
            etag = kvs.put_key("bench", f"new-{i}", "v", if_match=etag).etag
        row("replica.get, 20 writes in flight (hit)", time_calls(replica.get, keys))

    clock = VirtualClock()
    with KvsService(clock=clock, pops=("IAD",), lag=FixedLag(1)) as kvs:
        etag = kvs.create_store("bench", items=items).etag
        replica = kvs.replica("bench", "IAD")
        samples = []
        for i in range(min(200, iterations)):
            etag = kvs.put_key("bench", keys[i], str(i), if_match=etag).etag
            clock.advance(1)
            start = time.perf_counter_ns()
            replica.get(keys[i])
            samples.append((time.perf_counter_ns() - start) / 1000)
        row("replica.get, first read after a write lands", percentiles(samples))


def control_plane_section(puts: int = 500, batches: int = 50, rounds: int = 3) -> None:
    """boto3 write throughput against the control plane, next to a bare aiohttp handler.

    The baseline server answers every request with a canned PutKey reply and no model: the same
    boto3 client (SigV4A signing, parsing) and loopback HTTP, so the difference is edgesim's
    cost (routing, validation, SQLite, replica bookkeeping). Rounds alternate the servers and the
    best round is kept, as a shared machine makes single runs noisy.
    """
    import asyncio
    import tempfile
    import threading
    from functools import partial
    from pathlib import Path

    from aiohttp import web
    from botocore.config import Config

    from edgesim.controlplane import BackgroundServer
    from edgesim.controlplane.boto import kvs_client

    config = Config(retries={"max_attempts": 1})
    value = "v" * 100
    batch = [{"Key": f"batch-{i:02d}", "Value": value} for i in range(50)]
    fake_arn = (
        "arn:aws:cloudfront::123456789012:key-value-store/00000000-0000-0000-0000-000000000000"
    )

    def measure(url: str, arn: str, etag: str) -> tuple[float, float]:
        client = kvs_client(url, config=config)
        try:
            for i in range(50):  # warm-up: connection, signer, caches
                etag = client.put_key(KvsARN=arn, Key=f"w{i}", Value=value, IfMatch=etag)["ETag"]
            start = time.perf_counter()
            for i in range(puts):
                etag = client.put_key(KvsARN=arn, Key=f"k{i}", Value=value, IfMatch=etag)["ETag"]
            put_rate = puts / (time.perf_counter() - start)
            start = time.perf_counter()
            for _ in range(batches):
                etag = client.update_keys(KvsARN=arn, IfMatch=etag, Puts=batch)["ETag"]
            return put_rate, batches * len(batch) / (time.perf_counter() - start)
        finally:
            client.close()

    def measure_bare() -> tuple[float, float]:
        async def handler(request: web.Request) -> web.Response:
            await request.read()
            body = b'{"ItemCount": 1, "TotalSizeInBytes": 2}'
            return web.json_response(body=body, headers={"ETag": "KV1"})

        ready, box = threading.Event(), []

        async def serve() -> None:
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", handler)
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            stop = asyncio.Event()
            box.append((asyncio.get_running_loop(), stop, runner.addresses[0][1]))
            ready.set()
            await stop.wait()
            await runner.cleanup()

        thread = threading.Thread(target=asyncio.run, args=(serve(),))
        thread.start()
        ready.wait()
        loop, stop, port = box[0]
        try:
            return measure(f"http://localhost:{port}", fake_arn, "KV1")
        finally:
            loop.call_soon_threadsafe(stop.set)
            thread.join()

    def measure_edgesim(path: Path | None) -> tuple[float, float]:
        with KvsService(path=path, pops=("IAD", "FRA")) as kvs, BackgroundServer(kvs) as server:
            info = kvs.create_store("bench")
            return measure(f"http://localhost:{server.port}", info.arn, info.etag)

    print(
        f"control plane: boto3 writes on loopback, {puts} PutKey and {batches} UpdateKeys "
        f"of 50 keys, best of {rounds} rounds"
    )
    best: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for round_no in range(rounds):
            for label, run in (
                ("baseline: bare aiohttp handler, no model", measure_bare),
                ("edgesim, --ephemeral", partial(measure_edgesim, None)),
                (
                    "edgesim, on disk (fsync per write)",
                    partial(measure_edgesim, Path(tmp) / f"kvs-{round_no}.sqlite3"),
                ),
            ):
                put, update = run()
                old = best.get(label, (0.0, 0.0))
                best[label] = (max(old[0], put), max(old[1], update))
    for label, (put, update) in best.items():
        print(f"  {label:<44} PutKey {put:7.0f}/s   UpdateKeys {update:8.0f} keys/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=5_000)
    args = parser.parse_args()
    data_plane_section(args.iterations, args.items)
    control_plane_section()


if __name__ == "__main__":
    main()
