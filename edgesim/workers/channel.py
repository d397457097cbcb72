"""Messages between serve's control process and a worker: length-prefixed pickle frames over a
Unix socket pair, read and written with asyncio streams.

Pickle, not JSON: both ends are the same program (the control process spawns its workers and
each end of the pair belongs to one of them), and the messages are edgesim's own dataclasses
(requests, function runs, KVS changes, whole distributions), which pickle as they are.
"""

from __future__ import annotations

import asyncio
import contextlib
import copyreg
import pickle
import socket
import struct
import types
from typing import Any

_HEADER = struct.Struct("!I")
MAX_FRAME = 1 << 30  # far above any message; a larger length means a broken stream


def _mapping_proxy(items: dict[Any, Any]) -> types.MappingProxyType[Any, Any]:
    return types.MappingProxyType(items)


def _reduce_mapping_proxy(
    proxy: types.MappingProxyType[Any, Any],
) -> tuple[Any, tuple[dict[Any, Any]]]:
    return _mapping_proxy, (dict(proxy),)


# The distribution model keeps some read-only tables as mapping proxies, which pickle refuses.
copyreg.pickle(types.MappingProxyType, _reduce_mapping_proxy)


class ChannelClosed(Exception):
    """The other end went away (stopped, or died)."""


def encode(message: object) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(data)) + data


class Channel:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, sock: socket.socket) -> Channel:
        reader, writer = await asyncio.open_unix_connection(sock=sock)
        return cls(reader, writer)

    def send(self, message: object) -> None:
        """Queue ``message`` (in order; never blocks: the peer reads continuously)."""
        if self._writer.is_closing():
            raise ChannelClosed("the channel is closed")
        self._writer.write(encode(message))

    def send_raw(self, frame: bytes) -> None:
        """An :func:`encode`-d message (one encoding for many channels)."""
        if self._writer.is_closing():
            raise ChannelClosed("the channel is closed")
        self._writer.write(frame)

    async def drain(self) -> None:
        try:
            await self._writer.drain()
        except (ConnectionError, RuntimeError) as exc:
            raise ChannelClosed(str(exc)) from None

    async def recv(self) -> Any:
        try:
            head = await self._reader.readexactly(_HEADER.size)
            (size,) = _HEADER.unpack(head)
            if size > MAX_FRAME:
                raise ChannelClosed(f"frame of {size} bytes: the stream is broken")
            data = await self._reader.readexactly(size)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            raise ChannelClosed(str(exc)) from None
        return pickle.loads(data)

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self._writer.wait_closed()
