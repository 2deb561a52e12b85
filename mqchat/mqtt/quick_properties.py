"""paho's MQTT 5 :class:`~paho.mqtt.properties.Properties`, made cheap to create.

paho builds two lookup tables (some 40 property names and their types) in every
``Properties()``, and its decoder makes one for every MQTT 5 PUBLISH that arrives,
with or without properties; clearing and looking names up walk the whole table
each time. On the chat's path that was about a sixth of the CPU a message costs (a
friend's message arrives twice: once per matching subscription).
:class:`QuickProperties` builds the tables once and shares them (nothing writes to
them after ``__init__``), looks names up in a dict, and clears only what is set.
It also remembers what small property sets pack to and unpack from: a chat sends
and receives the same few (the content type) with every message. Everything else,
the values, their checks, the encoding itself, is paho's own.

:mod:`mqchat.mqtt.shims` makes paho's decoder build these instead of its own."""

from __future__ import annotations

from typing import Any

from paho.mqtt.properties import Properties, VariableByteIntegers

__all__ = ["QuickProperties"]

_OWN = frozenset({"packetType", "types", "names", "properties"})
"""The attributes paho's ``Properties`` keeps for itself; every other one is a property."""
_REMEMBERED = 256
"""Property sets remembered, packed and unpacked (then forgotten all at once)."""
_SMALL = 256
"""Bytes of a packed property set at most, for it to be remembered."""


class QuickProperties(Properties):
    """A :class:`~paho.mqtt.properties.Properties` whose tables are built once."""

    _tables: tuple[Any, Any, Any] | None = None
    _idents: dict[str, int] = {}
    _packed: dict[tuple[int, tuple[tuple[str, Any], ...]], bytes] = {}
    _unpacked: dict[tuple[int, bytes], dict[str, Any]] = {}

    def __init__(self, packetType: int) -> None:
        tables = QuickProperties._tables
        if tables is None:
            super().__init__(packetType)  # type: ignore[no-untyped-call]
            QuickProperties._tables = (self.types, self.names, self.properties)
            QuickProperties._idents = {n.replace(" ", ""): i for n, i in self.names.items()}
            return
        own = self.__dict__
        own["packetType"] = packetType
        own["types"], own["names"], own["properties"] = tables

    def getIdentFromName(self, compressedName: str) -> int:
        return self._idents.get(compressedName, -1)

    def _values(self) -> dict[str, Any]:
        """The properties set, by their attribute names."""
        return {n: v for n, v in self.__dict__.items() if n not in _OWN}

    def clear(self) -> None:
        for name in self._values():
            delattr(self, name)

    def isEmpty(self) -> bool:
        return not self._values()

    def pack(self) -> bytes:
        values = tuple(
            (n, tuple(v) if isinstance(v, list) else v) for n, v in self._values().items()
        )
        key = (self.packetType, values)
        packed = self._packed.get(key)
        if packed is None:
            packed = super().pack()  # type: ignore[no-untyped-call]
            if len(packed) <= _SMALL:
                if len(self._packed) >= _REMEMBERED:
                    self._packed.clear()
                self._packed[key] = packed
        return packed

    def unpack(self, buffer: bytes) -> tuple[QuickProperties, int]:
        length, head = VariableByteIntegers.decode(buffer)  # type: ignore[no-untyped-call]
        size = length + head
        key = (self.packetType, bytes(buffer[:size]))
        known = self._unpacked.get(key)
        if known is None:
            super().unpack(buffer)  # type: ignore[no-untyped-call]
            if size <= _SMALL:
                if len(self._unpacked) >= _REMEMBERED:
                    self._unpacked.clear()
                self._unpacked[key] = self._values()
            return self, size
        self.clear()
        for name, value in known.items():  # a list (user properties) of its own
            self.__dict__[name] = list(value) if isinstance(value, list) else value
        return self, size
