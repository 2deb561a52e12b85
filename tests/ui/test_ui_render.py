"""The pure pieces of the UI: how times, presence, marks and rows are written."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from rich.console import Console

from mqchat.core.events import (
    ChatReceived,
    ConnectionChanged,
    ContactsChanged,
    MessageStateChanged,
    PeerTyping,
    PresenceChanged,
    Rejected,
    TrustChanged,
)
from mqchat.core.model import (
    ChatMessage,
    ConnectionState,
    Contact,
    ContactStatus,
    ContactSummary,
    DeliveryState,
    Direction,
    Presence,
    PresenceState,
)
from mqchat.core.trust import KeyTrust
from mqchat.screens.messages import (
    ChatReceivedMsg,
    ConnectionChangedMsg,
    ContactsChangedMsg,
    MessageStateChangedMsg,
    PeerTypingMsg,
    PresenceChangedMsg,
    RejectedMsg,
    TrustChangedMsg,
    message_for,
)
from mqchat.widgets.contact_list import contact_label, contact_row
from mqchat.widgets.log_window import advances
from mqchat.widgets.message_lines import SEALED, message_body, message_plain, message_texts
from mqchat.widgets.render import (
    MAX_BODY_CHARS,
    READ_STYLE,
    body_text,
    clock_time,
    connection_text,
    delivery_mark,
    name_text,
    presence_words,
    safe,
    short_when,
)
from tests.support.fake_backend import NOW, at


def test_times_are_local_and_short():
    assert short_when(at("09:07"), NOW) == "09:07"
    assert short_when(at("09:07", days_ago=1), NOW) == "21 Nov"
    assert short_when(datetime(2025, 3, 1, tzinfo=UTC), NOW) == "2025-03-01"


@pytest.mark.parametrize(
    ("presence", "expected"),
    [
        (None, ("◌", "never seen", "dim")),
        (Presence("b", PresenceState.ONLINE, at("13:02")), ("●", "online", "green")),
        (Presence("b", PresenceState.AWAY), ("◐", "away", "yellow")),
        (Presence("b", PresenceState.OFFLINE, at("13:40")), ("○", "last seen 13:40", "dim")),
        (Presence("b", PresenceState.OFFLINE), ("○", "offline", "dim")),
    ],
)
def test_presence_in_words_and_colour(presence, expected):
    assert presence_words(presence, NOW) == expected


def test_delivery_marks():
    assert [delivery_mark(s).plain for s in DeliveryState] == ["⏳", "✓", "✓✓", "✓✓", "✗", ""]
    assert str(delivery_mark(DeliveryState.READ).style) == READ_STYLE
    assert delivery_mark(DeliveryState.DELIVERED).style != delivery_mark(DeliveryState.READ).style


def test_states_only_move_forward():
    assert advances(DeliveryState.PENDING, DeliveryState.SENT)
    assert advances(DeliveryState.SENT, DeliveryState.READ)
    assert advances(DeliveryState.PENDING, DeliveryState.FAILED)
    assert advances(DeliveryState.FAILED, DeliveryState.SENT)  # a retry got through
    assert not advances(DeliveryState.READ, DeliveryState.DELIVERED)
    assert not advances(DeliveryState.SENT, DeliveryState.FAILED)


def test_connection_words():
    assert connection_text(ConnectionChanged(ConnectionState.CONNECTED)).plain == "● connected"
    retry = ConnectionChanged(ConnectionState.RETRYING, "refused\x1b[31m", retry_in=3.6)
    assert connection_text(retry).plain == "○ disconnected — retrying in 4s: refused[31m"
    failed = ConnectionChanged(ConnectionState.FAILED, "not authorised")
    assert connection_text(failed).plain == "✗ connection failed: not authorised"


def test_safe_text_is_never_markup():
    text = safe("[bold]x[/bold] \x1b[2J\x07")
    assert text.plain == "[bold]x[/bold] [2J"
    assert not text.spans


def _message(body: str, *, outgoing: bool = False) -> ChatMessage:
    return ChatMessage(
        id="m1",
        peer="bob",
        direction=Direction.OUT if outgoing else Direction.IN,
        sender="alice" if outgoing else "bob",
        recipient="bob" if outgoing else "alice",
        ts=at("14:02"),
        body=body,
        state=DeliveryState.SENT,
    )


def test_contact_row_is_exactly_as_wide_as_asked():
    summary = ContactSummary(
        Contact("bob", "A very long display name indeed"),
        unread=12,
        last_message=_message("first line\nsecond line " + "x" * 200, outgoing=True),
    )
    row = contact_row(summary, Presence("bob", PresenceState.ONLINE), NOW, 60)
    first, second = row.plain.split("\n")
    assert len(first) == len(second) == 60
    # the display name is cut, never the user name after it
    assert first.startswith("● A very long display … (bob) ") and first.endswith("12 new")
    assert second.startswith('  you: "first line"') and second.endswith("14:02")


def test_every_event_has_its_message():
    message = _message("hi")
    presence = Presence("bob", PresenceState.ONLINE)
    cases = [
        (ChatReceived(message), ChatReceivedMsg),
        (MessageStateChanged("m1", "bob", DeliveryState.READ), MessageStateChangedMsg),
        (PresenceChanged(presence), PresenceChangedMsg),
        (ConnectionChanged(ConnectionState.CONNECTED), ConnectionChangedMsg),
        (Rejected("t", "bad json", 1), RejectedMsg),
        (PeerTyping("bob"), PeerTypingMsg),
        (ContactsChanged("bob", Contact("bob", status=ContactStatus.INCOMING)), ContactsChangedMsg),
        (ContactsChanged("bob", None), ContactsChangedMsg),
        (TrustChanged(KeyTrust("bob", 1, verified=True)), TrustChangedMsg),
    ]
    for event, kind in cases:
        msg = message_for(event)
        assert type(msg) is kind and msg.event is event
        assert not msg.bubble


def test_a_request_row_says_so_and_invites_an_answer():
    request = ContactSummary(Contact("carol", status=ContactStatus.INCOMING))
    first, second = contact_row(request, None, NOW, 60).plain.split("\n")
    assert first.startswith("✉ carol") and "wants to be your friend" in first
    assert "never seen" not in first
    assert second.strip() == "y accepts · d ignores"
    pending = ContactSummary(Contact("dave", status=ContactStatus.REQUESTED))
    first, _ = contact_row(pending, Presence("dave", PresenceState.ONLINE), NOW, 60).plain.split(
        "\n"
    )
    assert first.startswith("◌ dave") and first.rstrip().endswith("request pending")


def test_a_typing_contact_shows_typing_instead_of_the_last_message():
    summary = ContactSummary(Contact("bob"), last_message=_message("see you"))
    _, second = contact_row(summary, None, NOW, 40, typing=True).plain.split("\n")
    assert second.strip() == "typing…"


def test_preview_is_the_first_non_blank_line_cut_early():
    summary = ContactSummary(
        Contact("bob"), last_message=_message("\n" * 5000 + "hi\x1b[2J" * 9999)
    )
    _, second = contact_row(summary, None, NOW, 40).plain.split("\n")
    assert second.startswith('  "hi[2Jhi[2J') and len(second) == 40


def test_long_display_names_are_cut_to_32_cells():
    label = contact_label("bob", "B" * 100, friend=True)
    assert label.plain == "B" * 31 + "… (bob)"
    assert contact_label("bob", "B" * 100).plain == "bob “" + "B" * 31 + "…”"
    assert name_text("界" * 40).cell_len == 32 and name_text("界" * 40).plain.endswith("…")
    assert contact_label("bob", "Bob\nthe builder", friend=True).plain == "Bob the builder (bob)"


def test_body_text_caps_lines_and_characters():
    assert body_text("short").plain == "short"
    many = body_text("line\n" * 100)
    assert many.plain.split("\n")[:40] == ["line"] * 40
    assert many.plain.split("\n")[40] == "… 301 more characters not shown"
    assert (
        body_text("x" * 5000).plain == "x" * MAX_BODY_CHARS + "\n… 1,000 more characters not shown"
    )
    exact = "y\n" * 39 + "y"
    assert body_text(exact).plain == exact  # 40 lines: nothing hidden
    note = body_text("z" * 5000).spans[-1]
    assert note.style == "dim italic"


def test_hostile_body_is_inert_in_a_row():
    body = "[bold red]x[/] \x1b[2J \u202eevil\u202c [link=http://e]y[/link]"
    [line] = message_texts(_message(body), DeliveryState.RECEIVED, "bob", 3, 80, Console())
    assert "[bold red]x[/] [2J evil [link=http://e]y[/link]" in line.plain
    assert not [span for span in line.spans if "x[/]" in line.plain[span.start : span.end]]
    assert message_body(_message(body)).plain == "[bold red]x[/] [2J evil [link=http://e]y[/link]"
    assert not message_body(_message(body)).spans


def test_a_message_dated_by_a_wrong_clock_is_flagged_with_the_claimed_time():
    pinned = replace(
        _message("from the future"), claimed_ts=datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    )
    plain = message_plain(pinned, pinned.state, "bob")
    assert plain.startswith("14:02 bob from the future\n")  # the arrival time
    assert "⚠ dated 9999-12-31 23:59 by their clock; shown when it arrived" in plain
    assert "⚠" not in message_plain(_message("on time"), DeliveryState.SENT, "bob")


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo"])
def test_dates_at_the_ends_of_the_calendar_are_written_in_any_time_zone(monkeypatch, zone):
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        first, last = datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
        assert short_when(first, NOW) == "0001-01-01" and len(clock_time(first)) == 5
        assert short_when(last, NOW) == "9999-12-31" and len(clock_time(last)) == 5
        seen = Presence("m", PresenceState.OFFLINE, first)
        assert presence_words(seen, NOW)[1] == "last seen 0001-01-01"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_a_stranger_cannot_pass_for_another_user():
    for name in ["Bob (bob)", "Bob (bob)" + " " * 40 + ".", "Bob\u200b (bob)", "Bob\u201d (bob)"]:
        label = contact_label("mallory", name, width=27).plain
        assert label.startswith("mallory “Bob") and label.endswith("”"), label
    row = contact_row(
        ContactSummary(Contact("mallory", "Bob (bob)" + " " * 30, status=ContactStatus.INCOMING)),
        None,
        NOW,
        80,
    )
    assert row.plain.startswith("✉ mallory “Bob (bob)”")


def test_a_sealed_message_ends_in_a_lock_and_keeps_its_columns():
    sealed = replace(_message("on my way"), sealed=True)
    plain = _message("on my way")
    assert message_body(sealed).plain == f"on my way {SEALED}"
    assert message_body(plain).plain == "on my way"  # as it always was
    edited = replace(sealed, edited=NOW)
    assert message_body(edited).plain == f"on my way (edited) {SEALED}"
    assert message_body(replace(sealed, deleted=True)).plain == "message deleted"
    [lock_line] = message_texts(sealed, DeliveryState.RECEIVED, "bob", 3, 60, Console())
    [plain_line] = message_texts(plain, DeliveryState.RECEIVED, "bob", 3, 60, Console())
    assert lock_line.cell_len == plain_line.cell_len == 60
    assert lock_line.plain.index("on my way") == plain_line.plain.index("on my way")


def test_contact_rows_show_verified_and_changed_keys():
    summary = ContactSummary(Contact("bob", "Bob"), unread=2)
    online = Presence("bob", PresenceState.ONLINE)

    def first(trust: KeyTrust | None) -> str:
        return contact_row(summary, online, NOW, 60, trust=trust).plain.split("\n")[0]

    assert first(None) == first(KeyTrust("bob", 1))  # encrypted, nothing to say
    assert "✓" not in first(None) and "⚠" not in first(None)
    verified = first(KeyTrust("bob", 1, verified=True))
    assert verified.startswith("● Bob (bob) ✓ ") and verified.endswith("2 new")
    assert verified.index("online") == first(None).index("online")  # the columns stay
    changed = first(KeyTrust("bob", 2, changed=at("14:03")))
    assert changed.endswith("⚠ keys changed  2 new") and "✓" not in changed
    assert len(verified) == len(changed) == 60
