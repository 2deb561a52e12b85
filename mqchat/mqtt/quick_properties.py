"""paho's MQTT 5 :class:`~paho.mqtt.properties.Properties`, made cheap to create.

paho builds two lookup tables (some 40 property names and their types) in every
``Properties()``, and its decoder makes one for every MQTT 5 PUBLISH that arrives,
with or without properties; clearing and looking names up walk the whole table
each time. On the chat's path that was about a sixth of the CPU a message costs (a
friend's message arrives twice: once per matching subscription).
:class:`QuickProperties` builds the tables once and shares them (nothing writes to
them after ``__init__``), looks names up in a dict, and clears only what is set.
Everything else, the values, their checks, packing and unpacking, is paho's own.

:mod:`mqchat.mqtt.shims` makes paho's decoder build these instead of its own."""

from __future__ import annotations

from typing import Any

from paho.mqtt.properties import Properties

__all__ = ["QuickProperties"]

_OWN = frozenset({"packetType", "types", "names", "properties"})
"""The attributes paho's ``Properties`` keeps for itself; every other one is a property."""


class QuickProperties(Properties):
    """A :class:`~paho.mqtt.properties.Properties` whose tables are built once."""

    _tables: tuple[Any, Any, Any] | None = None
    _idents: dict[str, int] = {}

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

    def clear(self) -> None:
        for name in [n for n in self.__dict__ if n not in _OWN]:
            delattr(self, name)

    def isEmpty(self) -> bool:
        return all(n in _OWN for n in self.__dict__)
