"""End-to-end encryption for the chat (protocol v3, docs/protocol.md#encryption).

* **Keys.** This device's identity (``crypto/identity.py``) lives beside its
  history, 0600. Its signed public record is published retained on
  ``{ns}/u/{me}/keys/{device}``; every device holds ``{ns}/u/+/keys/+`` at QoS 1,
  so a key that changes while it is away waits for it, queued before whatever the
  peer sent with the new key.
* **Trust on first use.** The first keys seen for a user are trusted; keys that
  change later (a new device, new keys for a device) are trusted too, so the chat
  goes on, but the user is warned, and a verification no longer holds. A record that
  claims our own device, with other keys than ours, is refused.
* **Sending.** Every envelope for a user with keys is sealed for all of that user's
  devices and our own other ones (a copy to our own inbox, for our other devices
  only); envelopes for a user without keys go in plain text, and the conversation
  says so.
* **Receiving.** A sealed envelope is opened with the sender device's trusted keys,
  and its inner envelope must carry the outer id, sender and recipient. Once a user
  has sent us anything sealed, plain text from them is refused, never shown."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from mqchat.chat.encryption_parts import WAIT, Refused, Wait, identity_path, keys_digest
from mqchat.chat.subscriptions import Subscriptions
from mqchat.core.envelope import Envelope, EnvelopeError, Sealed, Unknown, parse_envelope
from mqchat.core.events import Event, Notice, TrustChanged
from mqchat.core.tasks import Background
from mqchat.core.topics import TopicKind, keys_topic, parse_topic
from mqchat.core.trust import KeyTrust
from mqchat.core.wire import format_ts
from mqchat.mqtt.errors import MqttError, PublishRefused
from mqchat.store import ChatStore
from mqchat.store.convert import from_ms, to_ms
from mqchat.store.key_statements import StoredKey, StoredTrust

# The cryptography package costs the first frame ~20 ms to import: mqchat.crypto is
# imported where it is used, once the chat runs (then it is a dictionary look-up).
if TYPE_CHECKING:
    from mqchat.crypto.identity import DeviceIdentity, PublicIdentity
    from mqchat.mqtt.session import Session

__all__ = ["ANNOUNCE_WAIT_S", "Encryption"]

log = logging.getLogger("mqchat.chat")

_MAX_TOPICS = 4096
_string = json.encoder.encode_basestring  # a JSON string as dump_object writes it
ANNOUNCE_WAIT_S = 2.0
"""How long a connection waits for our own keys to come back before it sends."""


class Encryption:
    """This device's keys, the peers' trusted keys, sealing and opening."""

    def __init__(
        self,
        *,
        user: str,
        namespace: str,
        store: Callable[[], Awaitable[ChatStore]],
        emit: Callable[[Event], None],
        clock: Callable[[], datetime],
        subscriptions: Subscriptions | None = None,
    ) -> None:
        self._user = user
        self._ns = namespace
        self._identity: DeviceIdentity | None = None  # read by start()
        self.device = ""
        """This device's id (set on start, from the store)."""
        self._echoed = asyncio.Event()  # our record came back on this connection
        self._subs = subscriptions
        self._client: Session | None = None
        self._told: set[str] = set()  # peers we said our keys again to, live
        self._background = Background(log, "publishing our keys").run
        self._store = store
        self._emit = emit
        self._clock = clock
        self._keys: dict[str, dict[str, PublicIdentity]] = {}
        self._trust: dict[str, StoredTrust] = {}
        self._owners: dict[str, str | None] = {}  # topic -> whose inbox/requests it is

    async def start(self, device: str, database: Path) -> str | None:
        """Read this device's keys (made now on first use) and the peers' trusted
        ones; or say why not, in one line."""
        from mqchat.crypto.identity import DeviceIdentity, IdentityFileError, PublicIdentity

        try:
            self._identity = DeviceIdentity.load_or_create(identity_path(database))
        except IdentityFileError as exc:
            return str(exc)
        self.device = device
        store = await self._store()
        for key in await store.keys.all():
            public = PublicIdentity(key.user, key.device, key.x25519, key.ed25519)
            self._keys.setdefault(key.user, {})[key.device] = public
        self._trust = {t.user: t for t in await store.keys.trust()}
        return None

    # --- what peers see of us ---------------------------------------------------

    @property
    def identity(self) -> DeviceIdentity:
        """This device's keys (once :meth:`start` read them)."""
        assert self._identity is not None, "Encryption.start() reads the keys first"
        return self._identity

    def record(self) -> bytes:
        return self.identity.record(self._user, self.device, self._clock())

    async def announce(self, client: Session, *, wait: float = ANNOUNCE_WAIT_S) -> None:
        """Publish our keys (retained), and wait until they come back to us: by then
        the broker has handed us the retained keys of everybody (our subscription
        came first), so nothing is sent in plain text to someone with keys."""
        self._echoed.clear()
        self._client, self._told = client, set()
        topic = keys_topic(self._ns, self._user, self.device)
        try:
            await client.publish(topic, self.record(), retain=True)
        except PublishRefused as exc:  # an ACL from before protocol v3
            log.warning("the broker refused our keys: %s", exc.reason)
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await self._echoed.wait()

    def peer_online(self, user: str) -> None:
        """``user`` came online: say our keys again, live, once per connection.
        RabbitMQ hands retained messages only to subscriptions without wildcards, so
        a peer there learns our keys only from a live publish."""
        client = self._client
        if client is None or user in self._told or not self.device:
            return
        self._told.add(user)
        topic = keys_topic(self._ns, self._user, self.device)

        async def say() -> None:
            with contextlib.suppress(MqttError, PublishRefused):
                await client.publish(topic, self.record(), retain=True)

        self._background(say())

    def disconnected(self) -> None:
        self._client = None

    @property
    def public(self) -> PublicIdentity:
        return self.identity.public(self._user, self.device)

    # --- the peers' keys --------------------------------------------------------

    def _stored(self, user: str) -> StoredTrust:
        return self._trust.get(user) or StoredTrust(user)

    def trust(self, user: str) -> KeyTrust:
        keys = self._keys.get(user, {})
        if user == self._user:
            keys = {d: k for d, k in keys.items() if d != self.device}
        stored = self._stored(user)
        return KeyTrust(
            user,
            devices=len(keys),
            sealed=stored.sealed,
            verified=stored.verified is not None and stored.verified == keys_digest(keys),
            changed=None if stored.changed_ms is None else from_ms(stored.changed_ms),
        )

    def devices(self, user: str) -> dict[str, PublicIdentity]:
        return dict(self._keys.get(user, {}))

    def encrypts_to(self, user: str) -> bool:
        """Whether what we send ``user`` now is sealed."""
        return any(d != self.device for d in self._keys.get(user, ()))

    def knows(self, user: str, device: str) -> bool:
        return device in self._keys.get(user, {})

    async def record_arrived(self, user: str, device: str, payload: bytes) -> str | None:
        """A device's key record came (or was cleared): trust it, or say why not."""
        known = self._keys.get(user, {})
        if not payload:
            if device in known and device != self.device:
                keys = {d: k for d, k in known.items() if d != device}
                await self._save(user, keys, changed=False)
            return None
        from mqchat.crypto.identity import KeyRecordError, verify_record

        try:
            public = verify_record(payload, user=user, device=device)
        except KeyRecordError as exc:
            return f"a key record that is not usable: {exc}"
        if user == self._user and device == self.device:
            if public != self.public:
                return "a key record for this very device, with other keys than its own"
            self._echoed.set()
            return None
        if known.get(device) == public:
            return None
        first = not any(d != self.device for d in known)
        await self._save(user, known | {device: public}, changed=not first)
        return None

    async def _save(self, user: str, keys: dict[str, PublicIdentity], *, changed: bool) -> None:
        store = await self._store()
        now = to_ms(self._clock())
        stored = [StoredKey(user, d, k.agreement, k.signing) for d, k in sorted(keys.items())]
        await store.keys.replace(user, stored, now)
        self._keys[user] = keys
        if changed and user == self._user:  # the devices list shows them all
            self._emit(Notice("A new device of yours", "What you send is sealed for it too."))
        elif changed:
            old = self._stored(user)
            await self._save_trust(StoredTrust(user, old.sealed, old.verified, now))
            self._emit(
                Notice(
                    f"⚠ {user}'s keys changed",
                    f"A new device or new keys for {user}. Check it is really them: compare "
                    f"safety numbers (ctrl+k in the conversation, or mqchat keys verify {user}).",
                    severity="error",
                )
            )
        self._emit(TrustChanged(self.trust(user)))

    async def _save_trust(self, trust: StoredTrust) -> None:
        await (await self._store()).keys.save_trust(trust)
        self._trust[trust.user] = trust

    async def verify(self, user: str) -> KeyTrust:
        """The user compared safety numbers with ``user``: these keys are verified."""
        keys = self._keys.get(user, {})
        old = self._stored(user)
        await self._save_trust(StoredTrust(user, old.sealed, keys_digest(keys), None))
        trust = self.trust(user)
        self._emit(TrustChanged(trust))
        return trust

    def safety_number(self, user: str) -> str:
        from mqchat.crypto.safety import safety_number

        mine = [k.signing for k in self._keys.get(self._user, {}).values()]
        if self.public.signing not in mine:
            mine.append(self.public.signing)
        theirs = [k.signing for k in self._keys.get(user, {}).values()]
        return safety_number(self._user, mine, user, theirs)

    # --- sending ------------------------------------------------------------------

    def seal_for_topic(self, topic: str, payload: bytes) -> bytes:
        """What goes to an inbox or a requests topic (``Session.before_publish``),
        sealed for the devices of the user whose topic it is (:meth:`seal`)."""
        owner = self._owners.get(topic, "")
        if owner == "":
            parsed = parse_topic(self._ns, topic)
            addressed = parsed is not None and parsed.kind in (TopicKind.INBOX, TopicKind.REQUEST)
            owner = parsed.user if parsed is not None and addressed else None
            if len(self._owners) > _MAX_TOPICS:
                self._owners.clear()
            self._owners[topic] = owner
        return payload if owner is None else self.seal(payload, owner)

    def seal(self, payload: bytes, for_user: str) -> bytes:
        """``payload`` (one of our envelopes) sealed for every device of ``for_user``,
        and our other devices; as it is when ``for_user`` has no keys."""
        from mqchat.crypto.seal import Binding, seal

        obj = json.loads(payload)
        if obj.get("type") == Sealed.type:
            return payload
        to = obj["to"]
        recipients = [k for d, k in self._keys.get(for_user, {}).items() if d != self.device]
        if not recipients:
            return payload
        if for_user != self._user:
            mine = self._keys.get(self._user, {})
            recipients += [k for d, k in mine.items() if d != self.device]
        binding = Binding(obj["id"], Sealed.type, self._user, to)
        sealed = seal(payload, binding, self.identity, self.device, recipients)
        ts = obj.get("ts") or format_ts(self._clock())
        # What dump_object writes for these fields, without json.dumps's cost.
        head = (
            f'{{"v":3,"id":{_string(obj["id"])},"type":"{Sealed.type}",'
            f'"from":{_string(self._user)},"to":{_string(to)},"ts":{_string(ts)},"sealed":'
        )
        return head.encode() + sealed + b"}"

    # --- receiving ----------------------------------------------------------------

    async def unwrap(
        self, env: Envelope | Sealed | Unknown, *, final: bool, max_size: int
    ) -> Envelope | Unknown | Wait:
        """``env`` as it may be taken: opened if sealed, checked if not. Raises
        :class:`Refused`; :data:`WAIT` for one sealed by a device whose keys have not
        come yet, unless ``final``."""
        if not isinstance(env, Sealed):
            self.check_plain(env)
            return env
        if not final and self.waits_for_key(env):
            return WAIT
        return await self.open(env, max_size=max_size)

    def peek(self, topic: str, payload: bytes) -> bytes | None:
        """The inner envelope of a sealed ``payload`` seen on ``topic`` (the
        inspector's decrypted view), if it is one this device can open: sealed for it,
        by a device whose keys it trusts. Changes nothing; ``None`` otherwise."""
        from mqchat.crypto.seal import SealError

        parsed = parse_topic(self._ns, topic)
        if parsed is None or parsed.kind not in (TopicKind.INBOX, TopicKind.REQUEST):
            return None
        try:
            env = parse_envelope(payload, max_size=len(payload) + 1)
            if not isinstance(env, Sealed) or env.sender != parsed.sender:
                return None
            return self._plain(env)
        except (EnvelopeError, SealError):
            return None

    def _plain(self, env: Sealed) -> bytes | None:
        """What ``env`` holds; ``None`` when its sender's device has no trusted keys.
        Raises :class:`~mqchat.crypto.seal.SealError`."""
        from mqchat.crypto.seal import Binding, open_sealed, sealed_by

        sender = self._keys.get(env.sender, {}).get(sealed_by(env.box))
        if sender is None:
            return None
        binding = Binding(env.id, Sealed.type, env.sender, env.recipient)
        return open_sealed(env.box, binding, self.identity, self._user, self.device, sender)

    def waits_for_key(self, env: Sealed) -> bool:
        """Whether ``env`` comes from a device whose keys have not come yet."""
        from mqchat.crypto.seal import SealError, sealed_by

        try:
            device = sealed_by(env.box)
        except SealError:
            return False
        if self.knows(env.sender, device):
            return False
        if self._subs is not None:  # ask for its record by name (see peer_online)
            with contextlib.suppress(ValueError):
                self._subs.fetch(keys_topic(self._ns, env.sender, device))
                self._background(self._subs.sync())
        return True

    def check_plain(self, env: Envelope | Unknown) -> None:
        """Raises :class:`Refused` for plain text from a user who has sent us sealed
        envelopes before (no downgrade)."""
        if self._stored(env.sender).sealed:
            raise Refused(f"a {env.type} in plain text from {env.sender}, who encrypts: refused")

    async def open(self, env: Sealed, *, max_size: int) -> Envelope | Unknown:
        """The envelope inside ``env``. Raises :class:`Refused`."""
        from mqchat.crypto.seal import NotForUs, SealError

        try:
            plain = self._plain(env)
            if plain is None:
                raise Refused(f"sealed by a device of {env.sender} whose keys we do not have")
            inner = parse_envelope(plain, max_size=max_size, encrypted=True)
        except (SealError, EnvelopeError) as exc:
            why = f"a sealed message from {env.sender} that does not open: {exc}"
            raise Refused(why, quiet=isinstance(exc, NotForUs)) from None
        if isinstance(inner, Sealed) or (inner.id, inner.sender, inner.recipient) != (
            env.id,
            env.sender,
            env.recipient,
        ):
            raise Refused(f"a sealed message from {env.sender} whose inside says otherwise")
        if not (old := self._stored(env.sender)).sealed:
            await self._save_trust(StoredTrust(env.sender, True, old.verified, old.changed_ms))
            self._emit(TrustChanged(self.trust(env.sender)))
        return inner
