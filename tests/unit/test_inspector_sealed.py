"""Sealed chat envelopes in the inspector, with a fake ``unseal``: what counts as
sealed, opening only the shown message, only when asked and only once, and the
detail pane's decrypted view (labelled, the inner envelope pretty-printed and
literal), "not for this device", and no such view for a plain payload."""

from __future__ import annotations

import json

import pytest

from mqchat.inspector.capture import Captured
from mqchat.inspector.payload import View
from mqchat.inspector.sealed import DECRYPTED_LABEL, NOT_FOR_US, SealedReader, Sealing, is_sealed
from mqchat.widgets.inspector.detail_render import (
    SEALED_VIEWS,
    VIEWS,
    DetailOptions,
    detail_text,
    next_view,
)
from tests.support.fake_backend import SEALED_FOR_ALICE, SEALED_FOR_CAROL, SEALED_INNER

TOPIC = "mqchat/u/alice/inbox/bob"
PLAIN = (
    b'{"v":2,"id":"x1","type":"text","from":"bob","to":"alice",'
    b'"ts":"2026-11-22T14:04:00.000Z","body":"sealed"}'
)


def captured(payload: bytes, seq: int = 1, size: int | None = None) -> Captured:
    return Captured(seq, 0.0, TOPIC, payload, len(payload) if size is None else size, qos=1)


class FakeUnseal:
    """Opens :data:`SEALED_FOR_ALICE` only, and counts its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes]] = []

    def __call__(self, topic: str, payload: bytes) -> bytes | None:
        self.calls.append((topic, payload))
        return SEALED_INNER if payload == SEALED_FOR_ALICE else None


# -- telling a sealed envelope apart -------------------------------------------------


def test_a_sealed_envelope_is_sealed() -> None:
    assert is_sealed(SEALED_FOR_ALICE)
    assert is_sealed(SEALED_FOR_CAROL)


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"23.41",
        PLAIN,  # the word "sealed" in a plain text is not enough
        b'{"type":"sealed","sealed":{}}',  # no envelope header
        SEALED_FOR_ALICE.replace(b'"sealed":{', b'"sealed":[{', 1)[:-1] + b"]}",
        SEALED_FOR_ALICE[:-1],  # broken JSON
        b"\xff" + SEALED_FOR_ALICE,
    ],
)
def test_anything_else_is_not(payload: bytes) -> None:
    assert not is_sealed(payload)


def test_a_payload_cut_on_capture_is_not_sealed() -> None:
    assert not is_sealed(SEALED_FOR_ALICE[:100], size=len(SEALED_FOR_ALICE))


# -- opening: the shown message, on demand, once --------------------------------------


def test_opens_only_when_asked_and_only_once() -> None:
    unseal = FakeUnseal()
    reader = SealedReader(unseal)
    message = captured(SEALED_FOR_ALICE)
    assert reader.state(message, open_it=False) == Sealing(can_open=True)
    assert unseal.calls == []
    for _ in range(3):  # the 10 Hz redraw
        assert reader.state(message, open_it=True) == Sealing(True, True, SEALED_INNER)
    assert unseal.calls == [(TOPIC, SEALED_FOR_ALICE)]


def test_another_message_is_opened_anew() -> None:
    unseal = FakeUnseal()
    reader = SealedReader(unseal)
    reader.state(captured(SEALED_FOR_ALICE, 1), open_it=True)
    assert reader.state(captured(SEALED_FOR_CAROL, 2), open_it=True) == Sealing(True, True, None)
    assert len(unseal.calls) == 2


def test_a_plain_message_is_never_handed_to_unseal() -> None:
    unseal = FakeUnseal()
    assert SealedReader(unseal).state(captured(PLAIN), open_it=True) is None
    assert unseal.calls == []


def test_standalone_only_knows_it_is_sealed() -> None:
    reader = SealedReader(None)
    assert reader.state(captured(SEALED_FOR_ALICE), open_it=True) == Sealing(can_open=False)


def test_a_failing_unseal_is_not_for_this_device() -> None:
    def broken(topic: str, payload: bytes) -> bytes | None:
        raise RuntimeError("boom")

    state = SealedReader(broken).state(captured(SEALED_FOR_ALICE), open_it=True)
    assert state == Sealing(True, True, None)


def test_v_cycles_through_decrypted_only_for_a_sealed_message() -> None:
    assert [next_view(v, SEALED_VIEWS) for v in SEALED_VIEWS] == [
        View.TEXT,
        View.HEX,
        View.BASE64,
        View.DECRYPTED,
        View.JSON,
    ]
    assert next_view(View.BASE64) is View.JSON
    assert next_view(View.DECRYPTED) is View.JSON  # left over from a sealed message


# -- the detail pane -------------------------------------------------------------------


def detail(payload: bytes, view: View | None, sealing: Sealing | None) -> tuple[str, View]:
    message = captured(payload)
    text, formatted = detail_text(message, [message], DetailOptions(view, sealing=sealing))
    return text.plain, formatted.view


def test_decrypted_view_shows_the_inner_envelope_labelled() -> None:
    shown, view = detail(SEALED_FOR_ALICE, View.DECRYPTED, Sealing(True, True, SEALED_INNER))
    assert view is View.DECRYPTED
    assert "[decrypted]" in shown
    assert DECRYPTED_LABEL in shown
    assert "(detected: json, sealed)" in shown
    # pretty-printed JSON of the inner envelope, hostile text literal
    assert '  "type": "text",' in shown
    assert '  "body": "[bold red]meet at 5[/] \\u001b[2J"' in shown
    assert "\x1b" not in shown
    assert "x9Rk2dQ0hT3nF6yWzB8pLc4vA1sE5gJ7uK0oI2mHqXc=" not in shown  # not the wire


def test_the_wire_views_stay_the_ciphertext() -> None:
    for wire in VIEWS:
        shown, view = detail(SEALED_FOR_ALICE, wire, Sealing(True, True, SEALED_INNER))
        assert view is wire
        assert DECRYPTED_LABEL not in shown
        assert "meet at 5" not in shown
    shown, _ = detail(SEALED_FOR_ALICE, View.JSON, Sealing(True, True, SEALED_INNER))
    assert json.loads(SEALED_FOR_ALICE)["sealed"]["ct"] in shown
    assert "[decrypted]" in shown  # offered, not drawn


def test_not_openable_says_so() -> None:
    shown, view = detail(SEALED_FOR_CAROL, View.DECRYPTED, Sealing(True, True, None))
    assert view is View.DECRYPTED
    assert NOT_FOR_US in shown
    assert DECRYPTED_LABEL not in shown


def test_a_plain_payload_has_no_decrypted_view() -> None:
    shown, view = detail(PLAIN, View.DECRYPTED, None)
    assert view is View.JSON  # the detected one
    assert "decrypted" not in shown
    assert "sealed)" not in shown


def test_standalone_shows_only_that_it_is_sealed() -> None:
    shown, view = detail(SEALED_FOR_ALICE, View.DECRYPTED, Sealing(can_open=False))
    assert view is View.JSON
    assert "(detected: json, sealed)" in shown
    assert "decrypted" not in shown
    assert NOT_FOR_US not in shown
