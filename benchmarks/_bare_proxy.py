"""The floor for an aiohttp design: an aiohttp server and one ClientSession, no logic.

Forwards method, target and headers to the origin and streams the answer back (with the origin's
Content-Length when it gave one, as a proxy that does not buffer does). Runs in its own process;
prints ``bare proxy: http://127.0.0.1:PORT`` once it listens.

    python benchmarks/_bare_proxy.py ORIGIN_URL [--uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Mapping

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

HOP_BY_HOP = frozenset(("connection", "keep-alive", "transfer-encoding", "content-length"))


def proxy_app(origin: str) -> web.Application:
    session: dict[str, aiohttp.ClientSession] = {}

    async def start(_: web.Application) -> None:
        session["s"] = aiohttp.ClientSession(auto_decompress=False)

    async def close(_: web.Application) -> None:
        await session["s"].close()

    async def handle(request: web.Request) -> web.StreamResponse:
        headers: Mapping[str, str] = request.headers
        body = None
        if request.can_read_body:  # the client session frames the streamed body itself
            headers = CIMultiDict((k, v) for k, v in headers.items() if k.lower() not in HOP_BY_HOP)
            body = request.content
        async with session["s"].request(
            request.method,
            origin + request.raw_path,
            headers=headers,
            data=body,
            allow_redirects=False,
        ) as upstream:
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
            for name, value in upstream.headers.items():
                if name.lower() not in HOP_BY_HOP:
                    response.headers.add(name, value)
            if upstream.content_length is not None:
                response.content_length = upstream.content_length
            await response.prepare(request)
            async for chunk in upstream.content.iter_chunked(1 << 16):
                await response.write(chunk)
            await response.write_eof()
            return response

    app = web.Application(client_max_size=0)
    app.router.add_route("*", "/{tail:.*}", handle)
    app.on_startup.append(start)
    app.on_cleanup.append(close)
    return app


async def main(origin: str) -> None:
    runner = web.AppRunner(proxy_app(origin.rstrip("/")), access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, backlog=1024).start()
    print(f"bare proxy: http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("origin")
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop's event loop")
    options = parser.parse_args()
    if options.uvloop:
        import uvloop

        uvloop.run(main(options.origin))
    else:
        asyncio.run(main(options.origin))
