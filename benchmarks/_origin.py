"""The origin every target of benchmarks/serve.py sits in front of, in its own process.

Two listeners:

- a minimal HTTP/1.1 server on asyncio's protocol API (keep-alive, pipelining-safe) answering every
  GET/HEAD with the same small body (1 KB by default) and ``X-Origin-Path`` (the request target
  as received, so that the benchmark can check what a function rewrote); it is much cheaper than an
  aiohttp server, so that less of the shared CPU goes to the origin;
- an aiohttp server for the large transfers: ``GET /big/<anything>`` streams ``--big`` bytes,
  ``POST`` answers with the number of bytes it received.

Prints ``origin: http://127.0.0.1:PORT bulk: http://127.0.0.1:PORT`` once both listen.

    python benchmarks/_origin.py [--size 1024] [--big 209715200]
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from aiohttp import web


class Origin(asyncio.Protocol):
    """Answers each request head as soon as it is complete; bodies (Content-Length) skipped."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.buffer = b""
        self.skip = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        if self.skip:  # the rest of a request body
            taken = min(self.skip, len(data))
            self.skip -= taken
            data = data[taken:]
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > 65536:
                    self.transport.close()
                return
            head = self.buffer[:end].decode("latin-1")
            self.buffer = self.buffer[end + 4 :]
            lines = head.split("\r\n")
            method, target, _ = [*lines[0].split(" "), "", ""][:3]
            close = False
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "connection" and value.strip().lower() == "close":
                    close = True
            taken = min(length, len(self.buffer))
            self.buffer = self.buffer[taken:]
            self.skip = length - taken
            status = b"200 OK" if method in ("GET", "HEAD") else b"405 Method Not Allowed"
            body = self.body if status == b"200 OK" else b""
            self.transport.write(
                b"HTTP/1.1 " + status + b"\r\nContent-Type: text/plain\r\n"
                b"Cache-Control: max-age=600\r\nX-Origin-Path: "
                + target.encode("latin-1")
                + b"\r\nContent-Length: "
                + str(len(body)).encode()
                + (b"\r\nConnection: close" if close else b"")
                + b"\r\n\r\n"
                + (b"" if method == "HEAD" else body)
            )
            if close:
                self.transport.close()
                return


def bulk_app(size: int) -> web.Application:
    chunk = b"z" * (1 << 16)

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.method == "POST":
            received = 0
            async for part in request.content.iter_chunked(1 << 16):
                received += len(part)
            return web.Response(text=str(received))
        response = web.StreamResponse(headers={"Cache-Control": "max-age=600"})
        response.content_length = size
        await response.prepare(request)
        for _ in range(size // len(chunk)):
            await response.write(chunk)
        await response.write(chunk[: size % len(chunk)])
        await response.write_eof()
        return response

    app = web.Application(client_max_size=0)
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


async def main(size: int, big: int) -> None:
    loop = asyncio.get_running_loop()
    body = b"x" * size
    server = await loop.create_server(lambda: Origin(body), "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    runner = web.AppRunner(bulk_app(big), access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    bulk = runner.addresses[0][1]
    print(f"origin: http://127.0.0.1:{port} bulk: http://127.0.0.1:{bulk}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--big", type=int, default=200 * 1024 * 1024)
    options = parser.parse_args()
    try:  # not measured: the faster its loop, the less CPU the origin takes from the targets
        import uvloop
    except ImportError:
        asyncio.run(main(options.size, options.big))
    else:
        uvloop.run(main(options.size, options.big))
