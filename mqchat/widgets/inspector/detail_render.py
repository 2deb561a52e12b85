"""Pure functions that draw the inspector's detail pane as Rich ``Text``: one message's
flags, its payload in the view chosen (wire bytes, decoded, decrypted), its MQTT 5
properties and its topic's recent history with a sparkline; and which views ``v`` cycles.
Apart from the rows and the status line (``render.py``) because the detail alone knows
codecs and sealing. Everything from the network stays literal text (``display_safe``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from rich.highlighter import JSONHighlighter
from rich.text import Text

from mqchat.core.text import display_safe
from mqchat.inspector.capture import Captured, PropertyValue
from mqchat.inspector.codecs import Decoding, Format
from mqchat.inspector.decoded import DecodedPayload, decoded_payload
from mqchat.inspector.payload import (
    FORMAT_LIMIT,
    FormattedPayload,
    PayloadKind,
    View,
    fit_width,
    format_payload,
    numeric_fields,
    numeric_value,
    preview,
    sparkline,
)
from mqchat.inspector.sealed import DECRYPTED_LABEL, NOT_FOR_US, Sealing
from mqchat.inspector.topic_tree import folded_levels
from mqchat.widgets.inspector.diff_render import diff_body, previous_message
from mqchat.widgets.inspector.render import clock_ms, plural

__all__ = [
    "SEALED_VIEWS",
    "VIEWS",
    "DetailOptions",
    "detail_parts",
    "detail_text",
    "message_views",
    "next_view",
    "properties_text",
    "spark_field",
]

VIEWS = (View.JSON, View.TEXT, View.HEX, View.BASE64)
"""The views of the wire bytes, in the order ``v`` cycles through them."""
SEALED_VIEWS = (*VIEWS, View.DECRYPTED)
"""The views of a sealed message the chat can try to open."""
HISTORY_LINES = 8
"""Newest messages of the topic listed under the detail."""

_json = JSONHighlighter()


def next_view(current: View, views: Sequence[View] = VIEWS) -> View:
    """The view after ``current`` among ``views`` (the first when it is not one)."""
    if current not in views:
        return views[0]
    return views[(views.index(current) + 1) % len(views)]


def _property_value(value: PropertyValue) -> str:
    if isinstance(value, list):
        parts = [f"{v[0]}={v[1]}" if isinstance(v, tuple) else str(v) for v in value]
        return ", ".join(parts)
    return str(value)


def properties_text(properties: Mapping[str, PropertyValue] | None) -> Text:
    """``props: —`` or one ``Name: value`` line per MQTT 5 property."""
    if not properties:
        return Text("props: —", style="dim", end="")
    text = Text("props:", style="dim", end="")
    for name, value in properties.items():
        text.append("\n  ")
        text.append(display_safe(name), style="bold")
        text.append(": ")
        text.append(display_safe(_property_value(value))[:1000])
    return text


def _views_bar(shown: View, views: Sequence[View], decoded: DecodedPayload | None) -> Text:
    text = Text(end="")
    for view in views:
        style = "bold reverse" if view is shown else "dim"
        label = decoded.format.codec if view is View.DECODED and decoded is not None else view
        text.append(f"[{label}]", style=style)
        text.append(" ")
    if shown is View.DIFF:
        text.append("[diff]", style="bold reverse")
        text.append("  d: back", style="dim italic")
        return text
    text.append(" v cycles", style="dim italic")
    return text


def message_views(sealing: Sealing | None, decoded: DecodedPayload | None) -> tuple[View, ...]:
    """The views ``v`` cycles for a message: the wire views, then its decoded view
    (a codec fits it, or one was set for its topic), then its decrypted one (a sealed
    message the chat can try to open)."""
    views = VIEWS + ((View.DECODED,) if decoded is not None else ())
    return views + ((View.DECRYPTED,) if sealing is not None and sealing.can_open else ())


def spark_field(history: Sequence[Captured], chosen: str | None) -> str | None:
    """The JSON field a topic's sparkline follows: none when the newest payload is a
    plain number, else ``chosen`` when the newest payload has it, else its first
    numeric field (``None`` when it has none)."""
    if not history or numeric_value(history[-1].payload) is not None:
        return None
    fields = numeric_fields(history[-1].payload)
    if chosen in fields:
        return chosen
    return fields[0] if fields else None


def _history(history: Sequence[Captured], width: int, field: str | None) -> Text:
    values = [numeric_value(m.payload, field) for m in history]
    numbers = [v for v in values if v is not None]
    text = Text(end="")
    label = f"{fit_width(display_safe(field), 16)} " if field else ""
    spark = sparkline(numbers, max(width - 40 - len(label), 8)) if len(numbers) >= 2 else None
    if spark is not None:
        text.append(label, style="bold")
        text.append(spark.text, style="green")
        text.append(
            f"  min {spark.low:g}  max {spark.high:g}  last {spark.last:g}  ({spark.count})",
            style="dim",
        )
        text.append("  n: next field\n" if field else "\n", style="dim italic")
    text.append(f"history ({len(history)} kept, newest first):", style="dim")
    for message in list(reversed(history))[:HISTORY_LINES]:
        text.append(f"\n  {clock_ms(message.ts)}  ", style="dim")
        text.append(preview(message.payload, max(width - 16, 8), size=message.size))
    return text


def _cuts(message: Captured, formatted: FormattedPayload) -> Text:
    """A line for each part of the message not shown whole: a topic deeper than the
    tree goes, a payload cut on receipt or longer than the view formats."""
    text = Text(end="")
    folded = folded_levels(message.topic)
    if folded:
        levels = message.topic.count("/") + 1
        text.append(
            f"topic cut: {levels:,} levels; the tree folds the last {folded:,} into one node\n",
            style="bold yellow",
        )
    if formatted.omitted:
        shown = max(message.size, len(message.payload)) - formatted.omitted
        text.append(
            f"payload cut: showed {shown:,} of {message.size:,} bytes\n", style="bold yellow"
        )
    return text


@dataclass(frozen=True, slots=True)
class DetailOptions:
    """How to draw a message's detail, apart from the message and its topic's history:
    the ``view`` (``None``: the detected one), the topic's message ``count``, the pane's
    ``width``, the JSON ``field`` the sparkline follows (see :func:`spark_field`), what
    is known of a sealed message (``sealing``; ``None``: not sealed), the format the
    user ``chosen`` for the topic, and the ``decoding`` (a Protobuf descriptor set)."""

    view: View | None = None
    count: int = 1
    width: int = 60
    field: str | None = None
    sealing: Sealing | None = None
    chosen: Format | None = None
    decoding: Decoding | None = None


def detail_text(
    message: Captured, history: Sequence[Captured], options: DetailOptions = DetailOptions()
) -> tuple[Text, FormattedPayload]:
    """:func:`detail_parts` without the views."""
    text, formatted, _ = detail_parts(message, history, options)
    return text, formatted


def detail_parts(
    message: Captured, history: Sequence[Captured], options: DetailOptions = DetailOptions()
) -> tuple[Text, FormattedPayload, tuple[View, ...]]:
    """The detail of one message: its flags, the payload in ``options.view`` (the
    detected one when ``None``), its properties, and the topic's recent history, for a
    pane ``options.width`` cells wide; the history's sparkline follows the JSON
    ``options.field`` (see :func:`spark_field`).

    ``options.sealing`` is what is known of a sealed message: when it can be opened
    the views include ``decrypted``, drawn when the view asks for it from
    ``sealing.inner``; the wire views stay the ciphertext. The returned payload is the
    inner envelope's, with the view ``decrypted``, when that is drawn.

    A binary payload a codec fits (see :func:`~mqchat.inspector.codecs.guess`), or any
    payload of a topic whose format the user ``chosen``, has a ``decoded`` view too,
    shown first (view ``None``) and labelled, on the one line that says what was
    detected, with the codec and how sure the detection is. The ``diff`` view shows
    what changed from the message kept before it in ``history``. The views ``v``
    cycles come back last."""
    view, sealing = options.view, options.sealing
    formatted = format_payload(message.payload, view, size=message.size)
    decoded = decoded_payload(
        message,
        binary=formatted.kind is PayloadKind.BINARY,
        chosen=options.chosen,
        decoding=options.decoding,
    )
    show_decoded = decoded is not None and view in (None, View.DECODED)
    meta = " · ".join(
        [
            "retained" if message.retain else "live",
            f"QoS {message.qos}",
            f"{message.size:,} bytes",
            clock_ms(message.ts),
            plural(options.count, "msg"),
        ]
    )
    text = Text(meta, style="dim", end="")
    if message.retain:
        text.stylize("bold yellow", 0, len("retained"))
    text.append("\n")
    text.append_text(_cuts(message, formatted))
    views = message_views(sealing, decoded)
    decrypted = view is View.DECRYPTED and sealing is not None and sealing.tried
    shown = View.DECRYPTED if decrypted else View.DECODED if show_decoded else formatted.view
    if view is View.DIFF:
        shown = View.DIFF
    text.append_text(_views_bar(shown, views, decoded))
    # One line says what was detected: the codec and how sure, else the kind.
    if decoded is not None:
        text.append("\n")
        text.append(decoded.header, style="bold cyan" if show_decoded else "dim")
        text.append("  f: format\n", style="dim italic")
    elif view is View.DIFF:  # the diff says how it compared them
        text.append("\n")
    else:
        kind = f"{formatted.kind}, sealed" if sealing is not None else str(formatted.kind)
        text.append(f"  (detected: {kind})\n", style="dim")
    if view is View.DIFF:
        previous = previous_message(message, history)
        chosen, decoding = options.chosen, options.decoding
        text.append_text(diff_body(message, previous, chosen=chosen, decoding=decoding))
        formatted = replace(formatted, view=View.DIFF)
    elif decrypted:
        assert sealing is not None
        formatted = _decrypted(sealing, text)
    elif show_decoded:
        assert decoded is not None
        formatted = _decoded(decoded, formatted, text)
    else:
        text.append_text(_payload_body(formatted))
    text.append("\n\n")
    text.append_text(properties_text(message.properties))
    if history:
        text.append("\n")
        text.append_text(_history(history, options.width, spark_field(history, options.field)))
    return text, formatted, views


def _payload_body(formatted: FormattedPayload) -> Text:
    body = Text(formatted.text, end="")
    return _json(body) if formatted.is_json else body


def _decoded(decoded: DecodedPayload, wire: FormattedPayload, text: Text) -> FormattedPayload:
    """Append the decoded payload to ``text``, or why it did not decode and then its
    bytes in the wire view."""
    if decoded.text is None:
        text.append(f"{display_safe(decoded.error)}\n", style="bold yellow")
        text.append_text(_payload_body(wire))
        return replace(wire, view=View.DECODED)
    text.append_text(_json(Text(decoded.text, end="")))
    return FormattedPayload(wire.kind, View.DECODED, decoded.text)


def _decrypted(sealing: Sealing, text: Text) -> FormattedPayload:
    """Append the opened envelope to ``text`` under a label that says where it comes
    from, or :data:`NOT_FOR_US`; the inner envelope formatted like any payload (so
    its text stays literal)."""
    if sealing.inner is None:
        text.append(NOT_FOR_US, style="bold yellow")
        text.append(
            "\n(not sealed for this device, or by one whose keys it does not trust)",
            style="dim italic",
        )
        return FormattedPayload(PayloadKind.EMPTY, View.DECRYPTED, NOT_FOR_US)
    text.append(f"{DECRYPTED_LABEL}\n", style="bold green")
    inner = format_payload(sealing.inner, View.JSON, limit=FORMAT_LIMIT)
    text.append_text(_payload_body(inner))
    return replace(inner, view=View.DECRYPTED)
