"""The soak's origin: a small aiohttp app that serves cacheable objects and fails on purpose.

Run as a script (``python origin.py``) so that it has its own process and CPU: it prints
``port N`` once it listens on 127.0.0.1 and serves until SIGTERM/SIGINT. The test imports this
module too, for :func:`static_body`, so that it can check every body it receives byte for byte.

Routes:

- ``/static/{name}``, ``/page/{name}``: a deterministic body (512–16,384 bytes, or 2 MiB for
  ``big-*``) with an ETag and a ``Cache-Control`` (an hour, or 4 s for names ending in an odd
  digit, so that some objects expire and are revalidated); ``If-None-Match`` gets a 304.
- ``/reval/{name}``: the same, but a 304 comes after 1 s (``short-*`` names live 1 s).
- ``/api/{name}``: JSON naming the request headers the viewer-request function set; never
  cached.
- ``/fault/503``: a 503 (the scenario's expected 5xx).
- ``/fault/cut``: announces 65,536 bytes, sends 8,192, then closes the connection (the body
  breaks off: the viewer gets a 200 that ends early).
- ``/fault/slow``: answers after 3 s; the soak's "flaky" origin has a 1 s response timeout,
  so the edge answers 504.
- ``/__stats``: how many of each fault were served, as JSON.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import random
import signal
import sys
from collections import Counter

from aiohttp import web

CUT_ANNOUNCED = 65_536
CUT_SENT = 8_192
SLOW_S = 3.0
BIG_SIZE = 2 * 1024 * 1024
REVAL_DELAY_S = 1.0


@functools.lru_cache(maxsize=512)
def static_body(name: str) -> bytes:
    """The body of ``/static/{name}`` and ``/page/{name}``: its size and bytes follow from the
    name alone, so the test knows what every response must hold. ``big-*`` objects are 2 MiB
    (above the 1 MiB from which serve's cache spills to files); ``obj-*`` are random bytes (not
    compressible); others are repetitive text (compressed by the cache policy)."""
    digest = hashlib.sha256(name.encode()).digest()
    if name.startswith("big-"):
        return random.Random(name).randbytes(BIG_SIZE)
    size = 512 + int.from_bytes(digest[:2], "big") % (16_384 - 512)
    if name.startswith("obj-"):
        return random.Random(name).randbytes(size)
    unit = (name.encode() + b":" + digest.hex().encode() + b"\n") * 8
    return (unit * (size // len(unit) + 1))[:size]


def max_age(name: str) -> int:
    if name.startswith("short-"):
        return 1
    return 4 if name[-1:] in "13579" else 3600


def etag_of(name: str) -> str:
    return '"' + hashlib.sha256(name.encode()).hexdigest()[:16] + '"'


def make_app() -> web.Application:
    faults: Counter[str] = Counter()

    async def static(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        etag = etag_of(name)
        headers = {
            "ETag": etag,
            "Cache-Control": f"max-age={max_age(name)}",
            # big objects as downloads are sent: a type CloudFront does not compress
            "Content-Type": "application/octet-stream" if name.startswith("big-") else "text/plain",
        }
        # weak comparison (RFC 9110 §13.1.2): serve's compressed copies carry W/ ETags
        if request.headers.get("If-None-Match", "").removeprefix("W/") == etag:
            if request.path.startswith("/reval/"):
                await asyncio.sleep(REVAL_DELAY_S)  # a revalidation that takes its time
            return web.Response(status=304, headers=headers)
        return web.Response(body=static_body(name), headers=headers)

    async def api(request: web.Request) -> web.Response:
        seen = {
            "name": request.match_info["name"],
            "greeting": request.headers.get("x-greeting"),
            "greet_version": request.headers.get("x-greet-version"),
        }
        return web.json_response(seen, headers={"Cache-Control": "no-store"})

    async def fault_503(request: web.Request) -> web.Response:
        faults["503"] += 1
        return web.Response(status=503, text="origin unavailable (on purpose)\n")

    async def fault_cut(request: web.Request) -> web.StreamResponse:
        faults["cut"] += 1
        response = web.StreamResponse(
            headers={"Content-Length": str(CUT_ANNOUNCED), "Content-Type": "text/plain"}
        )
        await response.prepare(request)
        await response.write(b"x" * CUT_SENT)
        transport = request.transport
        if transport is not None:
            transport.close()  # the rest of the announced body never comes
        return response

    async def fault_slow(request: web.Request) -> web.Response:
        faults["slow"] += 1
        await asyncio.sleep(SLOW_S)
        return web.Response(text="too late\n", headers={"Cache-Control": "no-store"})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(dict(faults))

    app = web.Application()
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/page/{name}", static)
    app.router.add_get("/reval/{name}", static)
    app.router.add_get("/api/{name}", api)
    app.router.add_get("/fault/503", fault_503)
    app.router.add_get("/fault/cut", fault_cut)
    app.router.add_get("/fault/slow", fault_slow)
    app.router.add_get("/__stats", stats)
    return app


async def main() -> None:
    runner = web.AppRunner(make_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"port {runner.addresses[0][1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
