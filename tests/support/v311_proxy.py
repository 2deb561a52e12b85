"""A front for a real mosquitto that behaves like an MQTT 3.1.1-only broker: an
MQTT 5 CONNECT is answered with CONNACK "unacceptable protocol version" (what such
brokers send), anything else is passed through untouched. Mosquitto itself cannot
be told to refuse MQTT 5."""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["V311OnlyProxy"]

_REFUSE_PROTOCOL = b"\x20\x02\x00\x01"


async def _read_packet(reader: asyncio.StreamReader) -> bytes:
    """One whole MQTT packet: fixed header, remaining length, body."""
    head = await reader.readexactly(1)
    length, shift, raw = 0, 0, b""
    while True:
        byte = await reader.readexactly(1)
        raw += byte
        length |= (byte[0] & 0x7F) << shift
        shift += 7
        if not byte[0] & 0x80:
            break
    return head + raw + await reader.readexactly(length)


def _protocol_level(connect: bytes) -> int:
    """The protocol level of a CONNECT packet (4 = 3.1.1, 5 = MQTT 5)."""
    i = 1
    while connect[i] & 0x80:
        i += 1
    i += 1  # past the remaining length
    name_len = int.from_bytes(connect[i : i + 2], "big")
    return connect[i + 2 + name_len]


class V311OnlyProxy:
    """``hang_up``: close the connection on an MQTT 5 CONNECT without a word, as some
    3.1.1-only brokers do, instead of answering CONNACK 1."""

    def __init__(self, target_port: int, *, hang_up: bool = False) -> None:
        self.target_port = target_port
        self.hang_up = hang_up
        self.refused_v5 = 0
        self.passed = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    async def __aenter__(self) -> V311OnlyProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._pipes:
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            connect = await _read_packet(reader)
            if connect[0] >> 4 == 1 and _protocol_level(connect) == 5:
                self.refused_v5 += 1
                if not self.hang_up:
                    writer.write(_REFUSE_PROTOCOL)
                    await writer.drain()
                return
            self.passed += 1
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
            up_writer.write(connect)
            pipes = [
                asyncio.create_task(self._pipe(reader, up_writer)),
                asyncio.create_task(self._pipe(up_reader, writer)),
            ]
            self._pipes.update(pipes)
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
            for task in pipes:
                task.cancel()
            up_writer.close()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
