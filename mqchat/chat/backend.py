"""The contract between the TUI and whatever does the chatting. The UI knows only this
class; the real implementation is :class:`mqchat.chat.service.ChatService`, tests may
supply an in-memory one."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

from mqchat.core.devices import DeviceRecord
from mqchat.core.events import Event
from mqchat.core.model import ChatMessage, ConnectionState, Contact, ContactSummary, Presence
from mqchat.core.trust import KeyTrust

__all__ = ["ChatBackend", "DeviceRefused", "EventListener", "SendError"]

EventListener = Callable[[Event], None]


class SendError(Exception):
    """A message could not be sent or stored; the text says why."""


class DeviceRefused(Exception):
    """A device was not forgotten; the text says why, in one line."""


class ChatBackend(ABC):
    """One logged-in user on one broker.

    Events (:data:`mqchat.core.events.Event`) are delivered to the listener set with
    :meth:`set_listener`, on the event loop that runs :meth:`run`.
    """

    user: str
    display_name: str
    broker_label: str
    """``host:port`` of the broker, for titles; never contains credentials."""

    @abstractmethod
    def set_listener(self, listener: EventListener | None) -> None:
        """Receive every event from now on (one listener; ``None`` detaches)."""

    @property
    @abstractmethod
    def connection_state(self) -> ConnectionState:
        """The state of the MQTT connection right now."""

    @property
    @abstractmethod
    def rejected_count(self) -> int:
        """How many inbound messages were refused since start."""

    @abstractmethod
    async def run(self) -> None:
        """Open the store, connect, and keep the connection up (reconnecting with
        backoff) until :meth:`stop`. Returns when stopped or when connecting can
        never succeed (bad credentials); the reason is reported as a
        ``ConnectionChanged(FAILED, …)`` event first."""

    @abstractmethod
    async def stop(self) -> None:
        """Publish ``offline``, disconnect cleanly and close the store. Idempotent."""

    @abstractmethod
    def reconnect_now(self) -> None:
        """Waiting to reconnect (``retrying``): try again at once, and start the
        backoff afresh. Does nothing while connected or connecting."""

    @abstractmethod
    def abandon(self) -> None:
        """The app is crashing: leave the broker at once, without a goodbye, so that
        it publishes our Will and friends see us offline. :meth:`stop` still follows
        to close the rest."""

    @abstractmethod
    async def send_text(self, peer: str, body: str) -> ChatMessage:
        """Store a text message for ``peer`` in the outbox and return it at once, in
        state ``pending``. The backend publishes the outbox in order at QoS 1 whenever
        it is connected; each step (``sent`` on PUBACK, ``delivered``, ``read`` from
        the peer's receipts) is reported as a ``MessageStateChanged`` event. Raises
        :class:`SendError` for an empty or oversized body and
        :class:`~mqchat.core.names.InvalidUserName` for a bad peer."""

    @abstractmethod
    async def edit_text(self, peer: str, message_id: str, body: str) -> ChatMessage:
        """Replace the body of our message ``message_id`` to ``peer`` and return it as
        it is now (``edited`` set). Stored and shown at once (a ``MessageChanged``
        event), then published after whatever is queued before it (protocol v2's
        ``edit``; a v1 peer ignores it). Raises :class:`SendError` for an empty or
        oversized body, a message that is not ours, unknown or deleted."""

    @abstractmethod
    async def delete_text(self, peer: str, message_id: str) -> ChatMessage:
        """Delete our message ``message_id`` to ``peer``, for both sides: its body is
        gone from the store and from search. Returns it as it is now (``deleted``);
        a ``MessageChanged`` event follows, and protocol v2's ``delete`` is
        published. Raises :class:`SendError` as :meth:`edit_text` does."""

    @abstractmethod
    async def send_typing(self, peer: str) -> None:
        """Tell ``peer`` we are typing (QoS 0, never stored). Cheap to call on every
        key press: the backend sends at most one every few seconds, and nothing while
        disconnected."""

    async def start_room(self, name: str, members: Sequence[str]) -> str:
        """Start a room with ``members`` (we are its admin); returns its conversation
        key. Raises :class:`SendError` (or a ``ValueError``) saying why not."""
        raise SendError("this backend has no rooms")

    async def quit_room(self, key: str) -> None:
        """Leave the room of conversation ``key``; nothing more of it reaches us."""
        raise SendError("this backend has no rooms")

    async def read_by(self, ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        """For our room messages among ``ids`` (protocol v2): (members who read it,
        members but us). A backend without rooms has none."""
        return {}

    @abstractmethod
    async def contacts(self) -> list[ContactSummary]:
        """Contacts with unread count and last message, most recent activity first."""

    @abstractmethod
    async def contact(self, user: str) -> Contact | None:
        """The contact ``user`` as stored, or ``None``."""

    @abstractmethod
    async def add_contact(self, user: str) -> Contact:
        """Ask ``user`` to be a friend, or accept their request, and watch their
        presence. A new contact becomes ``requested`` and a ``friend_request`` is
        sent (now, or on the next connection); an ``incoming`` one becomes a
        ``friend`` and a ``friend_accept`` is sent; anything else is kept as it is.
        Raises :class:`~mqchat.core.names.InvalidUserName`."""

    @abstractmethod
    async def remove_contact(self, user: str) -> None:
        """Forget a contact, or ignore their request (the history stays), and stop
        watching their presence. They reappear as a request if they write again."""

    @abstractmethod
    async def dismiss_requests(self, users: list[str], *, block: bool) -> None:
        """Remove ``users`` at once (ignoring their requests, however many); with
        ``block``, take nothing of theirs from now on, until we add them ourselves."""

    @abstractmethod
    async def history(
        self, peer: str, *, before: ChatMessage | None = None, limit: int = 50
    ) -> list[ChatMessage]:
        """Up to ``limit`` messages of the conversation older than ``before`` (the
        newest page when ``None``), oldest first."""

    @abstractmethod
    async def search(
        self,
        text: str,
        *,
        peer: str | None = None,
        before: ChatMessage | None = None,
        limit: int = 50,
    ) -> list[ChatMessage]:
        """Up to ``limit`` stored messages matching ``text``, in the conversation with
        ``peer`` only if given, else in all of them; newest first. ``before`` (the
        last hit of a page) gives the next, older page.

        A message matches when every word of ``text`` starts one of its words,
        ignoring case and accents (:mod:`mqchat.core.search`): any text is safe to
        pass, quotes and operators are only separators, and a text without letters
        or digits finds nothing. Raises ``ValueError`` for a ``limit`` under 1."""

    @abstractmethod
    async def history_after(
        self, peer: str, after: ChatMessage | None, *, limit: int = 50
    ) -> list[ChatMessage]:
        """Up to ``limit`` messages of the conversation newer than ``after`` (the
        oldest page when ``None``), oldest first: for paging back down, or jumping to
        the beginning, without holding everything in between."""

    @abstractmethod
    async def mark_read(self, peer: str, up_to: ChatMessage | None = None) -> None:
        """Messages from ``peer`` up to ``up_to`` (in conversation order; all when
        ``None``) were on screen: they become read, their senders are told, and the
        unread count drops by as many. Newer ones, not seen yet, stay unread."""

    @abstractmethod
    def presence(self, user: str) -> Presence | None:
        """The last known presence of ``user`` (``None``: never seen)."""

    @abstractmethod
    def roster(self) -> list[Presence]:
        """Everyone whose presence is known, online first, then by most recent."""

    @abstractmethod
    async def watch_roster(self, on: bool) -> None:
        """Subscribe to (or leave) the presence of everyone in the namespace, for the
        presence view. Results arrive as ``PresenceChanged`` events."""

    @property
    @abstractmethod
    def this_device(self) -> str:
        """This device's id (protocol v2); empty until :meth:`run` has opened the
        store."""

    @abstractmethod
    def devices(self) -> list[DeviceRecord]:
        """The user's devices as their records say, this one first, then online ones,
        then the most recently seen. A ``DevicesChanged`` event says when it changes."""

    @abstractmethod
    async def forget_device(self, device: str) -> None:
        """Discard ``device``'s session at the broker (nothing more is queued for it)
        and clear its record (it leaves :meth:`devices`, with a ``DevicesChanged``
        event). Raises :class:`DeviceRefused` for this device, one whose record says
        online, a bad id, or while not connected."""

    def trust(self, user: str) -> KeyTrust:
        """Where ``user``'s end-to-end encryption keys stand (protocol v3): whether
        what we send them is sealed, whether plain text from them is refused, verified,
        changed. A ``TrustChanged`` event says when it changes. Without encryption:
        no keys."""
        return KeyTrust(user)

    def safety_number(self, user: str) -> str | None:
        """The safety number of our keys and ``user``'s as this device trusts them
        (60 digits, twelve groups of five, the same on their side); ``None`` while
        they have no keys."""
        return None

    async def verify(self, user: str) -> KeyTrust:
        """The user compared safety numbers with ``user``: mark their keys verified
        (a ``TrustChanged`` event follows)."""
        return self.trust(user)

    def unseal(self, topic: str, payload: bytes) -> bytes | None:
        """The envelope inside a sealed ``payload`` seen on ``topic``, opened here
        with this device's keys (the inspector's decrypted view); ``None`` for one
        that is not sealed for this device, or does not open. Changes nothing."""
        return None
