"""``mqchat keys``: this device's keys, and safety numbers (protocol v3,
docs/protocol.md#encryption). The keys of a user's devices are read from their
retained records on a one-shot connection; what this device trusts, and marking a
peer verified, from and to its history."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from mqchat.chat.encryption_parts import identity_path, keys_digest
from mqchat.config.settings import Settings
from mqchat.core.model import utc_now
from mqchat.core.topics import parse_topic
from mqchat.crypto.identity import DeviceIdentity, KeyRecordError, PublicIdentity, verify_record
from mqchat.crypto.safety import safety_number
from mqchat.mqtt.link import open_link
from mqchat.mqtt.protocol import ProtocolChoice
from mqchat.mqtt.retained import retained_payloads
from mqchat.store import ChatStore
from mqchat.store.convert import to_ms
from mqchat.store.key_statements import StoredKey, StoredTrust

__all__ = ["Comparison", "Mine", "compare", "mark_verified", "mine"]

SETTLE = 0.3
"""Records come right after the SUBACK: all came once none did for this long."""


@dataclass(frozen=True, slots=True)
class Mine:
    user: str
    device: str
    public: PublicIdentity
    path: str


@dataclass(frozen=True, slots=True)
class Comparison:
    peer: str
    number: str
    """The safety number: 60 digits in twelve groups of five, the same both sides."""
    mine: dict[str, PublicIdentity]
    theirs: dict[str, PublicIdentity]
    trusted: dict[str, PublicIdentity]
    """The peer's keys this device trusts (empty: it never met them)."""
    verified: bool
    """This device marked these very keys verified before."""

    @property
    def differs(self) -> bool:
        """The broker shows other keys for the peer than this device trusts."""
        return bool(self.trusted) and self.trusted != self.theirs


@dataclass(frozen=True, slots=True)
class _Local:
    """What this data dir holds: its device, and what it trusts for one peer."""

    device: str
    trusted: dict[str, PublicIdentity]
    trust: StoredTrust


def _local(settings: Settings, peer: str) -> _Local:
    """One look at the history (made if there is none yet, as the chat would)."""

    async def read() -> _Local:
        async with await ChatStore.open(settings.database, within=settings.data_dir) as store:
            trusted = {
                k.device: PublicIdentity(k.user, k.device, k.x25519, k.ed25519)
                for k in await store.keys.all()
                if k.user == peer
            }
            trust = next((t for t in await store.keys.trust() if t.user == peer), None)
            return _Local(await store.device_id(), trusted, trust or StoredTrust(peer))

    return asyncio.run(read())


def _mine(settings: Settings, device: str) -> Mine:
    identity = DeviceIdentity.load_or_create(identity_path(settings.database))
    path = str(identity_path(settings.database))
    return Mine(settings.user, device, identity.public(settings.user, device), path)


def mine(settings: Settings) -> Mine:
    """This data dir's device and its public keys (made now if it has none yet).
    Raises :class:`~mqchat.store.StoreError` or
    :class:`~mqchat.crypto.identity.IdentityFileError`."""
    return _mine(settings, _local(settings, settings.user).device)


def published(settings: Settings, *users: str) -> dict[str, dict[str, PublicIdentity]]:
    """Each user's devices' keys as their retained records say (records that do not
    verify are left out). Raises :class:`~mqchat.mqtt.errors.LinkError`."""
    found: dict[str, dict[str, PublicIdentity]] = {user: {} for user in users}
    link = open_link(settings, ProtocolChoice.of(settings), role="keys")
    try:
        for user in users:
            topic_filter = f"{settings.namespace}/u/{user}/keys/+"
            for topic, payload in retained_payloads(link, topic_filter, settle=SETTLE).items():
                parsed = parse_topic(settings.namespace, topic)
                if parsed is None or parsed.device is None:
                    continue
                try:
                    found[user][parsed.device] = verify_record(
                        payload, user=user, device=parsed.device
                    )
                except KeyRecordError:
                    continue
    finally:
        link.close()
    return found


def compare(settings: Settings, peer: str) -> Comparison:
    """The safety number of this user's and ``peer``'s keys, as the broker has them
    (this device's own included, published or not). Raises
    :class:`~mqchat.mqtt.errors.LinkError`, :class:`~mqchat.store.StoreError`."""
    local = _local(settings, peer)
    me = _mine(settings, local.device)
    keys = published(settings, settings.user, peer)
    ours = keys[settings.user] | {me.device: me.public}
    theirs = keys[peer]
    number = safety_number(
        settings.user,
        [k.signing for k in ours.values()],
        peer,
        [k.signing for k in theirs.values()],
    )
    trusted, verified = local.trusted, local.trust.verified
    verified_now = verified is not None and verified == keys_digest(trusted)
    return Comparison(peer, number, ours, theirs, trusted, verified_now and trusted == theirs)


def mark_verified(settings: Settings, comparison: Comparison) -> None:
    """The user compared ``comparison``'s number with the peer's: its keys are the
    ones this device trusts for them from now on, verified."""

    async def mark() -> None:
        async with await ChatStore.open(settings.database, within=settings.data_dir) as store:
            peer = comparison.peer
            keys = [
                StoredKey(peer, d, k.agreement, k.signing)
                for d, k in sorted(comparison.theirs.items())
            ]
            await store.keys.replace(peer, keys, to_ms(utc_now()))
            old = next((t for t in await store.keys.trust() if t.user == peer), StoredTrust(peer))
            digest = keys_digest(comparison.theirs)
            await store.keys.save_trust(StoredTrust(peer, old.sealed, digest, None))

    asyncio.run(mark())
