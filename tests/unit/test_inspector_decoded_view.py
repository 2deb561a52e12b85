"""The detail pane's decoded view (issue 17): a binary payload a codec fits opens
decoded, labelled with the codec and the confidence, with ``v`` cycling through the
wire views and back; text (``55.49``) never gets one; a format set for the topic
wins, and says so, even when it does not fit."""

from __future__ import annotations

from mqchat.inspector.capture import Captured
from mqchat.inspector.codecs import Codec, Format
from mqchat.inspector.payload import View
from mqchat.widgets.inspector.detail_render import VIEWS, DetailOptions, detail_parts, next_view
from tests.support.codecs import msgpack_bytes, sparkplug_bytes


def message(payload: bytes, topic: str = "plant/pump") -> Captured:
    return Captured(1, 0.0, topic, payload, len(payload))


def test_a_number_in_text_is_never_garbled() -> None:
    text, formatted, views = detail_parts(message(b"55.49"), [])
    assert formatted.view is View.TEXT and formatted.text == "55.49"
    assert views == VIEWS
    assert "msgpack" not in text.plain and "f: format" not in text.plain


def test_messagepack_opens_decoded_with_its_confidence() -> None:
    text, formatted, views = detail_parts(message(msgpack_bytes()), [])
    assert formatted.view is View.DECODED
    assert views == (*VIEWS, View.DECODED)
    first = "\n".join(text.plain.splitlines()[1:3])
    assert "[msgpack]" in first and "detected: msgpack, 95%" in first
    assert '"rpm": 1450' in text.plain
    # v: the wire views, then back to the decoded one
    assert next_view(View.DECODED, views) is View.JSON
    _, hexed, _ = detail_parts(message(msgpack_bytes()), [], DetailOptions(View.HEX))
    assert hexed.view is View.HEX and hexed.text.startswith("00000000: 84a6")


def test_a_chosen_format_wins_and_says_so() -> None:
    chosen = Format(Codec.SPARKPLUG)
    text, formatted, _ = detail_parts(message(b"55.49"), [], DetailOptions(chosen=chosen))
    assert formatted.view is View.DECODED
    assert "format: sparkplug, set for this topic" in text.plain
    assert "not Sparkplug B" in text.plain and "55.49" in text.plain  # then the bytes
    text, _, _ = detail_parts(message(sparkplug_bytes()), [], DetailOptions(chosen=chosen))
    assert '"name": "Temperature"' in text.plain
