"""Turning what a person typed into a stored message and its wire bytes, with the
checks every sender applies (peer name, empty body, size limit)."""

from __future__ import annotations

from datetime import datetime

from mqchat.chat.backend import SendError
from mqchat.core.envelope import Text, encode_envelope
from mqchat.core.model import ChatMessage, DeliveryState, Direction
from mqchat.core.names import validate_user_name

__all__ = ["prepare_text"]


def prepare_text(
    sender: str, peer: str, body: str, *, max_payload: int, ts: datetime | None = None
) -> tuple[ChatMessage, bytes]:
    """A ``pending`` outgoing message and the envelope bytes to publish. Raises
    :class:`SendError` or :class:`~mqchat.core.names.InvalidUserName` with the reason."""
    validate_user_name(peer, what="recipient")
    if not body.strip():
        raise SendError("nothing to send: the message is empty")
    env = Text.new(sender, peer, body, ts=ts)
    data = encode_envelope(env)
    if len(data) > max_payload:
        raise SendError(f"message too long: {len(data)} bytes, the limit is {max_payload}")
    msg = ChatMessage(
        id=env.id,
        peer=peer,
        direction=Direction.OUT,
        sender=sender,
        recipient=peer,
        ts=env.ts,
        body=body,
        state=DeliveryState.PENDING,
    )
    return msg, data
