"""Protobuf with a schema: a compiled descriptor set (``protoc --include_imports
--descriptor_set_out=FILE``) loaded into its own ``DescriptorPool``, and a payload
parsed as one of its message types by ``google.protobuf``, shown with
``json_format.MessageToDict`` (the proto3 JSON mapping, field names as in the
``.proto``). No ``protoc`` at run time: the set is read as data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from google.protobuf.unknown_fields import UnknownFieldSet

from mqchat.inspector.codecs.errors import CodecError
from mqchat.inspector.codecs.jsonable import jsonable

__all__ = ["MAX_DESCRIPTOR_BYTES", "Schema", "load_descriptor_set"]

MAX_DESCRIPTOR_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Decoded:
    value: dict[str, Any]
    unknown_fields: bool
    """Whether the payload had fields the schema does not name (a hint that it is
    another message type)."""


class Schema:
    """The message types of one descriptor set."""

    def __init__(self, files: Sequence[descriptor_pb2.FileDescriptorProto]) -> None:
        self._pool = descriptor_pool.DescriptorPool()
        for proto in files:
            self._pool.Add(proto)
        self.names: tuple[str, ...] = tuple(
            name for proto in files for name in _message_names(proto)
        )
        """Every message type's full name (``pkg.Outer.Inner``), in file order."""
        self._classes: dict[str, type[Message]] = {}

    def message_class(self, name: str) -> type[Message]:
        """The class of message type ``name``, or :class:`CodecError`."""
        found = self._classes.get(name)
        if found is None:
            try:
                descriptor: Descriptor = self._pool.FindMessageTypeByName(name)
            except KeyError:
                known = ", ".join(self.names[:8]) + (" …" if len(self.names) > 8 else "")
                raise CodecError(f"no message type {name!r} (the set has: {known})") from None
            found = self._classes[name] = message_factory.GetMessageClass(descriptor)
        return found

    def decode(self, payload: bytes, name: str) -> Decoded:
        """``payload`` parsed as message type ``name``, or :class:`CodecError`."""
        message = self.message_class(name)()
        try:
            message.ParseFromString(payload)
            value = json_format.MessageToDict(message, preserving_proto_field_name=True)
        except Exception as exc:  # DecodeError, or a depth limit: not this type
            raise CodecError(f"not a {name}: {_reason(exc)}") from None
        unknown = _has_unknown(message)
        if unknown and not value:
            raise CodecError(f"not a {name}: none of its fields, only ones it does not name")
        return Decoded(jsonable(value), unknown)


def _reason(exc: Exception) -> str:
    text = str(exc).splitlines()[0][:120] if str(exc) else ""
    return text or type(exc).__name__


def _has_unknown(message: Message, depth: int = 0) -> bool:
    """Whether ``message`` or a message in it kept fields its type does not name."""
    if len(UnknownFieldSet(message)):
        return True
    if depth >= 32:
        return False
    for field, value in message.ListFields():
        if field.message_type is None or field.message_type.GetOptions().map_entry:
            continue
        repeated = (
            field.is_repeated
            if hasattr(field, "is_repeated")  # protobuf 6.31 on; `label` is gone in 7
            else getattr(field, "label", None) == field.LABEL_REPEATED
        )
        items = value if repeated else [value]
        if any(_has_unknown(item, depth + 1) for item in items):
            return True
    return False


def _message_names(proto: descriptor_pb2.FileDescriptorProto) -> list[str]:
    prefix = f"{proto.package}." if proto.package else ""
    names: list[str] = []
    stack = [(prefix, m) for m in reversed(proto.message_type)]
    while stack:
        scope, message = stack.pop()
        if message.options.map_entry:
            continue
        full = scope + message.name
        names.append(full)
        stack.extend((full + ".", m) for m in reversed(message.nested_type))
    return names


def load_descriptor_set(path: Path) -> Schema:
    """The descriptor set in ``path``, or :class:`CodecError` with one line why."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_DESCRIPTOR_BYTES + 1)
    except OSError as exc:
        raise CodecError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_DESCRIPTOR_BYTES:
        raise CodecError(f"{path}: larger than {MAX_DESCRIPTOR_BYTES // 2**20} MiB")
    files = descriptor_pb2.FileDescriptorSet()
    try:
        files.ParseFromString(data)
    except Exception:
        raise CodecError(
            f"{path}: not a compiled descriptor set (make one with protoc "
            "--include_imports --descriptor_set_out=FILE)"
        ) from None
    if not files.file:
        raise CodecError(f"{path}: the descriptor set holds no .proto file")
    try:
        return Schema(list(files.file))
    except Exception as exc:  # TypeError/KeyError from the pool: a missing import
        raise CodecError(f"{path}: {_reason(exc)} (compile it with --include_imports)") from None
