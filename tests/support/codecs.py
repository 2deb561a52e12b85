"""Payloads for the codec tests: a small descriptor set built in code (what ``protoc
--include_imports --descriptor_set_out`` would write for demo.proto), a message of
it, a Sparkplug B payload, and MessagePack/CBOR documents."""

from __future__ import annotations

from pathlib import Path

import cbor2
import msgpack
from google.protobuf import descriptor_pb2

from mqchat.inspector.codecs import Schema
from mqchat.inspector.codecs.sparkplug import PAYLOAD, sparkplug_schema

__all__ = [
    "CBOR_DOC",
    "MSGPACK_DOC",
    "READING",
    "READING_TYPE",
    "cbor_bytes",
    "demo_files",
    "msgpack_bytes",
    "reading_bytes",
    "sparkplug_bytes",
    "write_descriptor_set",
]

READING_TYPE = "demo.Reading"
READING = {"sensor": "boiler", "celsius": 55.49, "samples": [1, 2, 3], "unit": {"name": "°C"}}
MSGPACK_DOC = {"device": "pump-7", "rpm": 1450, "ok": True, "temps": [21.5, 22.0]}
CBOR_DOC = {"device": "valve-2", "open": False, "raw": b"\x00\x01\xfe", "level": 0.75}

_F = descriptor_pb2.FieldDescriptorProto


def demo_files() -> list[descriptor_pb2.FileDescriptorProto]:
    """``package demo; message Unit {string name = 1;} message Reading {string sensor
    = 1; double celsius = 2; repeated int32 samples = 3; Unit unit = 4;}`` in unit.proto
    and reading.proto (which imports it)."""
    unit = descriptor_pb2.FileDescriptorProto(name="unit.proto", package="demo", syntax="proto3")
    message = unit.message_type.add(name="Unit")
    message.field.add(name="name", number=1, type=_F.TYPE_STRING, label=_F.LABEL_OPTIONAL)
    reading = descriptor_pb2.FileDescriptorProto(
        name="reading.proto", package="demo", syntax="proto3", dependency=["unit.proto"]
    )
    message = reading.message_type.add(name="Reading")
    message.field.add(name="sensor", number=1, type=_F.TYPE_STRING, label=_F.LABEL_OPTIONAL)
    message.field.add(name="celsius", number=2, type=_F.TYPE_DOUBLE, label=_F.LABEL_OPTIONAL)
    message.field.add(name="samples", number=3, type=_F.TYPE_INT32, label=_F.LABEL_REPEATED)
    message.field.add(
        name="unit", number=4, type=_F.TYPE_MESSAGE, label=_F.LABEL_OPTIONAL, type_name=".demo.Unit"
    )
    return [unit, reading]


def write_descriptor_set(path: Path) -> Path:
    files = descriptor_pb2.FileDescriptorSet(file=demo_files())
    path.write_bytes(files.SerializeToString())
    return path


def reading_bytes() -> bytes:
    cls = Schema(demo_files()).message_class(READING_TYPE)
    message = cls(sensor="boiler", celsius=55.49, samples=[1, 2, 3])
    message.unit.name = "°C"  # type: ignore[attr-defined]
    return message.SerializeToString()


def sparkplug_bytes() -> bytes:
    """A DDATA-like payload: a timestamp, two metrics (a Double, a Boolean), a seq."""
    payload = sparkplug_schema().message_class(PAYLOAD)(timestamp=1_700_000_000_000, seq=7)
    metrics = payload.metrics  # type: ignore[attr-defined]
    metrics.add(name="Temperature", alias=1, datatype=10, double_value=21.5)
    metrics.add(name="Pump/Running", alias=2, datatype=11, boolean_value=True)
    return payload.SerializeToString()


def msgpack_bytes() -> bytes:
    data: bytes = msgpack.packb(MSGPACK_DOC)
    return data


def cbor_bytes() -> bytes:
    return cbor2.dumps(CBOR_DOC)
