"""Sparkplug B: the payload schema of the Eclipse Sparkplug specification
(``sparkplug_b.proto``, package ``org.eclipse.tahu.protobuf``, proto2) declared
here as a ``FileDescriptorProto``, so neither ``protoc`` nor a ``.proto`` file is
needed at run time, and decoded with ``google.protobuf`` like any descriptor set.

Sparkplug topics start with ``spBv1.0/``; that, or a payload shaped like one (a
timestamp, metrics, a sequence number), is what detection looks for."""

from __future__ import annotations

from functools import cache
from typing import Any

from google.protobuf import descriptor_pb2

from mqchat.inspector.codecs.errors import CodecError
from mqchat.inspector.codecs.protobuf_schema import Decoded, Schema

__all__ = ["DATATYPES", "PAYLOAD", "TOPIC_PREFIX", "decode_sparkplug", "sparkplug_schema"]

TOPIC_PREFIX = "spBv1.0/"
PACKAGE = "org.eclipse.tahu.protobuf"
PAYLOAD = f"{PACKAGE}.Payload"

_F = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    "uint32": _F.TYPE_UINT32,
    "uint64": _F.TYPE_UINT64,
    "float": _F.TYPE_FLOAT,
    "double": _F.TYPE_DOUBLE,
    "bool": _F.TYPE_BOOL,
    "string": _F.TYPE_STRING,
    "bytes": _F.TYPE_BYTES,
}

# Each message: its fields as (number, name, type, repeated); a type that is not a
# scalar names a message of the Payload (``Payload.Metric``).
_Fields = tuple[tuple[int, str, str, bool], ...]
_VALUE_ONEOF: _Fields = (
    (3, "int_value", "uint32", False),
    (4, "long_value", "uint64", False),
    (5, "float_value", "float", False),
    (6, "double_value", "double", False),
    (7, "boolean_value", "bool", False),
    (8, "string_value", "string", False),
)
_MESSAGES: dict[str, _Fields] = {
    "Payload": (
        (1, "timestamp", "uint64", False),
        (2, "metrics", "Payload.Metric", True),
        (3, "seq", "uint64", False),
        (4, "uuid", "string", False),
        (5, "body", "bytes", False),
    ),
    "Payload.Template": (
        (1, "version", "string", False),
        (2, "metrics", "Payload.Metric", True),
        (3, "parameters", "Payload.Template.Parameter", True),
        (4, "template_ref", "string", False),
        (5, "is_definition", "bool", False),
    ),
    "Payload.Template.Parameter": (
        (1, "name", "string", False),
        (2, "type", "uint32", False),
        *_VALUE_ONEOF,
    ),
    "Payload.DataSet": (
        (1, "num_of_columns", "uint64", False),
        (2, "columns", "string", True),
        (3, "types", "uint32", True),
        (4, "rows", "Payload.DataSet.Row", True),
    ),
    "Payload.DataSet.DataSetValue": tuple((n - 2, name, t, r) for n, name, t, r in _VALUE_ONEOF),
    "Payload.DataSet.Row": ((1, "elements", "Payload.DataSet.DataSetValue", True),),
    "Payload.PropertyValue": (
        (1, "type", "uint32", False),
        (2, "is_null", "bool", False),
        *_VALUE_ONEOF,
        (9, "propertyset_value", "Payload.PropertySet", False),
        (10, "propertysets_value", "Payload.PropertySetList", False),
    ),
    "Payload.PropertySet": (
        (1, "keys", "string", True),
        (2, "values", "Payload.PropertyValue", True),
    ),
    "Payload.PropertySetList": ((1, "propertyset", "Payload.PropertySet", True),),
    "Payload.MetaData": (
        (1, "is_multi_part", "bool", False),
        (2, "content_type", "string", False),
        (3, "size", "uint64", False),
        (4, "seq", "uint64", False),
        (5, "file_name", "string", False),
        (6, "file_type", "string", False),
        (7, "md5", "string", False),
        (8, "description", "string", False),
    ),
    "Payload.Metric": (
        (1, "name", "string", False),
        (2, "alias", "uint64", False),
        (3, "timestamp", "uint64", False),
        (4, "datatype", "uint32", False),
        (5, "is_historical", "bool", False),
        (6, "is_transient", "bool", False),
        (7, "is_null", "bool", False),
        (8, "metadata", "Payload.MetaData", False),
        (9, "properties", "Payload.PropertySet", False),
        *((n + 7, name, t, r) for n, name, t, r in _VALUE_ONEOF),
        (16, "bytes_value", "bytes", False),
        (17, "dataset_value", "Payload.DataSet", False),
        (18, "template_value", "Payload.Template", False),
    ),
}

DATATYPES = (
    "Unknown",
    "Int8",
    "Int16",
    "Int32",
    "Int64",
    "UInt8",
    "UInt16",
    "UInt32",
    "UInt64",
    "Float",
    "Double",
    "Boolean",
    "String",
    "DateTime",
    "Text",
    "UUID",
    "DataSet",
    "Bytes",
    "File",
    "Template",
    "PropertySet",
    "PropertySetList",
    "Int8Array",
    "Int16Array",
    "Int32Array",
    "Int64Array",
    "UInt8Array",
    "UInt16Array",
    "UInt32Array",
    "UInt64Array",
    "FloatArray",
    "DoubleArray",
    "BooleanArray",
    "StringArray",
    "DateTimeArray",
)
"""Metric data types by number (the specification's ``DataType`` enum)."""


def _file() -> descriptor_pb2.FileDescriptorProto:
    proto = descriptor_pb2.FileDescriptorProto(
        name="sparkplug_b.proto", package=PACKAGE, syntax="proto2"
    )
    made: dict[str, descriptor_pb2.DescriptorProto] = {}
    for path, fields in _MESSAGES.items():  # parents come before their nested types
        parent, _, name = path.rpartition(".")
        container = made[parent].nested_type if parent else proto.message_type
        message = made[path] = container.add(name=name)
        for number, field_name, kind, repeated in fields:
            field = message.field.add(
                name=field_name,
                number=number,
                label=_F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL,
            )
            if kind in _SCALARS:
                field.type = _SCALARS[kind]
            else:
                field.type = _F.TYPE_MESSAGE
                field.type_name = f".{PACKAGE}.{kind}"
    return proto


@cache
def sparkplug_schema() -> Schema:
    return Schema([_file()])


def decode_sparkplug(payload: bytes) -> Decoded:
    """``payload`` as a Sparkplug B ``Payload``, each metric's ``datatype`` given
    with its name (``"Double (10)"``), or :class:`CodecError`."""
    try:
        decoded = sparkplug_schema().decode(payload, PAYLOAD)
    except CodecError as exc:
        raise CodecError(str(exc).replace(f"a {PAYLOAD}", "Sparkplug B")) from None
    for metric in _metrics(decoded.value):
        kind = metric.get("datatype")
        if isinstance(kind, int) and 0 <= kind < len(DATATYPES):
            metric["datatype"] = f"{DATATYPES[kind]} ({kind})"
    return decoded


def _metrics(value: dict[str, Any]) -> list[dict[str, Any]]:
    metrics = value.get("metrics")
    return [m for m in metrics if isinstance(m, dict)] if isinstance(metrics, list) else []
