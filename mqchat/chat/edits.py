"""Editing and deleting one's own messages (protocol v2's ``edit`` and ``delete``):
the change is stored here at once, shown (``MessageChanged``), and published to the
peer after everything queued before it, so it reaches them after its target. What a
peer's change does here is :func:`receive_change`; the rule of who may change what
is :mod:`mqchat.core.edits`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from mqchat.chat.backend import SendError
from mqchat.chat.outbound import Outbound
from mqchat.core.edits import Outcome
from mqchat.core.envelope import Delete, Edit, encode_envelope
from mqchat.core.events import Event, MessageChanged
from mqchat.core.model import ChatMessage
from mqchat.core.names import validate_user_name
from mqchat.core.rooms import is_room_key
from mqchat.core.timing import effective_time
from mqchat.store import ChatStore, StoreError

__all__ = ["Edits", "receive_change"]


async def receive_change(
    store: ChatStore, env: Edit | Delete, *, arrived: datetime, max_age: timedelta
) -> tuple[Outcome, ChatMessage | None]:
    """Apply a change that arrived, if its sender sent the target (our own devices'
    changes to what we sent included). Dated as a text would be: a sender's clock
    too far from ours is not believed."""
    at, _claimed = effective_time(env.ts, arrived, max_age=max_age)
    body = env.body if isinstance(env, Edit) else None
    return await store.change_message(env.target, env.sender, body=body, at=at)


class Edits:
    """Our own edits and deletes, for :class:`~mqchat.chat.service.ChatService`."""

    def __init__(
        self,
        *,
        user: str,
        store: Callable[[], Awaitable[ChatStore]],
        outbound: Outbound,
        emit: Callable[[Event], None],
        clock: Callable[[], datetime],
        max_payload: int,
    ) -> None:
        self._user = user
        self._store = store
        self._outbound = outbound
        self._emit = emit
        self._clock = clock
        self._max_payload = max_payload

    def _to(self, peer: str) -> str:
        """Who a change is addressed to: the peer, or for a room ourselves (the
        outbox addresses a copy to each member, Rooms.fan_out_change)."""
        return self._user if is_room_key(peer) else peer

    async def edit(self, peer: str, message_id: str, body: str) -> ChatMessage:
        if not body.strip():
            raise SendError("not edited: the new text is empty (delete the message instead)")
        env = Edit.new(self._user, self._to(peer), message_id, body, ts=self._clock())
        data = encode_envelope(env)
        if len(data) > self._max_payload:
            raise SendError(f"not edited: {len(data)} bytes, the limit is {self._max_payload}")
        return await self._change(peer, message_id, body, env, data)

    async def delete(self, peer: str, message_id: str) -> ChatMessage:
        env = Delete.new(self._user, self._to(peer), message_id, ts=self._clock())
        return await self._change(peer, message_id, None, env, encode_envelope(env))

    async def _change(
        self, peer: str, message_id: str, body: str | None, env: Edit | Delete, data: bytes
    ) -> ChatMessage:
        if not is_room_key(peer):
            validate_user_name(peer, what="recipient")
        what = "edited" if body is not None else "deleted"
        store = await self._store()
        target = await store.get_message(message_id)
        if target is None or target.peer != peer:
            raise SendError(f"not {what}: no such message with {peer}")
        if target.sender != self._user:
            raise SendError(f"not {what}: only {target.sender} can change their message")
        if target.deleted:
            raise SendError(f"not {what}: the message is deleted")
        try:
            outcome, changed = await store.change_message(
                message_id, self._user, body=body, at=env.ts, publish=(env.id, peer, data)
            )
        except StoreError as exc:
            raise SendError(f"not {what}: the history cannot be written: {exc}") from exc
        if outcome is not Outcome.APPLIED or changed is None:
            raise SendError(f"not {what}: a later change was made already")
        self._emit(MessageChanged(changed))
        self._outbound.queue_change(changed, env.id, data)
        return changed
