"""The ORM tables of the chat store. Times are integer milliseconds since the Unix
epoch (UTC) so they sort and compare exactly; enums are stored as their values."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mqchat.core.model import ContactStatus, DeliveryState, Direction

__all__ = ["Base", "ChangeRow", "ContactRow", "MessageRow", "MetaRow"]


def _one_of(column: str, values: type[StrEnum]) -> str:
    allowed = ", ".join(f"'{v.value}'" for v in values)
    return f"{column} IN ({allowed})"


class Base(DeclarativeBase):
    pass


class ContactRow(Base):
    __tablename__ = "contacts"
    __table_args__ = (CheckConstraint(_one_of("status", ContactStatus), name="ck_contacts_status"),)

    user: Mapped[str] = mapped_column(String, primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String)
    added_at: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(Text, server_default=ContactStatus.FRIEND.value)
    request_sent_ms: Mapped[int | None] = mapped_column(BigInteger)
    """When our ``friend_request`` to a ``requested`` contact went out; ``NULL`` while
    it is still to send."""


class MessageRow(Base):
    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(_one_of("direction", Direction), name="ck_messages_direction"),
        CheckConstraint(_one_of("state", DeliveryState), name="ck_messages_state"),
        # Keyset paging walks this index backwards from a (ts_ms, id) cursor.
        Index("ix_messages_conversation_ts", "conversation", "ts_ms", "id"),
        # Search walks all conversations newest first on this one (store/search.py).
        Index("ix_messages_ts", "ts_ms", "id"),
        # The outbox (out/pending) and unread counts (in/received), already in order.
        Index("ix_messages_direction_state", "direction", "state", "ts_ms", "id"),
        # One conversation's messages in a state (its unread count, marking it read)
        # without reading those of every other conversation (schema version 5).
        Index("ix_messages_conversation_state", "conversation", "direction", "state"),
    )

    id: Mapped[str] = mapped_column(String, primary_key=True)
    """The envelope id: a QoS 1 redelivery carries the same one and is stored once."""
    conversation: Mapped[str] = mapped_column(String)
    """The peer's user name, whichever way the message went."""
    direction: Mapped[str] = mapped_column(String)
    sender: Mapped[str] = mapped_column(String)
    recipient: Mapped[str] = mapped_column(String)
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    """The sender's clock, or ours when theirs was not believed: what the
    conversation is ordered by."""
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String)
    received_at_ms: Mapped[int] = mapped_column(BigInteger)
    """Our clock when the row was written."""
    claimed_ts_ms: Mapped[int | None] = mapped_column(BigInteger)
    """The sender's clock when it was set aside as implausible (``ts_ms`` then holds
    our time of arrival); ``NULL`` when ``ts_ms`` is the sender's clock."""
    edited_at_ms: Mapped[int | None] = mapped_column(BigInteger)
    """When the sender last edited the body (schema version 7); ``NULL``: never."""
    deleted: Mapped[bool] = mapped_column(Boolean, server_default=text("0"))
    """The sender deleted it: ``body`` is empty from then on (schema version 7)."""
    sealed: Mapped[bool] = mapped_column(Boolean, server_default=text("0"))
    """It travelled end-to-end encrypted (schema version 9)."""


class MetaRow(Base):
    """Small facts about this database file, such as the device id."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class DismissedRow(Base):
    """Friend requests the user ignored (those dated up to ``until_ms`` stay away, so
    a request the broker hands over again on every connection is not shown again)
    or, with ``blocked``, every request and message of that user."""

    __tablename__ = "dismissed"

    user: Mapped[str] = mapped_column(String, primary_key=True)
    until_ms: Mapped[int] = mapped_column(BigInteger)
    blocked: Mapped[bool] = mapped_column(Boolean)


class ChangeRow(Base):
    """Our edits and deletes (protocol v2) not yet acknowledged by the broker, as
    they go on the wire, in the order they were made (the rowid): a change made
    offline survives a restart (schema version 7)."""

    __tablename__ = "outgoing_changes"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    """The envelope id of the change."""
    peer: Mapped[str] = mapped_column(String)
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class RoomRow(Base):
    """A room as this device knows it (schema version 8, core/rooms.py): its members
    and admins as JSON lists of user names."""

    __tablename__ = "rooms"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    members: Mapped[str] = mapped_column(Text)
    admins: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(BigInteger)
    joined: Mapped[bool] = mapped_column(Boolean)


class PeerKeyRow(Base):
    """A device's public keys as this device trusts them (schema version 9,
    chat/encryption.py): the first ones seen for a user, or those that replaced
    them with a warning."""

    __tablename__ = "peer_keys"

    user: Mapped[str] = mapped_column(String, primary_key=True)
    device: Mapped[str] = mapped_column(String, primary_key=True)
    x25519: Mapped[bytes] = mapped_column(LargeBinary)
    ed25519: Mapped[bytes] = mapped_column(LargeBinary)
    seen_ms: Mapped[int] = mapped_column(BigInteger)


class PeerTrustRow(Base):
    """Where a user's keys stand (schema version 9): whether they have sent us
    something sealed (from then on nothing in plain text is taken from them), the
    digest of their keys when the user verified them, and when their keys last
    changed unverified."""

    __tablename__ = "peer_trust"

    user: Mapped[str] = mapped_column(String, primary_key=True)
    sealed: Mapped[bool] = mapped_column(Boolean)
    verified: Mapped[bytes | None] = mapped_column(LargeBinary)
    changed_ms: Mapped[int | None] = mapped_column(BigInteger)


class RoomReceiptRow(Base):
    """How far each member got with one of our messages to a room (schema 8)."""

    __tablename__ = "room_receipts"

    message_id: Mapped[str] = mapped_column(String, primary_key=True)
    member: Mapped[str] = mapped_column(String, primary_key=True)
    state: Mapped[str] = mapped_column(String)
